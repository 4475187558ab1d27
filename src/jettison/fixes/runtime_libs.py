"""The engine step of the multi-stage conversion: which Debian packages must the runtime have?

1. Build the builder stage of the converted file (``--target builder``) on the engine.
2. In a container of that image (no network), ``ldd`` every ELF file in the virtualenv and
   map each library outside it to its Debian package with ``dpkg-query -S`` (the path as
   ``ldd`` prints it, its real path, and the other side of the /usr merge).
3. In a container of the runtime base image, list the installed packages
   (``dpkg-query -W``) and check which unmapped libraries exist there.

The result is the sorted list of packages the slim image lacks: a function of what pip
installed in the builder, so the same requirements give the same Dockerfile. Unpinned
requirements can resolve to other versions later; pin them for a reproducible conversion.
The builder image is removed afterwards; its layers stay in BuildKit's cache, so the final
build reuses them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from jettison.engine import build, docker_client, remove_image
from jettison.errors import JettisonError
from jettison.fixes.multistage import BUILDER, VENV, Plan, render

_SCAN = r"""
import json, os, subprocess, sys
root = sys.argv[1]
libs = {}
for d, _dirs, files in os.walk(root):
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
print("JETTISON-LIBS " + json.dumps(
    {lib: {"package": owner(lib), "users": sorted(set(u))[:3]} for lib, u in sorted(libs.items())}
))
"""

_BASE = r"""
import json, os, subprocess, sys
pk = subprocess.run(["dpkg-query", "-W", "-f=${Package}\n"], capture_output=True, text=True)
print("JETTISON-BASE " + json.dumps(
    {"packages": sorted(set(pk.stdout.split())),
     "present": [p for p in sys.argv[1:] if os.path.exists(p)]}
))
"""


@dataclass
class LibraryScan:
    packages: list[str]  # Debian packages the runtime stage must install, sorted
    libraries: list[str]  # sonames those packages provide to the virtualenv, sorted
    unmapped: list[str] = field(default_factory=list)  # libraries no package owns, missing
    seconds: float = 0.0


def _run_python(sdk: Any, image: str, script: str, args: list[str], marker: str) -> Any:
    name = f"jettison-scan-{secrets.token_hex(4)}"
    try:
        container = sdk.containers.create(
            image,
            name=name,
            entrypoint=["python3", "-c", script, *args],
            command=[],
            network_mode="none",
            user="0",
            labels={"org.jettison.scan": "1"},
        )
    except docker.errors.APIError as exc:
        raise JettisonError(f"cannot scan {image}: {exc.explanation or exc}") from None
    try:
        container.start()
        status = container.wait(timeout=300)
        output = container.logs().decode("utf-8", "replace")
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)
    line = next((ln for ln in output.splitlines() if ln.startswith(marker + " ")), None)
    if line is None:
        raise JettisonError(
            f"library scan in {image} failed (exit {status.get('StatusCode')}): "
            + output.strip()[-200:]
        )
    return json.loads(line[len(marker) + 1 :])


def scan(plan: Plan, context: Path, sdk: Any | None = None) -> LibraryScan:
    """Build the builder stage and find the runtime packages (see the module docs)."""
    import time

    started = time.monotonic()
    sdk = sdk or docker_client()
    text = render(plan, [])
    with tempfile.TemporaryDirectory(prefix="jettison-ms-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(text, encoding="utf-8")
        try:
            result = build(context, dockerfile, target=BUILDER, sdk=sdk)
        except JettisonError as exc:
            raise JettisonError(
                f"the builder stage of the multi-stage conversion does not build: {exc.message}",
                plan.df.path,
            ) from None
    try:
        found = _run_python(sdk, result.image_id, _SCAN, [VENV], "JETTISON-LIBS")
    finally:
        remove_image(result.image_id, sdk)
    libs: dict[str, dict[str, Any]] = found
    base = _run_python(sdk, plan.runtime_base, _BASE, sorted(libs), "JETTISON-BASE")
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
    return LibraryScan(
        sorted(packages), sorted(libraries), unmapped, seconds=time.monotonic() - started
    )
