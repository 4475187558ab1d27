"""The manifests of a Python project as the Dockerfile rewrites read them: pyproject.toml and
setup.cfg, read statically (are the dependencies listed there, and how are the extras
spelled?), and the scripts JT201's dependency step runs at build time to list them.

The scripts are one-liners for `python3 -c`: they run in the image being built, on the
manifest copied before the source, with the interpreter's tomllib (or pip's vendored
tomli) and configparser, so the step needs nothing the image lacks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jettison.dockerfile import Command
from jettison.dockerfile import commands as sh

DEPS_FILE = "/tmp/project-requirements.txt"
# reads [project].dependencies plus the named extras from a pyproject.toml (argv[1]); pip's
# vendored tomli where the interpreter predates tomllib
EXTRACT = (
    "import sys; t = __import__('tomllib' if sys.version_info >= (3, 11) else "
    "'pip._vendor.tomli', fromlist=['load']); p = t.load(open(sys.argv[1], 'rb'))['project']; "
    "print(*p.get('dependencies', []), *(d for e in sys.argv[2:] "
    "for d in p.get('optional-dependencies', {}).get(e, [])), sep='\\n')"
)

# the same from a setup.cfg: [options] install_requires and [options.extras_require], read
# as setuptools reads them: its ConfigParser (with %-interpolation), a value split by line,
# or by ';' when on one line, lines starting with '#' left out; a ' #' comment is dropped
# as pkg_resources did, but never a '#' inside a URL (`pkg @ https://...#subdirectory=x`)
EXTRACT_CFG = (
    "import configparser, sys; c = configparser.ConfigParser(); c.read(sys.argv[1]); "
    "s = lambda v: v.splitlines() if '\\n' in v else v.split(';'); g = lambda k, o: [r for r "
    "in (x.partition(' #')[0].strip() for x in s(c.get(k, o, fallback=''))) if r and r[0] "
    "!= '#']; print(*g('options', 'install_requires'), *(d for e in sys.argv[2:] for d in "
    "g('options.extras_require', e)), sep='\\n')"
)

# reads the [project] dependencies of every pyproject.toml named (``PATH`` or
# ``PATH[extra,...]``), with the extras asked for, leaving out the named projects themselves
EXTRACT_SEVERAL = (
    "import re, sys; t = __import__('tomllib' if sys.version_info >= (3, 11) else "
    "'pip._vendor.tomli', fromlist=['load']); n = lambda r: re.sub(r'[-_.]+', '-', "
    "re.match(r'\\s*([A-Za-z0-9._-]+)', r).group(1)).lower(); a = [x.partition('[') for x "
    "in sys.argv[1:]]; p = [t.load(open(f, 'rb'))['project'] for f, _, _ in a]; own = "
    "{n(q['name']) for q in p}; print(*(d for q, (_, _, e) in zip(p, a) for d in "
    "[*q.get('dependencies', []), *(x for k in e.rstrip(']').split(',') if k for x in "
    "q.get('optional-dependencies', {}).get(k.strip(), []))] if n(d) not in own), sep='\\n')"
)

# the same for an install whose extras come from a variable (`pip install .${EXTRAS}`):
# argv[1] is the pyproject.toml, the rest the install's words as the shell expanded them,
# with the project's path replaced by argv[1] (`pyproject.toml[sql]`); a word that is not
# the project is a requirement pip installs beside it (`pandas<3` in `[sql] pandas<3`)
EXTRACT_WORDS = (
    "import re, sys; t = __import__('tomllib' if sys.version_info >= (3, 11) else "
    "'pip._vendor.tomli', fromlist=['load']); f = sys.argv[1]; p = t.load(open(f, 'rb'))"
    "['project']; n = lambda r: re.sub(r'[-_.]+', '-', re.match(r'\\s*([A-Za-z0-9._-]+)', "
    "r).group(1)).lower(); o = p.get('optional-dependencies', {}); k = {n(x): x for x in o}; "
    "e = [x.strip() for w in sys.argv[2:] if w.startswith(f) for x in w[len(f):].strip('[]')"
    ".split(',') if x.strip()]; print(*(d for d in [*p.get('dependencies', []), *(d for x "
    "in e for d in o.get(k.get(n(x), x), []))] if n(d) != n(p.get('name', '-'))), *(w for w in "
    "sys.argv[2:] if not w.startswith(f)), sep='\\n')"
)


def read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed file, or None when it cannot be read or parsed."""
    import tomllib  # imported here: only a project install with a pyproject.toml needs it

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def static_dependencies(pyproject: Path) -> bool:
    """The file's [project] table lists its dependencies statically (none local)."""
    data = read_toml(pyproject)
    if data is None:
        return False
    project = data.get("project")
    if not isinstance(project, dict) or "dependencies" in project.get("dynamic", []):
        return False
    deps = project.get("dependencies", [])
    extras = project.get("optional-dependencies", {})
    every = [*deps, *(d for v in extras.values() if isinstance(v, list) for d in v)]
    return all(isinstance(d, str) and "file:" not in d for d in every)


