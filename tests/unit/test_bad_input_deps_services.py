"""Bad input to ``jettison deps`` and the services verbs (services, build, ci): one clear
error naming the file (and line where there is one), exit code 2, never an internal error;
in ``deps`` the file is skipped and the rest still analysed. No engine is needed: DOCKER_HOST
points at a socket that does not exist.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jettison.deps import analyze, collect
from jettison.deps.declared import parse_pipfile, parse_pyproject, parse_requirements_file
from jettison.deps.image import environment_from_image
from jettison.deps.imports import scan_imports
from jettison.deps.metadata import environment_from_sites
from jettison.errors import JettisonError
from jettison.services.graph import load_graph
from jettison.services.multiarch import unbuildable
from jettison.services.plan import make_plan
from jettison.services.project import open_project
from tests.unit.cli_helpers import one_error, run

pytestmark = pytest.mark.usefixtures("no_engine")


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """An empty virtualenv, outside the projects: metadata from nothing, quickly."""
    path = tmp_path / "venv"
    (path / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return path


def deps_json(root: Path, venv: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run("deps", str(root), "--venv", str(venv), "--format", "json", *extra)
    assert "internal error" not in err and "Traceback" not in err, err
    return code, json.loads(out), err


def no_env() -> Any:
    env = environment_from_sites([], "nothing")
    env.exact = False
    return env


# --- deps: notebooks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notebook", "expected"),
    [
        ({"cells": 5}, "'cells' is a number, not a list"),
        ([1, 2], "the JSON is a list, not an object"),
        ({"cells": [3]}, "cell 1 is a number, not an object"),
        (
            {"cells": [{"cell_type": "code", "source": [1, 2]}]},
            "the source of cell 1 holds a number, not lines of text",
        ),
        (
            {"cells": [{"cell_type": "code", "source": {"a": 1}}]},
            "the source of cell 1 is an object, not text",
        ),
        (
            {"cells": [{"cell_type": "code", "source": None}]},
            "the source of cell 1 is null, not text",
        ),
    ],
)
def test_notebook_of_the_wrong_shape_is_one_error(
    notebook: object, expected: str, tmp_path: Path, venv: Path
) -> None:
    root = write(
        tmp_path / "p",
        {"nb.ipynb": json.dumps(notebook), "app.py": "import requests\n"},
    )
    scan = scan_imports(root)
    assert [str(e) for e in scan.errors] == [f"{root / 'nb.ipynb'}: invalid notebook: " + expected]
    assert [i.module for i in scan.imports] == ["requests"]  # the rest is analysed
    code, data, _ = deps_json(root, venv)
    assert code == 2
    assert data["errors"] == [str(scan.errors[0])]
    assert [m["name"] for m in data["missing"]] == ["requests"]


def test_valid_notebook_still_read(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": 5},  # not code: never read
        {"cell_type": "code", "source": ["import numpy\n", "%matplotlib inline\n"]},
        {"cell_type": "code", "source": "import pandas"},
    ]
    root = write(tmp_path / "p", {"nb.ipynb": json.dumps({"cells": cells})})
    scan = scan_imports(root)
    assert scan.errors == []
    assert [(i.module, i.line) for i in scan.imports] == [("numpy", 2), ("pandas", 3)]


def test_too_deeply_nested_sources_are_skipped_with_their_name(tmp_path: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "deep.ipynb": "[" * 100_000,
            "sum.py": "x = " + "1+" * 100_000 + "1\n",
            "neg.py": "x = " + "-" * 100_000 + "1\n",
            "ok.py": "import requests\n",
        },
    )
    scan = scan_imports(root)
    assert sorted(str(e) for e in scan.errors) == [
        f"{root / 'deep.ipynb'}: invalid notebook: JSON too deeply nested",
        f"{root / 'neg.py'}: cannot parse Python, skipped: too deeply nested",
        f"{root / 'sum.py'}: cannot parse Python, skipped: too deeply nested",
    ]
    assert [i.module for i in scan.imports] == ["requests"]


# --- deps: unreadable directories ---------------------------------------------------------


def _deny(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make directory ``name`` unreadable as it is without permission (even for root): it
    cannot be listed and nothing inside it can be looked at."""
    real_stat, real_scandir, real_listdir = os.stat, os.scandir, os.listdir

    def inside(path: Any) -> bool:
        return not isinstance(path, int) and name in Path(os.fsdecode(path)).parts[:-1]

    def itself(path: Any) -> bool:
        return not isinstance(path, int) and Path(os.fsdecode(path)).name == name

    def refuse(path: Any) -> None:
        raise PermissionError(13, "Permission denied", os.fsdecode(path))

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if inside(path):
            refuse(path)
        return real_stat(path, *args, **kwargs)

    def scandir(path: Any = ".") -> Any:
        if itself(path) or inside(path):
            refuse(path)
        return real_scandir(path)

    def listdir(path: Any = ".") -> list[str]:
        if itself(path) or inside(path):
            refuse(path)
        return real_listdir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)


