"""Environments to read metadata from: the project's own virtualenv, an interpreter, or a
throwaway virtualenv the declared requirements are resolved into (``--resolve``).

The throwaway venv uses ``uv`` when it is on PATH (fast) and ``python -m venv`` + pip
otherwise. If installing everything at once fails (a package not on the index, no network),
each requirement is installed alone so that the others are still known; the failures are
returned so the report can say which mappings are guesses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from jettison.deps.metadata import Environment, environment_from_sites, site_dirs_of_venv
from jettison.errors import JettisonError


def find_project_venv(root: Path) -> Path | None:
    for name in (".venv", "venv", "env", ".env"):
        candidate = root / name
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    return None


def environment_from_venv(venv: Path) -> Environment:
    sites = site_dirs_of_venv(venv)
    if not sites:
        raise JettisonError("no site-packages directory in this virtualenv", str(venv))
    return environment_from_sites(sites, f"virtualenv {venv}")


def environment_from_python(python: str) -> Environment:
    """The environment of another interpreter (its sys.path site directories)."""
    try:
        done = subprocess.run(
            [python, "-c", "import json, sys; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise JettisonError(f"cannot run {python}: {exc}") from None
    paths = [Path(p) for p in json.loads(done.stdout) if p]
    sites = [p for p in paths if p.name in ("site-packages", "dist-packages")]
    return environment_from_sites(sites, f"python {python}")


def _run(argv: list[str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def resolve_environment(
    requirements: Iterable[str],
    python: str | None = None,
) -> tuple[Environment, list[str]]:
    """Install ``requirements`` into a temporary venv and read its metadata.

    Returns the environment and the requirements that could not be installed (with pip's
    last error line). The venv is deleted before returning.
    """
    reqs = sorted(set(requirements))
    failures: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="jettison-deps-"))
    venv = tmp / "venv"
    uv = shutil.which("uv")
    interpreter = python or sys.executable
    try:
        if uv:
            made = _run([uv, "venv", "--quiet", "--python", interpreter, str(venv)])
            install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
        else:
            made = _run([interpreter, "-m", "venv", "--without-pip", str(venv)])
            install = [
                interpreter,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "install",
                "--quiet",
                "--no-input",
                "--ignore-installed",
                "--prefix",
                str(venv),
            ]
        if made.returncode != 0:
            raise JettisonError(f"cannot create a virtualenv: {_last_line(made.stderr)}")
        if reqs:
            done = _run([*install, *reqs])
            if done.returncode != 0:
                # install what can be installed, one by one, and say what could not
                for req in reqs:
                    one = _run([*install, req])
                    if one.returncode != 0:
                        failures.append(f"{req}: {_last_line(one.stderr)}")
        env = environment_from_sites(site_dirs_of_venv(venv), "resolved virtualenv")
        env.source = f"resolved virtualenv ({'uv' if uv else 'pip'})"
        return env, failures
    except subprocess.TimeoutExpired:
        raise JettisonError("resolving the requirements took too long (15 min)") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed"
