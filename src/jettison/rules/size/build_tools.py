"""Build-only packages: compilers and headers, and installs a RUN removes again."""

from __future__ import annotations

from jettison.dockerfile import Command, Instruction
from jettison.dockerfile import commands as sh

BUILD_TOOLS = {
    "gcc",
    "g++",
    "make",
    "build-essential",
    "clang",
    "cmake",
    "cpp",
    "autoconf",
    "automake",
    "libtool",
    "pkg-config",
    "pkgconf",
    "git",
    "gfortran",
    "cargo",
    "rustc",
    "golang",
    "musl-dev",
    "build-base",
    "alpine-sdk",
    "gcc-c++",
    "python3-dev",
    "python-dev",
    "linux-headers",
    "ninja-build",
    "meson",
}


def _temporary_installs(ins: Instruction) -> list[tuple[Command, str]]:
    """(command, package) installs that a later command of the same RUN removes again: by
    name (``apt-get purge gcc``, ``apk del gcc``), by apk's ``--virtual`` group, or all of
    them through docker-library's idiom (``apt-mark auto '.*'`` then ``apt-get purge
    --auto-remove``, which keeps only what was marked manual before)."""
    cmds = sh.commands(ins)
    removals = [
        c for c in cmds if c.subcommand() in ("purge", "remove", "del", "erase", "autoremove")
    ]
    auto = [c for c in cmds if c.name == "apt-mark" and c.subcommand() == "auto"]
    out: list[tuple[Command, str]] = []
    for cmd, pkg in sh.installed_packages(ins):
        later = [c for c in removals if c.start > cmd.start]
        names = {w.value.split("=", 1)[0] for c in later for w in c.args}
        virtual = _virtual_name(cmd)
        swept = cmd.name in sh.APT and any(
            a.start > cmd.start
            and any(
                c.start > a.start
                and c.name in sh.APT
                and (c.subcommand() == "autoremove" or c.has_flag("--auto-remove"))
                for c in later
            )
            for a in auto
        )
        if pkg in names or (virtual and virtual in names) or swept:
            out.append((cmd, pkg))
    return out


def _virtual_name(cmd: Command) -> str:
    """The ``--virtual``/``-t`` group of an ``apk add`` (removed as one by ``apk del``)."""
    vals = cmd.arg_values
    for i, v in enumerate(vals[:-1]):
        if v in ("--virtual", "-t"):
            return vals[i + 1]
    return ""
