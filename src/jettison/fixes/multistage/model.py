"""The multi-stage conversion's plan: where each instruction of the final image goes, or
why the conversion does not apply (see :mod:`jettison.fixes.multistage`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jettison.dockerfile import Dockerfile, Instruction, Stage
from jettison.rules.codes import MULTISTAGE

CODE = MULTISTAGE


VENV = "/opt/venv"


USER_NAME = "app"


USER_ID = 10001


BUILDER = "builder"


PIP_CACHE = "/root/.cache/pip"


# packaging tools a runtime environment rarely needs (uv: when `pip install uv` put it in
# the virtualenv for the build's `uv pip install`)
PIP_TOOLING = ("pip", "setuptools", "wheel", "uv")


# distributions that run git at run time (GitPython, ...): git stays in the runtime stage
VCS_USERS = {"gitpython", "pygit2", "dulwich", "gitdb", "pre-commit", "setuptools-scm"}


@dataclass(frozen=True)
class Refusal:
    """The conversion does not apply to this file, and why (shown to the user)."""

    reason: str
    line: int | None = None


@dataclass
class Plan:
    """Where each instruction of the final image goes; ``render`` turns it into text."""

    df: Dockerfile
    builder_base: str  # the FROM argument of the builder, as written (may hold ${ARGS})
    runtime_base: str  # the same for the runtime stage
    builder: list[Instruction] = field(default_factory=list)
    runtime: list[Instruction] = field(default_factory=list)
    pip_runs: set[int] = field(default_factory=set)  # instruction indexes of pip RUNs
    apt_runtime_packages: list[str] = field(default_factory=list)  # non-build apt packages
    has_user: bool = False
    cache_mount: bool = False
    venv: str = VENV
    own_venv: bool = False  # the file creates the virtualenv itself (and sets PATH)
    builder_ref: str = ""  # the builder base, resolved (what the scan compares)
    runtime_ref: str = ""  # the runtime base, resolved (what the scan queries)
    kept_stages: list[Stage] = field(default_factory=list)  # not in the final image
    runtime_name: str | None = None  # the final stage's AS name (a --target keeps working)
    builder_name: str = BUILDER
    runtime_text: dict[int, str] = field(default_factory=dict)  # split RUNs: what stays
    builder_text: dict[int, str] = field(default_factory=dict)  # RUNs the builder rewrites
    build_packages: list[str] = field(default_factory=list)  # toolchain in the final image
    vcs_packages: list[str] = field(default_factory=list)  # git & co., build tools for pip
    runtime_uses_pip: bool = False  # a runtime RUN or the command runs pip
    removable: bool = False  # the toolchain serves only the pip installs (see render_removal)
    apt_runs: list[Instruction] = field(default_factory=list)  # RUNs installing build packages
    platform: str = ""  # the FROM flags (--platform=...) of the final image's first stage
    later_froms: list[Instruction] = field(default_factory=list)  # their comments stay

    @property
    def builder_stage_name(self) -> str:
        return self.builder_name
