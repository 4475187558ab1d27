"""The engine step of the multi-stage conversion: what must the runtime have, and does it pay?

1. Build the builder stage of the converted file (``--target builder``) on the engine.
2. In a container of that image (no network), ``ldd`` every ELF file in the virtualenv and
   map each library outside it to its Debian package with ``dpkg-query -S`` (the path as
   ``ldd`` prints it, its real path, and the other side of the /usr merge); libraries the
   Python code loads with ``ctypes.util.find_library("name")`` are mapped the same way.
   The same container lists each distribution's wheel tags (a ``linux_x86_64`` tag means
   pip compiled it here, a ``manylinux`` one that it came built; a ``direct_url.json`` with
   ``vcs_info`` that it came from git), which of pip, setuptools and wheel anything in the
   virtualenv imports or requires, and the installed Debian packages with their sizes.
3. In containers of the runtime base (and of the builder base when it differs), list the
   installed packages (``dpkg-query -W``) and check which unmapped libraries exist there.

The result is the sorted list of packages the slim image lacks: a function of what pip
installed in the builder, so the same requirements give the same Dockerfile. Unpinned
requirements can resolve to other versions later; pin them for a reproducible conversion.
It also estimates the bytes the conversion saves: the base images' size difference plus
the apt packages the builder installed that the runtime does not need, minus the packaging
tools a virtualenv adds. The builder image is removed afterwards; its layers stay in
BuildKit's cache, so the final build reuses them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.audit.discovery import SKIP_DIRS
from jettison.engine import build, docker_client, remove_image
from jettison.engine.containers import run_to_exit
from jettison.engine.images import image_size
from jettison.errors import JettisonError
from jettison.fixes.multistage import PIP_TOOLING, VCS_USERS, Plan, render

_SCAN = r"""
import json, os, re, subprocess, sys
root = sys.argv[1]
libs = {}
tooling = {"pip", "setuptools", "wheel", "pkg_resources", "_distutils_hack", "uv"}
def walk(top):
    for d, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        yield d, files