def test_unreadable_directory_is_skipped_and_named(
    tmp_path: Path, venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(
        tmp_path / "p",
        {"ok/m.py": "import requests\n", "unread/x.py": "import flask\n"},
    )
    _deny(monkeypatch, "unread")
    scan = scan_imports(root)
    assert [str(e) for e in scan.errors] == [
        f"{root / 'unread'}: cannot read directory, skipped: Permission denied"
    ]
    assert [i.module for i in scan.imports] == ["requests"]
    code, data, _ = deps_json(root, venv)
    assert code == 2 and data["errors"] == [str(scan.errors[0])]
    assert [m["name"] for m in data["missing"]] == ["requests"]
    # the project's own directory: nothing to analyse
    code, _, err = run("deps", str(root / "unread"), "--venv", str(venv))
    assert code == 2
    assert err == f"jettison: error: {root / 'unread'}: cannot read directory: Permission denied\n"


# --- deps: manifests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'[project]\nname = "x"\ndescription = "\xff\xfe"\n', ":3: invalid TOML: not valid UTF-8"),
        (
            b'[project]\nname = "x"\noptional-dependencies = "x"\n',
            ":3: project.optional-dependencies must be a table, not a string",
        ),
        (
            b'[project]\nname = "x"\ndependencies = 5\n',
            ":3: project.dependencies must be an array of requirement strings, not an integer",
        ),
        (
            b'[project]\nname = "x"\ndependencies = [1, "requests"]\n',
            ":3: an item of project.dependencies must be a requirement string, not an integer",
        ),
        (
            b"[project.optional-dependencies]\nweb = 5\n",
            ":2: project.optional-dependencies.web must be an array of requirement strings",
        ),
        (b"project = 5\n", ":1: project must be a table, not an integer"),
        (
            b"[dependency-groups]\ndev = [{a = 1}]\n",
            ":2: an item of dependency-groups.dev must be a requirement string, not a table",
        ),
        (
            b"[tool.uv]\ndev-dependencies = 'x'\n",
            ":2: tool.uv.dev-dependencies must be an array of requirement strings, not a string",
        ),
        (b"[tool.pdm]\ndev-dependencies = 4\n", ":2: tool.pdm.dev-dependencies must be a table"),
        (
            b"[tool.poetry]\ndependencies = [1]\n",
            ":2: tool.poetry.dependencies must be a table, not an array",
        ),
        (b"[tool.poetry.group]\nfoo = 3\n", ":2: tool.poetry.group.foo must be a table"),
        (
            b"[tool.poetry.group.foo]\ndependencies = 3\n",
            ":2: tool.poetry.group.foo.dependencies must be a table, not an integer",
        ),
        (
            b"[tool.poetry.dependencies]\nrequests = {extras = 5}\n",
            ":2: tool.poetry.dependencies.requests.extras must be an array of strings",
        ),
        (
            b"[tool.poetry.dependencies]\nrequests = 5\n",
            ":2: tool.poetry.dependencies.requests must be a version string or a table",
        ),
        (b"a = " + b"[" * 100_000, ": invalid TOML: too deeply nested"),
    ],
)
def test_pyproject_of_the_wrong_shape_is_one_error(
    content: bytes, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(content)
    found = parse_pyproject(path)
    assert len(found.errors) == 1, found.errors
    assert str(found.errors[0]).startswith(f"{path}{expected}"), found.errors


def test_pyproject_wrong_types_through_the_cli(tmp_path: Path, venv: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "pyproject.toml": '[project]\nname = "x"\noptional-dependencies = "x"\n',
            "app.py": "import requests\n",
        },
    )
    code, data, _ = deps_json(root, venv)
    assert code == 2
    assert data["errors"] == [
        f"{root / 'pyproject.toml'}:3: project.optional-dependencies must be a table, not a string"
    ]


