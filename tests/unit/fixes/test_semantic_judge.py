"""The semantic check's judgement, on snapshots made by hand (the engine tests build real
images): only what an applied fix declares may differ, beyond the build's own noise."""

from __future__ import annotations

import io
import tarfile

from jettison.fixes.semantic_check import (
    FileEntry,
    ImageSnapshot,
    declared_changes,
    judge,
    read_filesystem,
)

CONFIG = {"Cmd": ["/bin/sh", "-c", "python app.py"], "Env": ["A=1"], "User": ""}


def snap(files: dict[str, str], **config: object) -> ImageSnapshot:
    entries = {
        path: FileEntry("dir", 0o755, 0, 0)
        if digest == "dir"
        else FileEntry("file", 0o644, 0, 0, "", digest)
        for path, digest in files.items()
    }
    return ImageSnapshot({**CONFIG, **config}, entries)


BASE = {"/app": "dir", "/app/app.py": "a1", "/var/lib/apt/lists": "dir"}
LISTS = {"/var/lib/apt/lists/x_Packages": "p1", "/var/lib/apt/lists/lock": "l"}


def test_declared_removal_passes_and_the_rest_is_undeclared() -> None:
    before = snap({**BASE, **LISTS})
    after = snap({**BASE, "/app/app.py": "changed"})
    result = judge(before, before, after, ["JT101"])
    assert {d.path for d in result.allowed} == set(LISTS)
    assert [str(d) for d in result.undeclared] == ["file /app/app.py: changed: digest"]
    assert not result.ok


def test_a_removal_no_applied_fix_declares_is_undeclared() -> None:
    before = snap({**BASE, **LISTS})
    after = snap(BASE)
    result = judge(before, before, after, ["JT103"])  # pip's cache, not apt's lists
    assert {d.path for d in result.undeclared} == set(LISTS)


def test_noise_between_two_builds_of_the_original_is_not_the_fix() -> None:
    first = snap({**BASE, "/var/log/dpkg.log": "t1"})
    second = snap({**BASE, "/var/log/dpkg.log": "t2"})
    fixed = snap({**BASE, "/var/log/dpkg.log": "t3"})
    result = judge(first, second, fixed, ["JT101"])
    assert result.ok and result.noise == {"/var/log/dpkg.log"}


def test_a_file_named_at_random_each_build_is_noise() -> None:
    # uv's build lock: each build of the original names it anew, so does the fixed build
    first = snap({**BASE, "/tmp/uv-setuptools-62cbcd6cdd252dc3.lock": "0"})
    second = snap({**BASE, "/tmp/uv-setuptools-391bb8e1f81bdafd.lock": "0"})
    fixed = snap({**BASE, "/tmp/uv-setuptools-e443f77c39374078.lock": "0"})
    assert judge(first, second, fixed, ["JT101"]).ok
    # a new file that only shares its folder with the noise is still the fix's doing
    odd = snap({**BASE, "/tmp/uv-setuptools-e443f77c39374078.lock": "0", "/tmp/new": "1"})
    assert [str(d) for d in judge(first, second, odd, ["JT101"]).undeclared] == [
        "file /tmp/new: added"
    ]


def test_config_changes_only_where_declared() -> None:
    before = snap(BASE)
    exec_form = snap(BASE, Cmd=["python", "app.py"])
    assert judge(before, before, exec_form, ["JT304"]).ok
    assert not judge(before, before, exec_form, ["JT101"]).ok
    more_env = snap(BASE, Env=["A=1", "B=2"])
    assert [d.path for d in judge(before, before, more_env, ["JT304"]).undeclared] == ["Env"]


def test_a_directory_left_empty_by_a_declared_removal_goes_with_it() -> None:
    cache = {"/root/.cache": "dir", "/root/.cache/pip": "dir", "/root/.cache/pip/x": "h"}
    before = snap({**BASE, **cache})
    result = judge(before, before, snap(BASE), ["JT103"])
    assert result.ok, result.undeclared
    kept = snap({**BASE, **cache, "/root/.cache/other": "o"})
    assert judge(
        kept, kept, snap({**BASE, "/root/.cache": "dir", "/root/.cache/other": "o"}), ["JT103"]
    ).ok


def test_ignored_files_may_go_only_with_a_dockerignore_fix() -> None:
    before = snap({**BASE, "/app/.git": "dir", "/app/.git/HEAD": "h"})
    after = snap(BASE)
    assert judge(before, before, after, ["JT601"], [".git"]).ok
    assert not judge(before, before, after, ["JT101"], [".git"]).ok
    assert not judge(before, before, after, ["JT601"], ["*.pyc"]).ok


def test_every_declared_code_is_a_safe_fix() -> None:
    from jettison.findings import FixSafety
    from jettison.rules.registry import all_rules

    safe = {r.code for r in all_rules() if r.fix_safety == FixSafety.SAFE}
    declared = declared_changes()
    assert set(declared) <= safe, set(declared) - safe
    # the fixes that delete a cache declare where it was
    assert {"JT101", "JT103", "JT104", "JT105", "JT120", "JT121", "JT122"} <= set(declared)


