"""Gather the precision corpus: real Dockerfiles from snapshots of public GitHub repositories.

    .venv/bin/python benchmarks/precision/gather.py [--mirror DIR] [--cap N]

Reads bare git snapshots (one per repository, as `<owner>+<name>/repo`) under the mirror
directory, takes every Dockerfile-named file of the newest commit (templates and other
non-Dockerfiles excluded), drops contents already in the shared corpus or seen before (by
sha256, raw and whitespace-normalised), keeps at most --cap files per repository (chosen by the
sha256 of their path, so the choice is stable and spread over a repository's variants) and
writes them under corpus/<owner>__<repo>/<path with / replaced by __> with corpus/MANIFEST.tsv.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SHARED = REPO_ROOT.parent / "shared" / "corpus" / "dockerfiles"
CORPUS = HERE / "corpus"

# Kept aside for an independent check: never part of this corpus.
EXCLUDED_REPOS = {"jessfraz/dockerfiles", "vimagick/dockerfiles", "tianon/dockerfiles"}

# Repositories in the corpus, in the order they are read (earlier ones win on duplicates).
REPOS = [
    # official images' own repositories
    "docker-library/python",
    "docker-library/php",
    "docker-library/golang",
    "docker-library/ruby",
    "docker-library/postgres",
    "docker-library/mysql",
    "redis/docker-library-redis",
    "docker-library/httpd",
    "nginxinc/docker-nginx",
    "nodejs/docker-node",
    "docker-library/buildpack-deps",
    "docker-library/wordpress",
    "docker-library/drupal",
    "docker-library/memcached",
    "docker-library/rabbitmq",
    "docker-library/mongo",
    "docker-library/ghost",
    "docker-library/tomcat",
    "docker-library/haproxy",
    "docker-library/julia",
    "docker-library/pypy",
    "docker-library/docker",
    "docker-library/cassandra",
    "docker-library/redmine",
    "MariaDB/mariadb-docker",
    "adoptium/containers",
    "dotnet/dotnet-docker",
    "erlang/docker-erlang-otp",
    "swiftlang/swift-docker",
    "influxdata/influxdata-docker",
    "rust-lang/docker-rust",
    "caddyserver/caddy-docker",
    "nextcloud/docker",
    "jenkinsci/docker",
    # image collections
    "docker/awesome-compose",
    "devcontainers/images",
    "microsoft/vscode-dev-containers",
    "jupyter/docker-stacks",
    "rocker-org/rocker-versioned2",
    "sclorg/s2i-python-container",
    "SeleniumHQ/docker-selenium",
    "webdevops/Dockerfile",
    "demisto/dockerfiles",
    "OpenVisualCloud/Dockerfiles",
    "HariSekhon/Dockerfiles",
    "CentOS/CentOS-Dockerfiles",
    "fedora-cloud/Fedora-Dockerfiles",
    "clearlinux/dockerfiles",
    "schickling/dockerfiles",
    "Wonderfall/dockerfiles",
    "pandoc/dockerfiles",
    "nfnty/dockerfiles",
    "firecat53/dockerfiles",
    "kstaken/dockerfile-examples",
    "moby/buildkit",
    # Python projects
    "getsentry/self-hosted",
    "zulip/docker-zulip",
    "paperless-ngx/paperless-ngx",
    "jupyterhub/jupyterhub",
    "bram2w/baserow",
    "RolnickLab/antenna",
    "chroma-core/chroma",
    "DefectDojo/django-DefectDojo",
    "MuckRock/squarelet",
    "Netflix/dispatch",
    "Skyscanner/whispers",
    "locustio/locust",
    "meltano/meltano",
    "mozilla/treeherder",
    "bookwyrm-social/bookwyrm",
    "zeeguu/api",
    "python/pythondotorg",
    "microsoft/markitdown",
    "sodadata/soda-core",
    "aboutcode-org/scancode.io",
    "evidentlyai/evidently",
    "blue-yonder/tsfresh",
    "CTFd/CTFd",
    "psf/black",
]

_NAME = re.compile(
    r"^(Dockerfile|Containerfile)([._-].*)?$|.*\.(Dockerfile|dockerfile|Containerfile)$"
)
# Dockerfile-named files that are not Dockerfiles (templates, scripts, docs).
_NOT_DOCKERFILE = re.compile(
    r"\.(md|dockerignore|template|tmpl|tpl|j2|jinja2?|erb|in|sh|py|go|json|ya?ml|txt|bak|orig|"
    r"patch|diff|swp|rej|m4|mustache|hbs|ejs|ps1|cmd|bat|lock|sum|mod)$",
    re.IGNORECASE,
)
_TEMPLATE_MARK = re.compile(r"\{\{|\{%|%%[A-Z_]+%%|@@[A-Z_]+@@")
MAX_BYTES = 200_000
# Parser test cases (deliberate edge cases and invalid files), not Dockerfiles anyone builds.
_TEST_DIRS = re.compile(r"(^|/)(testdata|testfiles[^/]*|testfile-line|fixtures)/")


def norm_hash(data: bytes) -> str:
    return hashlib.sha256(b"\n".join(ln.rstrip() for ln in data.strip().splitlines())).hexdigest()


def shared_hashes() -> set[str]:
    seen: set[str] = set()
    for path in SHARED.iterdir():
        if path.is_file() and path.name != "MANIFEST.tsv":
            data = path.read_bytes()
            seen.add(hashlib.sha256(data).hexdigest())
            seen.add(norm_hash(data))
    return seen


def git(gitdir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(gitdir), *args], check=True, capture_output=True).stdout


def gitdir_of(mirror: Path, repo: str) -> Path | None:
    base = mirror / repo.replace("/", "+") / "repo"
    for cand in (base / ".git", base):
        if (cand / "HEAD").exists():
            return cand
    return None


def is_candidate(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        bool(_NAME.match(name)) and not _NOT_DOCKERFILE.search(name) and not _TEST_DIRS.search(path)
    )


def looks_like_dockerfile(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if _TEMPLATE_MARK.search(text):
        return False
    return bool(re.search(r"^\s*FROM\s", text, re.IGNORECASE | re.MULTILINE))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--cap", type=int, default=100, help="most files kept per repository")
    args = ap.parse_args()

    seen = shared_hashes()
    in_shared = 0
    rows: list[tuple[str, str, str, str, str]] = []
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir(parents=True)
    for repo in REPOS:
        assert repo not in EXCLUDED_REPOS
        gitdir = gitdir_of(args.mirror, repo)
        if gitdir is None:
            print(f"{repo}: no snapshot, skipped", file=sys.stderr)
            continue
        commit = git(gitdir, "rev-parse", "HEAD").decode().strip()
        listing = git(gitdir, "ls-tree", "-r", "-z", "--full-tree", "HEAD").split(b"\0")
        paths = []
        for entry in listing:
            if not entry:
                continue
            meta, path = entry.decode("utf-8", "replace").split("\t", 1)
            mode, kind, _obj = meta.split()
            if kind == "blob" and mode in ("100644", "100755") and is_candidate(path):
                paths.append(path)
        paths.sort(key=lambda p: hashlib.sha256(p.encode()).hexdigest())
        kept = 0
        owner_repo = repo.replace("/", "__")
        for path in paths:
            if kept >= args.cap:
                break
            data = git(gitdir, "show", f"{commit}:{path}")
            if len(data) > MAX_BYTES or not looks_like_dockerfile(data):
                continue
            raw, norm = hashlib.sha256(data).hexdigest(), norm_hash(data)
            if raw in seen or norm in seen:
                in_shared += 1
                continue
            seen.update((raw, norm))
            stored = Path(owner_repo) / path.replace("/", "__")
            (CORPUS / stored).parent.mkdir(parents=True, exist_ok=True)
            (CORPUS / stored).write_bytes(data)
            rows.append((repo, commit, path, raw, str(stored)))
            kept += 1
        print(f"{repo}: {kept} of {len(paths)} at {commit[:12]}", file=sys.stderr)
    with open(CORPUS / "MANIFEST.tsv", "w", encoding="utf-8") as out:
        out.write("repo\tcommit\tpath\tsha256\tfile\n")
        for row in sorted(rows, key=lambda r: r[4]):
            out.write("\t".join(row) + "\n")
    print(
        f"{len(rows)} files from {len({r[0] for r in rows})} repositories "
        f"({in_shared} duplicates or shared-corpus files skipped)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
