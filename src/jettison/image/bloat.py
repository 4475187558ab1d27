"""Bloat categories over the final filesystem, each naming the audit rule that prevents it.

A file may fall into more than one category (a 60 MB static library is both a static
library and a large file), so category totals are not additive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from jettison.image.model import Node
from jettison.image.tarscan import REG
from jettison.rules.codes import DOCS_MAN_LOCALE, LARGE_FILES

LARGE_FILE = 50 * 1000 * 1000

_BIN_DIRS = ("usr/bin/", "bin/", "usr/local/bin/", "usr/sbin/", "sbin/")
_COMPILER = re.compile(
    r"^((x86_64|aarch64|i686|arm)-linux-gnu(eabihf)?-)?"
    r"(gcc|g\+\+|c\+\+|cpp|cc|clang(\+\+)?|gfortran|rustc|cc1|cc1plus|lto1|"
    r"ld|ld\.bfd|ld\.gold|as)(-\d+(\.\d+)?)?$"
)
_EDITORS = re.compile(
    r"^(vim?(\.basic|\.tiny)?|nano|emacs(-\S+)?|gdb|gdbserver|strace|ltrace|"
    r"valgrind|tcpdump|nmap|telnet|lsof)$"
)
_CONDA = re.compile(r"(^|/)(conda|miniconda3?|anaconda3?|miniforge3?|mambaforge)/pkgs/")
# secret-looking file names: these, or a keystore suffix; every name checked starts with
# one of _SECRET_INITIALS, which spares most files the regex (classify runs once per file)
_SECRET_NAMES = re.compile(
    r"^(id_(rsa|dsa|ecdsa|ed25519)|\.env(\.[\w.-]+)?|\.netrc|\.pgpass|"
    r"\.git-credentials|\.pypirc|\.npmrc|credentials(\.json)?|"
    r"secrets?\.(json|ya?ml|toml|env))$"
)
_SECRET_INITIALS = frozenset("i.cs")
_SECRET_SUFFIXES = (".p12", ".pfx", ".jks", ".keystore")
_KEY_SUFFIXES = (".pem", ".key")
_SITE = re.compile(r"^(.*?/(site|dist)-packages/[^/]+)/")
_TESTDIRS = {"tests", "test", "testing", "docs", "doc", "examples", "example"}


class Category(NamedTuple):
    id: str
    title: str
    code: str  # the audit rule that prevents it, or jettison inspect's own JIxxx code
    rule: str | None  # audit rule code, when one exists
    fix: str


CATEGORIES = {
    c.id: c
    for c in [
        Category(
            "apt-lists",
            "apt package lists",
            "JT101",
            "JT101",
            "rm -rf /var/lib/apt/lists/* in the same RUN as apt-get install",
        ),
        Category(
            "apt-cache",
            "apt package cache (.deb files)",
            "JT101",
            "JT101",
            "apt-get clean in the same RUN, or RUN --mount=type=cache,target=/var/cache/apt",
        ),
        Category("apk-cache", "apk cache", "JT104", "JT104", "apk add --no-cache"),
        Category(
            "rpm-cache",
            "yum/dnf/zypper cache",
            "JT105",
            "JT105",
            "dnf clean all / yum clean all / zypper clean in the same RUN",
        ),
        Category(
            "pip-cache",
            "pip cache",
            "JT103",
            "JT103",
            "pip install --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip",
        ),
        Category(
            "npm-cache",
            "npm/yarn cache",
            "JT106",
            "JT106",
            "npm ci && npm cache clean --force, or a cache mount",
        ),
        Category(
            "conda-cache",
            "conda package cache",
            "JT107",
            "JT107",
            "conda clean -afy in the same RUN",
        ),
        Category(
            "pycache",
            "__pycache__ / .pyc",
            "JT301",
            "JT301",
            "ENV PYTHONDONTWRITEBYTECODE=1 and do not run the app while building",
        ),
        Category(
            "python-tests-docs",
            "tests/docs/examples inside site-packages",
            "JT119",
            "JT119",
            "delete them after pip install, or use a multi-stage build",
        ),
        Category(
            "docs-man-locale",
            "man pages, docs and locales",
            DOCS_MAN_LOCALE,
            None,
            "use a -slim base image or dpkg path-exclude for /usr/share/{doc,man,locale}",
        ),
        Category(
            "toolchain",
            "compilers and headers",
            "JT110",
            "JT110",
            "build in a separate stage and copy only the results",
        ),
        Category(
            "static-libs",
            "static libraries (.a)",
            "JT110",
            "JT110",
            "build in a separate stage and copy only the results",
        ),
        Category(
            "editors-debug",
            "editors and debug tools",
            "JT112",
            "JT112",
            "do not install editors or debuggers in the runtime image",
        ),
        Category(
            "large-files",
            f"large files (≥ {LARGE_FILE // 1000000} MB)",
            LARGE_FILES,
            None,
            "check whether the file is needed at run time",
        ),
        Category(
            "secrets",
            "secret-looking files",
            "JT603",
            "JT603",
            "keep secrets out of the build context (.dockerignore, JT601) and use "
            "RUN --mount=type=secret",
        ),
    ]
}


def _group(prefix: str) -> str:
    return "/" + prefix.rstrip("/")


def classify(path: str, node: Node) -> list[tuple[str, str]]:
    """(category id, group path) for a regular file of the final filesystem."""
    return classify_file(path, node.inode.size if node.inode is not None else 0)


def classify_file(path: str, size: int) -> list[tuple[str, str]]:
    """:func:`classify` from the file's path and size alone (what its tar entry says)."""
    out: list[tuple[str, str]] = []
    base = path.rpartition("/")[2]
    if path.startswith("var/lib/apt/lists/"):
        out.append(("apt-lists", "/var/lib/apt/lists"))
    elif path.startswith("var/cache/apt/"):
        out.append(("apt-cache", "/var/cache/apt"))
    elif path.startswith(("var/cache/apk/", "etc/apk/cache/")):
        out.append(("apk-cache", _group("/".join(path.split("/")[:3]))))
    elif path.startswith(("var/cache/yum/", "var/cache/dnf/", "var/cache/zypp/")):
        out.append(("rpm-cache", _group("/".join(path.split("/")[:3]))))
    # the substring guards below only skip searches that cannot match (a hot loop)
    if ".cache/" in path:
        pip = path.find(".cache/pip/")
        if pip >= 0 and (pip == 0 or path[pip - 1] == "/"):
            out.append(("pip-cache", _group(path[: pip + len(".cache/pip")])))
    if ".npm/" in path or "yarn" in path:
        for marker in (".npm/", ".cache/yarn/", ".yarn-cache/"):
            at = path.find(marker)
            if at >= 0 and (at == 0 or path[at - 1] == "/"):
                out.append(("npm-cache", _group(path[: at + len(marker)])))
                break
    if "pkgs/" in path:
        conda = _CONDA.search(path)
        if conda:
            out.append(("conda-cache", _group(path[: conda.end()])))
    site = _SITE.match(path) if "-packages/" in path else None
    if base.endswith((".pyc", ".pyo")):
        out.append(("pycache", _group(site.group(1) if site else path.rpartition("/")[0])))
    if site:
        rest = path[site.end() :].split("/")[:-1]
        if any(part in _TESTDIRS for part in rest):
            out.append(("python-tests-docs", _group(site.group(1))))
    if path.startswith(
        (
            "usr/share/man/",
            "usr/share/doc/",
            "usr/share/info/",
            "usr/share/locale/",
            "usr/local/share/man/",
            "usr/share/gtk-doc/",
            "usr/local/share/doc/",
        )
    ):
        out.append(("docs-man-locale", _group("/".join(path.split("/")[:3]))))
    if path.startswith(
        (
            "usr/include/",
            "usr/local/include/",
            "usr/lib/gcc/",
            "usr/libexec/gcc/",
            "usr/local/go/pkg/tool/",
        )
    ):
        out.append(("toolchain", _group("/".join(path.split("/")[:3]))))
    elif path.startswith(_BIN_DIRS) and _COMPILER.match(base):
        out.append(("toolchain", "/" + path))
    if base.endswith(".a") and "/lib" in "/" + path:
        out.append(("static-libs", _group(path.rpartition("/")[0])))
    if (path.startswith(_BIN_DIRS) and _EDITORS.match(base)) or path.startswith(
        ("usr/share/vim/", "usr/lib/debug/", "usr/libexec/gdb")
    ):
        out.append(
            (
                "editors-debug",
                "/" + path if path.startswith(_BIN_DIRS) else _group("/".join(path.split("/")[:3])),
            )
        )
    if size >= LARGE_FILE:
        out.append(("large-files", "/" + path))
    if _secret_name(base) and not _vendored(path):
        out.append(("secrets", "/" + path))
    return out


