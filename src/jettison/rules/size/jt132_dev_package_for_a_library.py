"""JT132 dev-package-for-a-library: a `*-dev` package installed for its shared library in an image
that compiles nothing."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import final_installs
from jettison.units import kilo_or_megabytes

# `*-dev` package -> the runtime library it exists for, and the -dev package's own installed
# size on Debian bookworm in KiB (dpkg Installed-Size; its header-only dependencies add more).
# bullseye names the libraries of a few differently.
_RUNTIME_LIBRARY: dict[str, tuple[str, int]] = {
    "libpq-dev": ("libpq5", 595),
    "libxml2-dev": ("libxml2", 3286),
    "libxslt1-dev": ("libxslt1.1", 2535),
    "libxslt-dev": ("libxslt1.1", 2535),
    "libjpeg62-turbo-dev": ("libjpeg62-turbo", 1096),
    "libjpeg-dev": ("libjpeg62-turbo", 1096),
    "zlib1g-dev": ("zlib1g", 1310),
    "libffi-dev": ("libffi8", 315),
    "libssl-dev": ("libssl3", 12206),
    "libyaml-dev": ("libyaml-0-2", 256),
    "libmariadb-dev": ("libmariadb3", 981),
    "libmariadb-dev-compat": ("libmariadb3", 981),
    "default-libmysqlclient-dev": ("libmariadb3", 981),
    "libcurl4-openssl-dev": ("libcurl4", 1778),
    "libsqlite3-dev": ("libsqlite3-0", 3150),
    "libpng-dev": ("libpng16-16", 854),
    "libfreetype-dev": ("libfreetype6", 2060),
    "libfreetype6-dev": ("libfreetype6", 2060),
    "libwebp-dev": ("libwebp7", 1084),
    "libgdbm-dev": ("libgdbm6", 400),
    "libbz2-dev": ("libbz2-1.0", 95),
    "liblzma-dev": ("liblzma5", 726),
    "libreadline-dev": ("libreadline8", 790),
    "libmagic-dev": ("libmagic1", 0),
    "libsass-dev": ("libsass1", 0),
    "libgettextpo-dev": ("libgettextpo0", 0),
    "libopenjp2-7-dev": ("libopenjp2-7", 0),
    "liblcms2-dev": ("liblcms2-2", 0),
    "libtiff-dev": ("libtiff6", 0),
    "libldap2-dev": ("libldap-2.5-0", 0),
    "libsasl2-dev": ("libsasl2-2", 0),
}


_BULLSEYE = {
    "libffi-dev": "libffi7",
    "libssl-dev": "libssl1.1",
    "libwebp-dev": "libwebp6",
    "libtiff-dev": "libtiff5",
    "libldap2-dev": "libldap-2.4-2",
}


_COMPILERS = {"gcc", "g++", "clang", "build-essential", "cc", "make", "cmake", "cargo", "rustc"}


def _compiler(pkg: str) -> bool:
    return pkg in _COMPILERS or pkg.split("-", 1)[0] in ("gcc", "g++", "clang", "llvm")


@rule(
    "JT132",
    "dev-package-for-a-library",
    Category.SIZE,
    Severity.WARNING,
    "a `*-dev` package installed for its shared library in an image that compiles nothing",
    what="""
        Flags `apt-get install libpq-dev` (and the other `*-dev` packages of common
        libraries) in the final image of a slim base when that image installs no compiler:
        nothing can use the headers, only the shared library the package depends on.
    """,
    why="""
        A `-dev` package brings C headers, static archives, pkg-config files and often more
        `-dev` packages (`libpq-dev` pulls `libssl-dev`, 12 MB); the runtime needs only the
        library (`libpq5`).
    """,
    example="FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq-dev",
    use_instead="FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq5",
    fix="""
        Unsafe: replaces the package by its runtime library (`libpq-dev` -> `libpq5`,
        `libxml2-dev` -> `libxml2`, ...; bullseye's names on a bullseye base). The finding
        gives the `-dev` package's own installed size on Debian bookworm where known. A
        program that reads the headers or runs `pg_config` at run time would need it back.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def dev_package_for_a_library(ctx: RuleContext) -> Iterator[Finding]:
    final = ctx.dockerfile.final_stage
    if final is None or "slim" not in final.root_image():
        return  # full images carry the headers and compilers anyway
    installs = final_installs(ctx)
    if any(_compiler(w.value.split("=", 1)[0]) for _, _, w in installs):
        return  # something may compile against the headers
    for ins in ctx.runs(final_only=True):
        if any(c.name in _COMPILERS for c in sh.commands(ins)):
            return
    bullseye = "bullseye" in final.root_image()
    for ins, _cmd, word in installs:
        name = word.value.split("=", 1)[0]
        known = _RUNTIME_LIBRARY.get(name)
        if known is None:
            continue
        library, kib = known
        if bullseye:
            library = _BULLSEYE.get(name, library)
        size = f" ({kilo_or_megabytes(kib * 1024)} installed, headers and archives)" if kib else ""
        yield ctx.report(
            f"`{name}`{size} in an image that compiles nothing: install the library "
            f"`{library}` instead",
            ins,
            start=word.start,
            end=word.end,
            edits=[Edit(word.start, word.end, library)],
        )