def _read_cfg(setup_cfg: Path) -> Any:
    """setup.cfg parsed as setuptools parses it (``%`` interpolation included), or None."""
    import configparser

    parser = configparser.ConfigParser()
    try:
        parser.read_string(setup_cfg.read_text(errors="replace"))
    except (OSError, configparser.Error):
        return None
    return parser


def static_cfg_dependencies(setup_cfg: Path) -> bool:
    """setup.cfg lists the dependencies statically and no setup.py computes them."""
    import configparser

    parser = _read_cfg(setup_cfg)
    if parser is None:
        return False
    try:
        values = [parser.get("options", "install_requires", fallback="")]
        if parser.has_section("options.extras_require"):
            values += [v for _, v in parser.items("options.extras_require")]
        name = parser.get("metadata", "name", fallback="")
    except configparser.Error:
        return False
    if not values[0].strip() or any(v.strip().startswith(("file:", "attr:")) for v in values):
        return False
    # a requirement on the project itself (`all = demo[web]`) would be looked for on the
    # index by the dependency step
    if name and any(
        canonical(m.group(1)) == canonical(name)
        for v in values
        for line in v.replace(";", "\n").splitlines()
        if (m := _REQUIREMENT_NAME.match(line))
    ):
        return False
    setup_py = setup_cfg.with_name("setup.py")
    try:
        code = setup_py.read_text(errors="replace") if setup_py.is_file() else ""
    except OSError:
        return False
    return "install_requires" not in code and "extras_require" not in code


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """A project or extra name as pip compares them (PEP 503, PEP 685)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def names_itself(table: dict[str, Any]) -> bool:
    """A pyproject [project] whose dependencies or extras require the project itself
    (`all = ["demo[web,cli]"]`): a dependency step would look for it on the index."""
    own = table.get("name")
    if not isinstance(own, str):
        return False
    extras = table.get("optional-dependencies", {})
    every = [*table.get("dependencies", []), *(d for v in extras.values() for d in v)]
    return any(
        isinstance(d, str)
        and (m := _REQUIREMENT_NAME.match(d))
        and canonical(m.group(1)) == canonical(own)
        for d in every
    )


def extras_as_written(asked: tuple[str, ...], defined: list[str]) -> tuple[str, ...]:
    """The extras asked for, spelled as the manifest defines them: pip matches extras by
    their normalised names (`.[my_extra]` installs `my-extra`), the dependency step's
    script by the exact key."""
    spelled = {canonical(k): k for k in defined}
    return tuple(spelled.get(canonical(e), e) for e in asked)


def defined_extras(manifest: Path) -> list[str]:
    if manifest.name == "setup.cfg":
        parser = _read_cfg(manifest)
        if parser is None or not parser.has_section("options.extras_require"):
            return []
        return list(parser.options("options.extras_require"))
    data = read_toml(manifest) or {}
    extras = data.get("project", {}).get("optional-dependencies", {})
    return list(extras) if isinstance(extras, dict) else []


def setuptools_without_project(pyproject: Path) -> bool:
    """No pyproject.toml, or one that only names setuptools as the build backend: then
    setuptools reads the dependencies from setup.cfg (with a [project] table, or another
    backend such as poetry's, setup.cfg's install_requires is not what gets installed)."""
    if not pyproject.is_file():
        return True
    data = read_toml(pyproject)
    if data is None or "project" in data:
        return False
    backend = data.get("build-system", {}).get("build-backend", "setuptools")
    return isinstance(backend, str) and backend.startswith("setuptools")


def readme_of(pyproject: Path) -> str | None:
    data = read_toml(pyproject)
    if data is None:
        return None
    for table in (data.get("project"), data.get("tool", {}).get("poetry")):
        if isinstance(table, dict):
            readme = table.get("readme")
            if isinstance(readme, dict):
                readme = readme.get("file")
            if isinstance(readme, str) and "/" not in readme and "$" not in readme:
                return readme
    return None


def is_extraction(cmd: Command) -> bool:
    """A command this rewrite writes to list the dependencies (from pyproject.toml,
    setup.cfg or several projects' pyproject.toml): it leaves nothing behind but a
    temporary file it removes."""
    values = cmd.arg_values
    return (
        (cmd.name in sh.PYTHON or cmd.name.startswith("python3."))
        and len(values) >= 2
        and values[0] == "-c"
        and values[1] in (EXTRACT, EXTRACT_CFG, EXTRACT_SEVERAL, EXTRACT_WORDS)
    )