def test_valid_pyproject_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[project]\nname = 'x'\ndependencies = ['requests>=2']\n"
        "[project.optional-dependencies]\nweb = ['flask']\n"
        "[dependency-groups]\ndev = ['pytest', {include-group = 'lint'}]\nlint = ['ruff']\n"
        "[tool.poetry.dependencies]\npython = '^3.11'\nnumpy = [{version = '1'}]\n"
        "pandas = {version = '2', extras = ['excel']}\n",
        encoding="utf-8",
    )
    found = parse_pyproject(path)
    assert found.errors == []
    assert [(d.name, d.line) for d in found.declared] == [
        ("requests", 3),
        ("flask", 5),
        ("pytest", 7),
        ("ruff", 8),
        ("numpy", 11),
        ("pandas", 12),
    ]
    assert found.declared[-1].extras == frozenset({"excel"})


def test_pipfile_of_the_wrong_shape_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile"
    path.write_text("[packages]\nrequests = {extras = 5}\n")
    assert [str(e) for e in parse_pipfile(path).errors] == [
        f"{path}:2: packages.requests.extras must be an array of strings, not an integer"
    ]
    path.write_bytes(b"packages = 5\n")
    assert [str(e) for e in parse_pipfile(path).errors] == [
        f"{path}:1: [packages] must be a table, not an integer"
    ]
    path.write_bytes(b"[packages]\n# \xff\n")
    assert [str(e) for e in parse_pipfile(path).errors] == [
        f"{path}:2: cannot read Pipfile: not valid UTF-8 text"
    ]


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)) * 12, b"\0" * 3000, b"requests\n\0\0\0flask\n"],
    ids=["random", "nul", "text-with-nul"],
)
def test_binary_requirements_file_is_one_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(content)
    found = parse_requirements_file(path)
    assert [str(e) for e in found.errors] == [f"{path}: binary data, not a requirements file"]
    assert found.declared == []


