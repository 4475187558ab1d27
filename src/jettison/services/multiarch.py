"""Multi-arch: steps that only work on one architecture, and what the local engine builds.

Reported (never rewritten): RUN or ADD steps that download or install for one architecture
(``x86_64``/``amd64``/``aarch64``/``arm64`` in URLs or file names), branch on ``uname -m`` or
``dpkg --print-architecture``, or pick platform-specific wheels (``pip --platform``,
``*_x86_64.whl``). A step that uses ``TARGETARCH``/``TARGETPLATFORM`` is architecture-aware
and not reported.
"""

from __future__ import annotations

import os
import platform as _platform
import re
from dataclasses import dataclass
from pathlib import Path

from jettison.dockerfile import Dockerfile
from jettison.image.sources import host_platform

_ARCH_WORD = re.compile(
    r"(?<![A-Za-z0-9])(x86_64|x86-64|amd64|aarch64|arm64|armv7l?|armhf|i386|i686|ppc64le|s390x)"
    r"(?![A-Za-z0-9])"
)
_WHEEL = re.compile(r"_(x86_64|aarch64|arm64|i686|ppc64le|s390x)\.whl\b")
_QEMU_NAMES = {
    "linux/amd64": "qemu-x86_64",
    "linux/arm64": "qemu-aarch64",
    "linux/arm/v7": "qemu-arm",
    "linux/arm/v6": "qemu-arm",
    "linux/386": "qemu-i386",
    "linux/ppc64le": "qemu-ppc64le",
    "linux/s390x": "qemu-s390x",
    "linux/riscv64": "qemu-riscv64",
}


@dataclass(frozen=True)
class ArchStep:
    path: str
    line: int
    instruction: str
    reason: str


def arch_steps(df: Dockerfile) -> list[ArchStep]:
    found = []
    for ins in df.instructions:
        if ins.keyword not in ("RUN", "ADD", "COPY"):
            continue
        text = ins.text
        if "TARGETARCH" in text or "TARGETPLATFORM" in text or "BUILDARCH" in text:
            continue
        short = " ".join(text.split())
        short = short if len(short) <= 80 else short[:77] + "..."
        reason = ""
        if re.search(r"\buname\s+-m\b|\barch\b\s*\)|\$\(arch\)", text):
            reason = "branches on `uname -m` (the build machine's architecture)"
        elif "--print-architecture" in text:
            reason = "branches on `dpkg --print-architecture`"
        elif _WHEEL.search(text) or re.search(r"pip3?\b.*--platform", text):
            reason = "installs a platform-specific wheel"
        else:
            match = _ARCH_WORD.search(text)
            if match and (ins.keyword == "ADD" or "http" in text or "/" in match.string):
                reason = f"names the architecture {match.group(1)} (a binary for one platform)"
        if reason:
            found.append(ArchStep(df.path, ins.line, f"{ins.keyword} {short}", reason))
    return found


def buildable_platforms() -> list[str]:
    """Platforms the local engine builds: the host's, plus those with a binfmt_misc emulator."""
    platforms = [host_platform()]
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if binfmt.is_dir():
        for plat, name in _QEMU_NAMES.items():
            if plat not in platforms and (binfmt / name).exists():
                platforms.append(plat)
    if _platform.machine().lower() in ("x86_64", "amd64") and "linux/386" not in platforms:
        platforms.append("linux/386")  # x86_64 kernels run i386 binaries natively
    return platforms


def unbuildable(requested: list[str]) -> list[tuple[str, str]]:
    """(platform, why) for each requested platform the local engine cannot build."""
    can = buildable_platforms()
    out = []
    for plat in requested:
        if plat not in can:
            emulator = _QEMU_NAMES.get(plat)
            missing = f"no {emulator} registered" if emulator else "no emulator for it registered"
            out.append(
                (
                    plat,
                    f"{missing} in binfmt_misc on this machine "
                    f"({os.uname().machine}); build it in CI (docker/setup-qemu-action) or on "
                    "a native builder",
                )
            )
    return out
