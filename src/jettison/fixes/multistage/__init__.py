"""Multi-stage conversion for Python applications (an unsafe fix).

The final image's stages (the final stage and the stages it is built FROM) are read as one
sequence of instructions, and :func:`plan_conversion` (:mod:`.planning`, which reads each
RUN through :mod:`.classify`) decides where each goes in a :class:`Plan` (:mod:`.model`);
:func:`render` (:mod:`.rendering`) writes the result:

* stages outside the final image are written as they are, first;
* **builder** (the original base image): the original ARG/ENV/WORKDIR, every apt install,
  a virtualenv (the file's own, at its own path, or one in ``/opt/venv``, created first and
  put on ``PATH``; for ``uv sync``, the project's environment uv makes), the COPYs the
  installs need, the pip and uv installs (``uv pip install --system`` without
  ``--system``, so uv fills the builder's virtualenv; a pip cache mount only when the
  file already uses BuildKit syntax, because a plain ``docker build`` would reject ``RUN
  --mount``) and, once the engine scan has decided it, the removal of pip, setuptools,
  wheel and uv from the virtualenv when nothing in it imports them and the runtime does
  not run them;
* **runtime** (the ``-slim`` variant of the base,
  :func:`jettison.rules.size.base_images.slim_variant`, named like the final stage
  was): the original ARG/ENV; one apt install of the packages
  that are not build tools plus the Debian packages of the shared libraries the installed
  packages load; a non-root user ``app`` (uid 10001) unless the file has its own USER; the
  virtualenv copied from the builder; then the original WORKDIR/COPY/ADD/RUN/EXPOSE/
  HEALTHCHECK/LABEL/VOLUME/USER/ENTRYPOINT/CMD in their order, with ``USER app`` after the
  last filesystem change. A RUN that mixes apt or pip with other commands is split: the
  builder runs it whole, the runtime stage runs only the other commands.

The runtime packages are found by :func:`jettison.fixes.runtime_libs.scan` (an engine step:
build the builder stage, ``ldd`` every ELF file in the virtualenv, ``dpkg -S`` each library
outside it, minus what the slim image has). ``render`` takes that list as plain data, sorted,
so the text it writes depends only on the input file and that list. When the scan finds that
nothing was compiled (every distribution came as a wheel for the platform), :func:`render_removal`
removes the toolchain from the file instead of moving it into a builder.

A conversion that cannot make the image smaller is not offered: the final image must carry
compilers, headers or other build packages, or be on a full base image with a slim variant.
"""

from jettison.fixes.multistage.classify import cut_commands, is_build_package
from jettison.fixes.multistage.model import (
    BUILDER,
    CODE,
    PIP_CACHE,
    PIP_TOOLING,
    USER_ID,
    USER_NAME,
    VCS_USERS,
    VENV,
    Plan,
    Refusal,
)
from jettison.fixes.multistage.planning import plan_conversion
from jettison.fixes.multistage.rendering import render, render_removal

__all__ = [
    "BUILDER",
    "CODE",
    "PIP_CACHE",
    "PIP_TOOLING",
    "USER_ID",
    "USER_NAME",
    "VCS_USERS",
    "VENV",
    "Plan",
    "Refusal",
    "cut_commands",
    "is_build_package",
    "plan_conversion",
    "render",
    "render_removal",
]