def test_utf16_requirements_are_still_text(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes("requests\nflask==3.0\n".encode("utf-16"))  # with its byte-order mark
    found = parse_requirements_file(path)
    assert found.errors == [] and [d.name for d in found.declared] == ["requests", "flask"]


def test_requirement_error_is_reported_once(tmp_path: Path) -> None:
    root = write(
        tmp_path / "p",
        {
            "requirements.txt": "requests\nfoo==\n",
            # installed by the Dockerfile and found as a manifest: read twice, reported once
            "Dockerfile": "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n",
            "app.py": "import requests\n",
        },
    )
    report = analyze(collect(root), no_env())
    messages = [str(e) for e in report.errors]
    assert len(messages) == 1, messages
    # packaging's message repeats the requirement under a caret: said once is enough
    assert messages[0].startswith(f"{root / 'requirements.txt'}:2: malformed requirement 'foo=='")
    assert messages[0].count("foo==") == 1


def test_image_option_given_a_file_that_is_no_image(tmp_path: Path, venv: Path) -> None:
    # a file is read as an archive, as `jettison inspect` reads it (docker load not needed)
    archive = tmp_path / "some.tar"
    archive.write_bytes(b"\0" * 1024)
    with pytest.raises(JettisonError, match="not an image archive"):
        environment_from_image(str(archive))
    root = write(tmp_path / "p", {"app.py": "import os\n"})
    for given, said in (
        (str(archive), f"{archive}: not an image archive: neither manifest.json nor index.json"),
        ("/nowhere/x.tar", "/nowhere/x.tar: no such archive or directory"),
        ("docker-archive:/nowhere/x.tar", "/nowhere/x.tar: no such file"),
    ):
        code, _, err = run("deps", str(root), "--image", given)
        one_error(code, err, said)


# --- services: the compose file -----------------------------------------------------------


def compose_project(root: Path, compose: str, dockerfiles: dict[str, str] | None = None) -> Path:
    files: dict[str, str | bytes] = {"compose.yaml": compose}
    files.update(dockerfiles or {"a/Dockerfile": "FROM python:3.12\n"})
    return write(root, files) / "compose.yaml"


def one_error_of(argv: list[str], *expected: str) -> str:
    code, _, err = run(*argv)
    one_error(code, err, *expected)
    return err


def test_too_deeply_nested_compose_names_the_file(tmp_path: Path) -> None:
    compose = compose_project(tmp_path / "p", "services:\n  a: " + "[" * 1000 + "\n")
    with pytest.raises(JettisonError) as caught:
        open_project(compose)
    assert str(caught.value) == f"{compose}: compose file too deeply nested to read"
    for argv in (["services"], ["ci", "github"], ["build"]):
        one_error_of([*argv, str(compose)], f"{compose}: compose file too deeply nested")


@pytest.mark.parametrize(
    ("compose", "expected"),
    [
        (
            "services:\n  a:\n    build: a\n    image: x\n    image: y\n",
            "compose.yaml:5: duplicate key 'image' (first at line 4)",
        ),
        (
            "services:\n  a:\n    build: a\n  a:\n    build: a\n",
            "compose.yaml:4: duplicate key 'a' (first at line 2)",
        ),
        (
            "name: x\nname: y\nservices: {}\n",
            "compose.yaml:2: duplicate key 'name' (first at line 1)",
        ),
    ],
)
def test_duplicate_keys_in_compose(compose: str, expected: str, tmp_path: Path) -> None:
    path = compose_project(tmp_path / "p", compose)
    with pytest.raises(JettisonError) as caught:
        open_project(path)
    assert str(caught.value).endswith(expected)
    one_error_of(["services", str(path)], expected)


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    path = compose_project(
        tmp_path / "p",
        "x-base: &base\n  image: x\n  build: a\nservices:\n  a:\n    <<: *base\n    image: y\n"
        "  b:\n    <<: *base\n",
    )
    project = open_project(path)
    assert [(s.name, s.image) for s in project.services] == [("a", "y"), ("b", "x")]


@pytest.mark.parametrize(
    ("build", "kind"), [("5", "an integer"), ("[a]", "a list"), ("true", "a boolean")]
)
def test_build_of_the_wrong_type(build: str, kind: str, tmp_path: Path) -> None:
    path = compose_project(tmp_path / "p", f"services:\n  a:\n    image: x\n    build: {build}\n")
    expected = f"{path}:4: service 'a': build must be a string (the context) or a mapping, not "
    with pytest.raises(JettisonError) as caught:
        make_plan(path)
    assert str(caught.value) == expected + kind
    one_error_of(["services", str(path)], expected + kind)


@pytest.mark.parametrize(
    "contexts",
    ['\n        x: "service:b"', '\n        - "x=service:b"'],
    ids=["mapping", "list"],
)
def test_cycle_through_additional_contexts(contexts: str, tmp_path: Path) -> None:
    path = compose_project(
        tmp_path / "cyc",
        "services:\n  a:\n    build:\n      context: a\n      additional_contexts:"
        f"{contexts}\n  b:\n    build: b\n",
        {"a/Dockerfile": "FROM python:3.12\n", "b/Dockerfile": "FROM cyc-a\n"},
    )
    expected = f"{path}:6: build graph has a cycle: a -> b -> a"
    with pytest.raises(JettisonError) as caught:
        load_graph(path)
    assert str(caught.value) == expected
    for argv in (["services"], ["ci", "github"], ["build"]):
        one_error_of([*argv, str(path)], expected)


def test_additional_context_orders_the_build(tmp_path: Path) -> None:
    path = compose_project(
        tmp_path / "p",
        "services:\n  a:\n    build:\n      context: a\n      additional_contexts:\n"
        '        x: "service:b"\n        y: ../shared\n  b:\n    build: b\n',
        {"a/Dockerfile": "FROM python:3.12\n", "b/Dockerfile": "FROM python:3.12\n"},
    )
    graph = load_graph(path)
    assert graph.levels == [["b"], ["a"]]
    assert graph.targets["a"].deps == []  # not an image it builds FROM: no bake context


# --- services: Dockerfiles ----------------------------------------------------------------


def test_unbuildable_platform_message_reads() -> None:
    [(_, why)] = unbuildable(["foo/bar"])
    assert why.startswith("no emulator for it registered in binfmt_misc"), why


def test_unreadable_dockerfile_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = compose_project(
        tmp_path / "p",
        "services:\n  a:\n    build:\n      context: a\n      dockerfile: X.Dockerfile\n",
        {"a/X.Dockerfile": "FROM python:3.12\n"},
    )
    dockerfile = (tmp_path / "p" / "a" / "X.Dockerfile").resolve()
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "X.Dockerfile":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    expected = f"{dockerfile}: cannot read Dockerfile: Permission denied"
    with pytest.raises(JettisonError) as caught:
        make_plan(path)
    assert str(caught.value) == expected
    one_error_of(["services", str(path)], expected)
    one_error_of(["services", str(dockerfile)], expected)


def test_dockerfile_that_does_not_parse_names_its_path_once(tmp_path: Path) -> None:
    dockerfile = write(tmp_path, {"X.Dockerfile": "FROM\n"}) / "X.Dockerfile"
    for argv in (["build"], ["ci", "github"]):
        err = one_error_of([*argv, str(dockerfile)], f"{dockerfile}:1: Dockerfile does not parse: ")
        assert err.count(str(dockerfile)) == 1, err
    # ``services`` leaves such a service alone, as before
    code, out, _ = run("services", str(dockerfile))
    assert code == 0 and "left alone: its Dockerfile does not parse" in out
