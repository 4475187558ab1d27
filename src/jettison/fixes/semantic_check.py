"""Does a safe fix leave the image the same? Build it before and after, and compare.

What is compared is what the image *is* and *does*: its config (entrypoint, cmd, env,
user, workdir, ports, labels, healthcheck, volumes, stop signal, shell, onbuild) and its
filesystem (every path, with its type, mode, owner, link target and content hash). Two
builds of the same Dockerfile already differ (timestamps inside byte code, apt's logs, a
package mirror that moved on), so the original is built twice without cache, and what
differs between those two builds is the build's own noise, not the fix's.

Every difference left must be one an applied fix declares in its rule (``image_changes``
of the rule declaration): JT101 may remove
``/var/lib/apt/lists/*``, JT103 pip's cache, JT304 turns a shell-form command into its exec
form... Anything else is an undeclared difference: the fix changed what the image is.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.errors import JettisonError
from jettison.rules.registry import ImageChanges, all_rules

# the parts of an image's config that decide what a container of it does
CONFIG_KEYS = (
    "Entrypoint",
    "Cmd",
    "Env",
    "User",
    "WorkingDir",
    "ExposedPorts",
    "Labels",
    "Healthcheck",
    "Volumes",
    "StopSignal",
    "Shell",
    "OnBuild",
)


def declared_changes() -> dict[str, ImageChanges]:
    """Each safe fix's declared effect on the image, from its rule's declaration."""
    return {r.code: r.image_changes for r in all_rules() if r.image_changes != ImageChanges()}


# the .dockerignore fixes may drop from the image what the build no longer sends
IGNORE_FIXES = ("JT601", "JT602")


@dataclass(frozen=True)
class FileEntry:
    kind: str  # file, dir, symlink, hardlink, char, block, fifo
    mode: int
    uid: int
    gid: int
    link: str = ""
    digest: str = ""


@dataclass
class ImageSnapshot:
    config: dict[str, Any]
    files: dict[str, FileEntry]
    # Debian's package database: package -> version, and package -> the paths it installed
    # (to tell a mirror update between two builds from a change a fix made)
    packages: dict[str, str] = field(default_factory=dict)
    package_files: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    where: str  # "config" or "file"
    path: str  # the config key, or the absolute path
    what: str  # removed, added, or "changed: mode, digest"

    def __str__(self) -> str:
        return f"{self.where} {self.path}: {self.what}"


@dataclass
class SemanticResult:
    """The original built twice (``noise``: what differs between those two builds), then
    the fixed file; ``allowed``: differences an applied fix declares; ``undeclared``: the
    rest, each one a change in what the image is."""

    applied: list[str]
    noise: set[str] = field(default_factory=set)
    allowed: list[Difference] = field(default_factory=list)
    undeclared: list[Difference] = field(default_factory=list)
    error: str = ""  # the fix or the fixed file's build failed: a failed check
    skipped: str = ""  # nothing to check: no safe fix applies, or the original fails

    @property
    def ok(self) -> bool:
        return not self.error and not self.undeclared

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "ok": self.ok,
            "error": self.error,
            "skipped": self.skipped,
            "noise_paths": len(self.noise),
            "allowed": [str(d) for d in self.allowed],
            "undeclared": [str(d) for d in self.undeclared],
        }


_KINDS = {
    b"0": "file",
    b"\0": "file",
    b"1": "hardlink",
    b"2": "symlink",
    b"3": "char",
    b"4": "block",
    b"5": "dir",
    b"6": "fifo",
    b"7": "file",
}


class _Chunks(io.RawIOBase):
    """A readable stream over an iterator of byte chunks (the engine's export stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


_DPKG_STATUS = "/var/lib/dpkg/status"
_DPKG_LIST = re.compile(r"^/var/lib/dpkg/info/([^/:]+)(?::[^/]+)?\.list$")


def read_filesystem(
    stream: io.RawIOBase | io.BufferedIOBase, kept: dict[str, bytes] | None = None
) -> dict[str, FileEntry]:
    """Every path of a flattened filesystem tar (``docker export``), hashed as it streams;
    ``kept`` receives the content of Debian's package database (status and file lists)."""
    import tarfile

    files: dict[str, FileEntry] = {}
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            # `./x` or `x`; a dotfile keeps its dot (`.env` is not `/env`)
            path = "/" + member.name.removeprefix("./").lstrip("/").rstrip("/")
            kind = _KINDS.get(member.type, "other")
            digest = ""
            if member.isreg():
                sha = hashlib.sha256()
                keep = kept is not None and (path == _DPKG_STATUS or _DPKG_LIST.match(path))
                content: list[bytes] = []
                handle = tar.extractfile(member)
                if handle is not None:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):  # type: ignore[misc]
                        sha.update(block)
                        if keep:
                            content.append(block)
                digest = sha.hexdigest()
                if keep and kept is not None:
                    kept[path] = b"".join(content)
            files[path] = FileEntry(
                kind, member.mode & 0o7777, member.uid, member.gid, member.linkname, digest
            )
    return files