def test_read_filesystem_hashes_content_and_keeps_owner_mode_links() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"hello"
        info = tarfile.TarInfo("app/a.txt")
        info.size, info.mode, info.uid, info.gid = len(data), 0o640, 1000, 1000
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("app/l")
        link.type, link.linkname = tarfile.SYMTYPE, "a.txt"
        tar.addfile(link)
    buffer.seek(0)
    files = read_filesystem(buffer)
    assert files["/app/a.txt"].digest.startswith("2cf24dba")  # sha256 of "hello"
    assert (files["/app/a.txt"].mode, files["/app/a.txt"].uid) == (0o640, 1000)
    assert files["/app/l"] == FileEntry("symlink", 0o644, 0, 0, "a.txt", "")


def test_read_filesystem_keeps_the_dot_of_a_dotfile_at_the_root() -> None:
    # `COPY . .` into / ships the context's .env: it is /.env, not /env
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in (".env", "./.dockerignore", "env"):
            tar.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    buffer.seek(0)
    assert sorted(read_filesystem(buffer)) == ["/.dockerignore", "/.env", "/env"]


def test_the_files_the_fix_wrote_are_the_fix_itself_when_the_build_copies_them() -> None:
    import hashlib

    fixed_dockerfile = b"FROM python:3.11-slim\n"
    ignore = b".git\n"
    before = snap({**BASE, "/app/Dockerfile": "old"})
    after = snap(
        {
            **BASE,
            "/app/Dockerfile": hashlib.sha256(fixed_dockerfile).hexdigest(),
            "/app/.dockerignore": hashlib.sha256(ignore).hexdigest(),
        }
    )
    assert judge(before, before, after, ["JT601"], [".git"], [fixed_dockerfile, ignore]).ok
    other = snap({**BASE, "/app/Dockerfile": "something else"})
    assert not judge(before, before, other, ["JT601"], [".git"], [fixed_dockerfile]).ok


def test_another_version_from_the_index_is_inconclusive() -> None:
    # unpinned `requests>=2.32`: both builds of the original got idna 3.21, the fixed one 3.20
    site = "/usr/local/lib/python3.11/site-packages"
    original = {
        f"{site}/idna": "dir",
        f"{site}/idna/core.py": "c21",
        f"{site}/idna-3.21.dist-info": "dir",
    }
    fixed = snap(
        {
            **BASE,
            f"{site}/idna": "dir",
            f"{site}/idna/core.py": "c20",
            f"{site}/idna-3.20.dist-info": "dir",
        }
    )
    result = judge(snap({**BASE, **original}), snap({**BASE, **original}), fixed, ["JT103"])
    assert result.undeclared == [] and "idna 3.21 -> 3.20" in result.skipped
    # a change outside site-packages beside it is still the fix's
    odd = snap({**BASE, "/app/app.py": "changed", f"{site}/idna-3.20.dist-info": "dir"})
    assert judge(snap({**BASE, **original}), snap({**BASE, **original}), odd, ["JT103"]).undeclared


def test_another_version_from_the_debian_mirror_is_inconclusive() -> None:
    """A security update published between the builds (libtiff6 on bookworm-security): both
    builds of the original have one version, the fixed build another; the files that differ
    are the package's own and dpkg's records of it."""
    lib = "/usr/lib/x86_64-linux-gnu/libtiff.so.6.0.0"
    files = {
        **BASE,
        lib: "t1",
        "/var/lib/dpkg/status": "s1",
        "/var/lib/dpkg/info/libtiff6:amd64.md5sums": "m1",
        "/var/log/apt/eipp.log.xz": "e1",
    }
    newer = {
        **files,
        lib: "t2",
        "/var/lib/dpkg/status": "s2",
        "/var/lib/dpkg/info/libtiff6:amd64.md5sums": "m2",
        "/var/log/apt/eipp.log.xz": "e2",
    }

    def with_packages(image: ImageSnapshot, version: str) -> ImageSnapshot:
        image.packages = {"libtiff6": version, "libc6": "2.36-9"}
        image.package_files = {"libtiff6": {lib}, "libc6": {"/lib/libc.so.6"}}
        return image

    first, second = with_packages(snap(files), "4.5.0-6"), with_packages(snap(files), "4.5.0-6")
    fixed = with_packages(snap(newer), "4.5.0-6+deb12u1")
    result = judge(first, second, fixed, ["JT101"])
    assert result.undeclared == [], result.undeclared
    assert "libtiff6 4.5.0-6 -> 4.5.0-6+deb12u1" in result.skipped
    # a file of another package changed beside it: still the fix's
    odd = with_packages(snap({**newer, "/app/app.py": "changed"}), "4.5.0-6+deb12u1")
    assert judge(first, second, odd, ["JT101"]).undeclared


def test_read_filesystem_keeps_dpkg_status_and_file_lists() -> None:
    from jettison.fixes.semantic_check import _package_database

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, text in (
            ("var/lib/dpkg/status", "Package: libtiff6\nStatus: install ok\nVersion: 4.5.0-6\n\n"),
            ("var/lib/dpkg/info/libtiff6:amd64.list", "/usr/lib/libtiff.so.6\n"),
            ("etc/hostname", "x\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    data.seek(0)
    kept: dict[str, bytes] = {}
    files = read_filesystem(data, kept)
    assert set(kept) == {"/var/lib/dpkg/status", "/var/lib/dpkg/info/libtiff6:amd64.list"}
    assert "/etc/hostname" in files
    versions, owned = _package_database(kept)
    assert versions == {"libtiff6": "4.5.0-6"} and "/usr/lib/libtiff.so.6" in owned["libtiff6"]