for d, files in walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        if ".so" not in f and not d.endswith("/bin"):
            continue
        try:
            with open(p, "rb") as h:
                if h.read(4) != b"\x7fELF":
                    continue
        except OSError:
            continue
        out = subprocess.run(["ldd", p], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "=>" not in line:
                continue
            target = line.split("=>", 1)[1].strip().split(" (", 1)[0].strip()
            if target.startswith("/") and not target.startswith(root + "/"):
                libs.setdefault(target, []).append(os.path.relpath(p, root))
# Python code: ctypes loads (find_library("magic")) and imports of the packaging tools
sonames = {}
ld = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
for line in ld.splitlines():
    m = re.match(r"\s*(lib\S+?)\.so\S*\s.*=>\s*(\S+)", line)
    if m:
        sonames.setdefault(m.group(1)[3:], m.group(2))
find_lib = re.compile(r"find_library\(\s*['\"]([\w.+-]+)['\"]")
imports = re.compile(r"^\s*(?:import|from)\s+(pkg_resources|setuptools|pip|wheel)\b", re.M)
uses = {}
site = [os.path.join(d, x) for d, dirs, files in os.walk(root) for x in dirs
        if x == "site-packages"][:1]
for top in site:
    for d, files in walk(top):
        rel = os.path.relpath(d, top).split(os.sep)[0]
        if rel in tooling or rel.split("-")[0] in tooling:
            continue
        for f in files:
            if not f.endswith(".py"):
                continue
            try:
                text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
            except OSError:
                continue
            for m in imports.finditer(text):
                tool = "setuptools" if m.group(1) == "pkg_resources" else m.group(1)
                uses.setdefault(tool, rel)
            for m in find_lib.finditer(text):
                path = sonames.get(m.group(1))
                if path and not path.startswith(root + "/"):
                    libs.setdefault(path, []).append(os.path.join(rel, f))
dists = []
tool_bytes = {}
for top in site:
    for x in sorted(os.listdir(top)):
        if not x.endswith(".dist-info"):
            continue
        info = os.path.join(top, x)
        def read(name):
            try:
                return open(os.path.join(info, name), encoding="utf-8", errors="replace").read()
            except OSError:
                return ""
        meta = read("METADATA")
        name = re.search(r"^Name:\s*(\S+)", meta, re.M)
        name = (name.group(1) if name else x.split("-")[0]).lower().replace("_", "-")
        tags = re.findall(r"^Tag:\s*(\S+)", read("WHEEL"), re.M)
        requires = [r for r in re.findall(r"^Requires-Dist:\s*(.+)$", meta, re.M)
                    if "extra ==" not in r]
        try:
            vcs = "vcs_info" in json.loads(read("direct_url.json") or "{}")
        except ValueError:
            vcs = False
        dists.append({"name": name, "tags": tags, "vcs": vcs,
                      "requires": [re.split(r"[\s<>=!~;\[(]", r, 1)[0].lower() for r in requires]})
        if name in ("pip", "setuptools", "wheel", "uv"):
            size = 0
            for line in read("RECORD").splitlines():
                parts = line.rsplit(",", 2)
                if len(parts) == 3 and parts[2].isdigit():
                    size += int(parts[2])
            tool_bytes[name] = size
def owner(path):
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        if c.startswith("/usr/lib/"):
            cands.append(c[4:])
        elif c.startswith("/lib/"):
            cands.append("/usr" + c)
    for c in cands:
        r = subprocess.run(["dpkg-query", "-S", c], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None
fmt = "-f=${Package}\t${Installed-Size}\t${Pre-Depends}, ${Depends}\n"
pk = subprocess.run(["dpkg-query", "-W", fmt], capture_output=True, text=True).stdout
packages = {}
for line in pk.splitlines():
    parts = line.split("\t")
    if len(parts) == 3:
        packages[parts[0]] = [int(parts[1]) if parts[1].isdigit() else 0, parts[2]]
print("JETTISON-LIBS " + json.dumps({
    "libs": {lib: {"package": owner(lib), "users": sorted(set(u))[:3]}
             for lib, u in sorted(libs.items())},
    "dists": dists, "uses": uses, "tool_bytes": tool_bytes, "packages": packages,
}))
"""

_BASE = r"""
import json, os, subprocess, sys
pk = subprocess.run(["dpkg-query", "-W", "-f=${Package}\n"], capture_output=True, text=True)
print("JETTISON-BASE " + json.dumps(
    {"packages": sorted(set(pk.stdout.split())),
     "present": [p for p in sys.argv[1:] if os.path.exists(p)]}
))
"""

# below this, a conversion is not worth its added layers (a user, the virtualenv copy)
MIN_SAVING = 1 << 20


@dataclass
class LibraryScan:
    packages: list[str]  # Debian packages the runtime stage must install, sorted
    libraries: list[str]  # sonames those packages provide to the virtualenv, sorted
    unmapped: list[str] = field(default_factory=list)  # libraries no package owns, missing
    seconds: float = 0.0
    # distributions pip built here (None: not known, the toolchain is moved, never removed)
    compiled: list[str] | None = None
    vcs: list[str] = field(default_factory=list)  # distributions installed from git & co.
    strip: list[str] = field(default_factory=list)  # packaging tools the runtime can drop
    saved_bytes: int | None = None  # estimated bytes the conversion saves (None: unknown)
    kept_vcs: list[str] = field(default_factory=list)  # git & co. kept: the app runs them

    @property
    def needs_toolchain(self) -> bool:
        """Whether the installs needed the build packages (something compiled or cloned);
        True when the scan did not find out."""
        return self.compiled is None or bool(self.compiled or self.vcs)


def _run_python(sdk: Any, image: str, script: str, args: list[str], marker: str) -> Any:
    run = run_to_exit(
        sdk,
        image,
        ["python3", "-c", script, *args],
        name_prefix="jettison-scan",
        timeout=300,
        user="0",
        labels={"org.jettison.scan": "1"},
        purpose=f"scan {image}",
    )
    output = run.logs
    status = {"StatusCode": "timeout" if run.code is None else run.code}
    line = next((ln for ln in output.splitlines() if ln.startswith(marker + " ")), None)
    if line is None:
        raise JettisonError(
            f"library scan in {image} failed (exit {status.get('StatusCode')}): "
            + output.strip()[-200:]
        )
    return json.loads(line[len(marker) + 1 :])


_APP_IMPORT = re.compile(rb"^\s*(?:import|from)\s+(pkg_resources|setuptools|pip|wheel)\b", re.M)
# build outputs too: a copy of the project under build/ is not its own code
_SKIP_DIRS = SKIP_DIRS | {"build", "dist"}


def app_imports(context: Path, limit: int = 20000) -> set[str]:
    """Which of pip, setuptools (pkg_resources) and wheel the project's own code imports."""
    found: set[str] = set()
    seen = 0
    for d, dirs, files in os.walk(context):
        dirs[:] = [x for x in dirs if x not in _SKIP_DIRS]
        for f in files:
            if not f.endswith(".py") or f == "setup.py":
                continue
            seen += 1
            if seen > limit:
                return found | set(PIP_TOOLING)  # too large to read: keep them all
            try:
                data = (Path(d) / f).read_bytes()
            except OSError:
                continue
            for m in _APP_IMPORT.finditer(data):
                name = m.group(1).decode()
                found.add("setuptools" if name == "pkg_resources" else name)
    return found


def _dep_names(field_text: str, installed: dict[str, Any]) -> list[str]:
    """Package names of a Depends field, the first installed alternative of each."""
    out: list[str] = []
    for group in field_text.split(","):
        for alt in group.split("|"):
            name = alt.strip().split(" ", 1)[0].split(":", 1)[0]
            if name in installed:
                out.append(name)
                break
    return out


def _closure(roots: set[str], installed: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in installed]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_dep_names(installed[name][1], installed))
    return seen


def scan(plan: Plan, context: Path, sdk: Any | None = None) -> LibraryScan:
    """Build the builder stage and find the runtime packages (see the module docs)."""
    started = time.monotonic()
    sdk = sdk or docker_client()
    text = render(plan, [])
    with tempfile.TemporaryDirectory(prefix="jettison-ms-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(text, encoding="utf-8")
        try:
            result = build(context, dockerfile, target=plan.builder_name, sdk=sdk)
        except JettisonError as exc:
            raise JettisonError(
                f"the builder stage of the multi-stage conversion does not build: {exc.message}",
                plan.df.path,
            ) from None
    try:
        found = _run_python(sdk, result.image_id, _SCAN, [plan.venv], "JETTISON-LIBS")
    finally:
        remove_image(result.image_id, sdk)
    libs: dict[str, dict[str, Any]] = found["libs"]
    dists: list[dict[str, Any]] = found["dists"]
    installed: dict[str, Any] = found["packages"]
    runtime_ref = plan.runtime_ref or plan.runtime_base
    base = _run_python(sdk, runtime_ref, _BASE, sorted(libs), "JETTISON-BASE")
    have = set(base["packages"])
    present = set(base["present"])
    packages: set[str] = set()
    libraries: set[str] = set()
    unmapped: list[str] = []
    for lib, info in sorted(libs.items()):
        pkg = info.get("package")
        if pkg:
            if pkg not in have:
                packages.add(pkg)
                libraries.add(Path(lib).name)
        elif lib not in present:
            unmapped.append(lib)
    names = {d["name"] for d in dists}
    kept_vcs: list[str] = []
    if names & VCS_USERS:  # GitPython & co. run git: it stays
        kept_vcs = [p for p in plan.vcs_packages if p not in plan.apt_runtime_packages]
        packages.update(kept_vcs)
    compiled = sorted(
        d["name"]
        for d in dists
        if d["tags"] and all(re.search(r"-linux_[a-z0-9_]+$", t) for t in d["tags"])
    )
    vcs = sorted(d["name"] for d in dists if d["vcs"])
    # pip, setuptools and wheel go unless something imports or requires them
    needed = set(found["uses"]) | app_imports(context)
    for d in dists:
        needed.update(r for r in d["requires"] if r in PIP_TOOLING)
    strip: list[str] = []
    if not plan.runtime_uses_pip and "pip" in found["tool_bytes"]:
        # (`python -m pip uninstall` needs pip: uv's environments have none, and no tools)
        strip = [t for t in PIP_TOOLING if t in found["tool_bytes"] and t not in needed]
    # bytes saved: the base images' difference and the builder-only apt packages, minus the
    # packages the runtime installs that its base lacks and the packaging tools kept
    runtime_roots = {p.split("=", 1)[0] for p in plan.apt_runtime_packages} | packages
    needed_pkgs = _closure(runtime_roots, installed)
    saved = 0
    if plan.builder_ref and plan.builder_ref != runtime_ref:
        big, small = image_size(plan.builder_ref, sdk), image_size(runtime_ref, sdk)
        builder_base = set(
            _run_python(sdk, plan.builder_ref, _BASE, [], "JETTISON-BASE")["packages"]
        )
        saved += (big - small) if big and small else 0
    else:
        builder_base = have
    kib = 1024
    saved += kib * sum(
        installed[p][0] for p in installed if p not in builder_base and p not in needed_pkgs
    )
    saved -= kib * sum(installed[p][0] for p in needed_pkgs if p not in have)
    if not plan.own_venv:
        saved -= sum(b for t, b in found["tool_bytes"].items() if t not in strip)
    return LibraryScan(
        sorted(packages),
        sorted(libraries),
        unmapped,
        seconds=time.monotonic() - started,
        compiled=compiled,
        vcs=vcs,
        strip=strip,
        saved_bytes=saved,
        kept_vcs=kept_vcs,
    )