def _package_database(kept: dict[str, bytes]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(package -> version, package -> installed paths) from dpkg's status and lists."""
    versions: dict[str, str] = {}
    for stanza in kept.get(_DPKG_STATUS, b"").decode("utf-8", "replace").split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if "Package" in fields and "Version" in fields:
            versions[fields["Package"]] = fields["Version"]
    owned: dict[str, set[str]] = {}
    for path, data in kept.items():
        found = _DPKG_LIST.match(path)
        if found:
            text = data.decode("utf-8", "replace")
            owned.setdefault(found.group(1), set()).update(text.split("\n"))
    return versions, owned


def snapshot(image: str, sdk: Any) -> ImageSnapshot:
    """The config and the whole filesystem of ``image`` (a container is created, exported,
    and removed; it never runs)."""
    from jettison.engine.export import container_filesystem
    from jettison.engine.images import image_attrs

    config = image_attrs(image, sdk).get("Config") or {}
    wanted = {key: config.get(key) for key in CONFIG_KEYS}
    kept: dict[str, bytes] = {}
    with container_filesystem(image, {"org.jettison.semantic-check": "1"}) as chunks:
        files = read_filesystem(_Chunks(chunks), kept)
    return ImageSnapshot(wanted, files, *_package_database(kept))


def differences(a: ImageSnapshot, b: ImageSnapshot) -> list[Difference]:
    found: list[Difference] = []
    for key in CONFIG_KEYS:
        if a.config.get(key) != b.config.get(key):
            found.append(
                Difference("config", key, f"{a.config.get(key)!r} -> {b.config.get(key)!r}")
            )
    for path in sorted(a.files.keys() | b.files.keys()):
        old, new = a.files.get(path), b.files.get(path)
        if old == new:
            continue
        if new is None:
            found.append(Difference("file", path, "removed"))
        elif old is None:
            found.append(Difference("file", path, "added"))
        else:
            what = [
                name
                for name in ("kind", "mode", "uid", "gid", "link", "digest")
                if getattr(old, name) != getattr(new, name)
            ]
            found.append(Difference("file", path, "changed: " + ", ".join(what)))
    return found


def _matches(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)


def _ignored(path: str, patterns: Sequence[str]) -> bool:
    """Is a path one a .dockerignore pattern dropped (any of its trailing parts)?"""
    parts = path.strip("/").split("/")
    for pattern in patterns:
        bare = pattern.removeprefix("**/").strip("/")
        for i in range(len(parts)):
            if fnmatch.fnmatchcase("/".join(parts[i:]), bare) or fnmatch.fnmatchcase(
                parts[i], bare
            ):
                return True
    return False


def judge(
    first: ImageSnapshot,
    second: ImageSnapshot,
    fixed: ImageSnapshot,
    applied: Sequence[str],
    ignore_patterns: Sequence[str] = (),
    written: Sequence[bytes] = (),
) -> SemanticResult:
    """``first`` and ``second``: the original built twice; ``fixed``: after the fixes.

    ``written``: the files the fix wrote (the Dockerfile, a .dockerignore). A build that
    copies its whole context ships them, so a file of the image whose content is exactly
    one of them is the fix itself, not a change it made to the image.
    """
    noise = {d.path for d in differences(first, second)}
    # a file named at random each build (uv's /tmp/uv-setuptools-<hex>.lock, a tempfile):
    # the two builds of the original differ by its name, the fixed one has a third name
    noise_shapes = {_shape(p) for p in noise}
    own = {hashlib.sha256(data).hexdigest() for data in written}
    result = SemanticResult(list(applied), noise)
    declared = declared_changes()
    allowances = [declared[code] for code in applied if code in declared]
    may_drop_ignored = any(code in IGNORE_FIXES for code in applied)
    for diff in differences(second, fixed):
        if diff.path in noise or (
            _shape(diff.path) != diff.path and _shape(diff.path) in noise_shapes
        ):
            continue
        now = fixed.files.get(diff.path)
        if diff.where == "file" and diff.what != "removed" and now and now.digest in own:
            result.allowed.append(diff)
            continue
        if diff.where == "config":
            ok = any(diff.path in a.config for a in allowances)
        elif diff.what == "removed":
            ok = any(_matches(diff.path, a.removed) for a in allowances) or (
                may_drop_ignored and _ignored(diff.path, ignore_patterns)
            )
            # a removed directory's parent gets a new mtime only, which is not compared
        elif diff.what == "added":
            ok = False
        else:
            ok = any(_matches(diff.path, a.changed + a.removed) for a in allowances)
        (result.allowed if ok else result.undeclared).append(diff)
    # a directory that only held what a fix removes goes with it (pip's ~/.cache)
    allowed_gone = [d.path for d in result.allowed if d.what == "removed"]
    for diff in list(result.undeclared):
        if diff.what == "removed" and second.files[diff.path].kind == "dir":
            inside = [p for p in second.files if p.startswith(diff.path + "/")]
            if inside and all(p in allowed_gone or p in noise for p in inside):
                result.undeclared.remove(diff)
                result.allowed.append(diff)
    # unpinned requirements: the index gave the fixed build another version than both
    # builds of the original (idna 3.21 -> 3.20). No fix chooses versions; the check cannot
    # tell what else changed, so it is inconclusive, not a pass and not a failure
    swaps = _version_swaps(result.undeclared)
    if swaps and all(_SITE.search(d.path) for d in result.undeclared):
        result.skipped = (
            "inconclusive: the package index resolved another version for the fixed build "
            f"({', '.join(swaps)}; the requirements are not pinned)"
        )
        result.noise |= {d.path for d in result.undeclared}
        result.undeclared = []
    # the same for Debian's mirror: a package both original builds got in one version and
    # the fixed build in another (a security update published between the builds)
    moved = _package_swaps(first, second, fixed)
    if moved and result.undeclared:
        owned = {_DPKG_STATUS, _DPKG_STATUS + "-old"}
        for name in moved:
            owned |= second.package_files.get(name, set()) | fixed.package_files.get(name, set())
        info = re.compile(
            r"^/var/lib/dpkg/info/("
            + "|".join(map(re.escape, moved))
            + r")(:[^/.]+)?\.[a-z0-9_-]+$"
        )
        if all(
            d.path in owned or info.match(d.path) or d.path.startswith("/var/log/apt/")
            for d in result.undeclared
        ):
            changes = ", ".join(f"{n} {second.packages[n]} -> {fixed.packages[n]}" for n in moved)
            result.skipped = (
                f"inconclusive: the Debian mirror gave the fixed build another version ({changes})"
            )
            result.noise |= {d.path for d in result.undeclared}
            result.undeclared = []
    return result


def _package_swaps(first: ImageSnapshot, second: ImageSnapshot, fixed: ImageSnapshot) -> list[str]:
    """Debian packages in one version in both builds of the original, another in the fixed."""
    return sorted(
        name
        for name, version in second.packages.items()
        if first.packages.get(name) == version and fixed.packages.get(name) not in (None, version)
    )


_SITE = re.compile(r"/(site|dist)-packages/")
_DIST_INFO = re.compile(r"/(site|dist)-packages/([^/]+?)-([^/-]+)\.dist-info$")


def _version_swaps(diffs: list[Difference]) -> list[str]:
    """``name a -> b`` for each distribution whose dist-info went for another version."""
    gone: dict[str, str] = {}
    came: dict[str, str] = {}
    for diff in diffs:
        found = _DIST_INFO.search(diff.path)
        if found and diff.what in ("removed", "added"):
            (gone if diff.what == "removed" else came)[found.group(2).lower()] = found.group(3)
    return [f"{name} {gone[name]} -> {came[name]}" for name in sorted(gone) if name in came]


_RANDOM_PART = re.compile(r"[0-9a-f]{8,}|(?<=tmp)[a-z0-9_]{8}(?![a-z0-9_])")


def _shape(path: str) -> str:
    """``path`` with the parts a build names at random (hex runs, tempfile suffixes) as *."""
    return _RANDOM_PART.sub("*", path)


def _jettison(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jettison", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def safe_fixes_of(dockerfile: Path, cwd: Path) -> list[str]:
    """The codes whose safe fix ``jettison fix`` applies to the Dockerfile itself (its build
    context's are told by the .dockerignore the fix writes)."""
    done = _jettison("audit", "--no-context", "--format", "json", str(dockerfile), cwd=cwd)
    if done.returncode not in (0, 1):
        raise JettisonError(done.stderr.strip().splitlines()[-1] if done.stderr else "audit")
    findings = json.loads(done.stdout or "[]")
    codes = {
        f["code"] for f in findings if (f.get("fix") or {}).get("safety") == "safe" and f["fix"]
    }
    return sorted(codes)


def check_fixes(
    context: Path,
    dockerfile: Path,
    *,
    sdk: Any | None = None,
    keep_images: bool = False,
) -> SemanticResult:
    """Copy ``context``, apply ``jettison fix`` (safe fixes only) to its ``dockerfile``,
    build the original twice and the fixed file once, and judge the differences."""
    from jettison.engine import build, docker_client
    from jettison.engine.images import remove_images

    sdk = sdk or docker_client()
    rel = dockerfile.resolve().relative_to(context.resolve())
    work = Path(tempfile.mkdtemp(prefix="jettison-semantic-"))
    tags = [f"jettison-semantic-{uuid.uuid4().hex[:10]}-{n}" for n in ("a", "b", "fixed")]
    try:
        before = work / "before"
        shutil.copytree(context, before, symlinks=True)
        after = work / "after"
        shutil.copytree(context, after, symlinks=True)
        # the Dockerfile's own safe fixes; the context's (.dockerignore) show in the files
        applied = safe_fixes_of(after / rel, after)
        fixed = _jettison("fix", "-q", "-f", str(after / rel), "--context", str(after), cwd=after)
        if fixed.returncode != 0:
            result = SemanticResult(applied)
            result.error = "jettison fix failed: " + (fixed.stderr.strip() or "?")[-300:]
            return result
        ignores = [after / ".dockerignore", after / f"{rel}.dockerignore"]
        ignore = next((p for p in ignores if p.is_file()), ignores[0])
        ignore_before = before / ignore.relative_to(after)
        old = ignore_before.read_bytes() if ignore_before.is_file() else None
        new = ignore.read_bytes() if ignore.is_file() else None
        if new != old:
            applied = sorted({*applied, "JT601" if old is None else "JT602"})
        result = SemanticResult(applied)
        if (after / rel).read_bytes() == (before / rel).read_bytes() and new == old:
            result.skipped = "no safe fix applies"
            return result
        snaps: list[ImageSnapshot] = []
        for tag, root in zip(tags, (before, before, after), strict=True):
            try:
                # the fixed file too without cache: a layer cached by an earlier run of the
                # same instructions holds what the index served then (idna 3.20 where both
                # builds of the original now get 3.21)
                build(root, root / rel, tag, no_cache=True, sdk=sdk)
            except JettisonError as exc:
                if tag == tags[2]:
                    result.error = f"the fixed file does not build: {exc}"
                else:
                    result.skipped = f"the original does not build: {exc}"
                return result
            snaps.append(snapshot(tag, sdk))
        patterns: list[str] = []
        if ignore.is_file():
            patterns = [
                line.strip()
                for line in ignore.read_text(errors="replace").splitlines()
                if line.strip() and not line.startswith(("#", "!"))
            ]
        written = [(after / rel).read_bytes()]
        if ignore.is_file():
            written.append(ignore.read_bytes())
        return judge(snaps[0], snaps[1], snaps[2], applied, patterns, written)
    finally:
        if not keep_images:
            remove_images(tags, sdk)  # gone, or never built, is fine
        shutil.rmtree(work, ignore_errors=True)