def _secret_name(base: str) -> bool:
    return base.endswith(_SECRET_SUFFIXES) or (
        base[:1] in _SECRET_INITIALS and _SECRET_NAMES.match(base) is not None
    )


def _vendored(path: str) -> bool:
    """Test fixtures shipped inside packages are not anyone's secrets."""
    return (
        "/site-packages/" in path
        or "/dist-packages/" in path
        or path.startswith(("usr/share/", "usr/lib/python", "usr/local/lib/python"))
    )


def is_key_candidate(path: str) -> bool:
    base = path.rpartition("/")[2]
    return (
        base.endswith(_KEY_SUFFIXES)
        and not _vendored(path)
        and not path.startswith(
            ("etc/ssl/certs/", "usr/local/share/ca-certificates/", "usr/share/ca-certificates/")
        )
    )


@dataclass
class CategoryResult:
    category: Category
    bytes: int = 0
    files: int = 0
    groups: dict[str, int] = field(default_factory=dict)
    by_layer: dict[int, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def top(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.groups.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def main_layer(self) -> int:
        return max(self.by_layer.items(), key=lambda kv: (kv[1], kv[0]))[0]

    def to_json(self) -> dict[str, Any]:
        c = self.category
        return {
            "id": c.id,
            "title": c.title,
            "code": c.code,
            "rule": c.rule,
            "fix": c.fix,
            "bytes": self.bytes,
            "files": self.files,
            "top_paths": [{"path": p, "bytes": b} for p, b in self.top(10)],
            "by_layer": {str(k): v for k, v in sorted(self.by_layer.items())},
            **self.extra,
        }


def categorize(
    nodes: dict[str, Node],
    is_private_key: Callable[[str, Node], bool],
    known: Callable[[str, Node], list[tuple[str, str]] | None] | None = None,
) -> dict[str, CategoryResult]:
    """Bytes per category over the final filesystem; ``known``: a node's :func:`classify`
    when it was computed earlier (None: compute it here)."""
    results: dict[str, CategoryResult] = {}
    seen: set[tuple[str, int]] = set()
    stale_pyc = 0
    for path, node in nodes.items():
        if node.kind != REG or node.inode is None:
            continue
        hits = known(path, node) if known is not None else None
        hits = classify(path, node) if hits is None else list(hits)
        if is_key_candidate(path) and is_private_key(path, node):
            hits.append(("secrets", "/" + path))
        for cat, group in hits:
            key = (cat, id(node.inode))
            if key in seen:
                continue  # a hard link's bytes count once
            seen.add(key)
            res = results.get(cat)
            if res is None:
                res = results[cat] = CategoryResult(CATEGORIES[cat])
            size = node.inode.size
            res.bytes += size
            res.files += 1
            res.groups[group] = res.groups.get(group, 0) + size
            res.by_layer[node.inode.layer] = res.by_layer.get(node.inode.layer, 0) + size
            if cat == "pycache" and _stale(path, nodes):
                stale_pyc += size
    if "pycache" in results:
        results["pycache"].extra["stale_bytes"] = stale_pyc
    return results


def _stale(path: str, nodes: dict[str, Node]) -> bool:
    """A .pyc whose source file is gone (the source was deleted but its bytecode kept)."""
    directory, _, base = path.rpartition("/")
    module = base.split(".", 1)[0]
    if directory.endswith("__pycache__"):
        parent = directory.rpartition("/")[0]
        source = f"{parent}/{module}.py" if parent else f"{module}.py"
    else:
        source = f"{directory}/{module}.py" if directory else f"{module}.py"
    return source not in nodes
