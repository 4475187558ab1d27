"""A one-file audit (pre-commit hooks, editors) pays only for what it uses: no Docker SDK
client (requests, urllib3), no rich, no process pool; the .dockerignore matcher is still
the SDK's own code; without the context scan, none of the scanner, the compose reader, the
deps analysis or the other report formats. (uuid, platform, inspect and datetime come with
click itself.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jettison.build_context.matcher import PatternMatcher

DOCKERFILE = "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
NOT_ON_THE_AUDIT_PATH = (
    "docker",
    "requests",
    "urllib3",
    "rich",
    "multiprocessing",
    "concurrent.futures",
    "tree_sitter_bash",  # its __init__ imports importlib.resources: the grammar loads alone
    "importlib.resources",
    "difflib",  # hints in error messages
)
# what only a context scan (or a compose file) needs, and what no text report of a Dockerfile
# without a config file needs
NOT_ON_THE_NO_CONTEXT_PATH = (
    "tarfile",
    "tempfile",
    "shutil",
    "jettison.audit.contexts",
    "jettison.build_context.scan",
    "jettison.compose",
    "jettison.deps",
    "packaging",
    "email",
    "tomllib",
    "textwrap",  # the rules' docs are dedented when read, not when declared
    "json",
    "jettison.report.sarif",
    "jettison.report.ci",
    "jettison.report.markdown",
)

# runs the command in this interpreter as the console script does, and writes the names of
# the modules loaded when it ends (after the output is written: all it imported)
HARNESS = """
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write("\\n".join(sys.modules)))
from jettison.cli import main
main()
"""


def imported_modules(args: list[str], cwd: Path, dump: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, str(dump), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "JT103" in done.stdout  # the run audited the Dockerfile
    return set(dump.read_text().splitlines())


def loaded(names: set[str], top: str) -> bool:
    return any(n == top or n.startswith(top + ".") for n in names)


@pytest.mark.parametrize("args", [["audit", "Dockerfile"], ["audit", "--no-context", "Dockerfile"]])
def test_a_one_file_audit_imports_no_docker_client(tmp_path: Path, args: list[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(DOCKERFILE)
    (project / "requirements.txt").write_text("flask\n")
    (project / ".dockerignore").write_text(".git\n**/__pycache__\n!keep/__pycache__\n")
    names = imported_modules(args, project, tmp_path / "modules.txt")
    assert "jettison.rules.registry" in names and "tree_sitter" in names  # it did the work
    for top in NOT_ON_THE_AUDIT_PATH:
        assert not loaded(names, top), top
    if "--no-context" in args:
        configs = ("pyproject.toml", ".jettison.toml")
        config_above = any((d / c).exists() for d in tmp_path.parents for c in configs)
        for top in NOT_ON_THE_NO_CONTEXT_PATH:
            if top == "tomllib" and config_above:
                continue  # a configuration file above the temporary directory is read
            assert not loaded(names, top), top
    else:  # the scan did run
        assert "jettison.build_context.scan" in names


def test_the_grammar_is_tree_sitter_bashs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The grammar loaded without the package's __init__ is the package's own: the same
    language, the same parse; and the usual import stands in when the layout is not the one
    expected."""
    import tree_sitter
    import tree_sitter_bash

    from jettison.dockerfile import bash_grammar

    ours = tree_sitter.Language(bash_grammar._load_binding().language())
    theirs = tree_sitter.Language(tree_sitter_bash.language())
    assert ours == theirs and ours.name == "bash"
    assert ours.node_kind_count == theirs.node_kind_count > 100
    script = b'apt-get update && apt-get install -y curl | tee log; echo "$(id -u)" >&2'
    trees = [str(tree_sitter.Parser(lang).parse(script).root_node) for lang in (ours, theirs)]
    assert trees[0] == trees[1] and "pipeline" in trees[0]

    def moved() -> None:
        raise ImportError("unexpected layout")

    monkeypatch.setattr(bash_grammar, "_load_binding", moved)
    monkeypatch.delitem(sys.modules, "tree_sitter_bash")
    bash_grammar._binding.cache_clear()
    try:
        assert tree_sitter.Language(bash_grammar.language()) == theirs
        assert "tree_sitter_bash" in sys.modules  # the usual import
    finally:
        bash_grammar._binding.cache_clear()


PATTERNS = [
    ".git",
    "**/__pycache__",
    "**/*.pyc",
    "!keep/**/*.pyc",
    "/build",
    "docs/*.md",
    "!docs/README.md",
    "node_modules",
    "*.log",
    "a/**/b",
    "[a-c]x?",
    "./dist",
    "data/",
]
PATHS = [
    ".git",
    ".git/config",
    "src/__pycache__/x.pyc",
    "keep/deep/x.pyc",
    "build/out",
    "docs/a.md",
    "docs/README.md",
    "docs/sub/a.md",
    "node_modules/x/index.js",
    "x.log",
    "logs/x.log",
    "a/b",
    "a/x/y/b",
    "bxq",
    "dxq",
    "dist/pkg.whl",
    "data/file",
    "src/app.py",
]


def test_the_matcher_is_the_sdks() -> None:
    """Same class code, same answers as ``docker.utils.build.PatternMatcher`` (which the
    test imports the usual way) on every pattern and path above."""
    import docker.utils.build

    ours = PatternMatcher(PATTERNS)
    theirs = docker.utils.build.PatternMatcher(PATTERNS)
    assert type(ours).__name__ == "PatternMatcher" and type(ours) is not PatternMatcher
    assert [ours.matches(p) for p in PATHS] == [theirs.matches(p) for p in PATHS]
    assert any(ours.matches(p) for p in PATHS) and not all(ours.matches(p) for p in PATHS)
    # one pattern at a time too (safe_patterns matches candidates singly)
    for pattern in PATTERNS:
        one, other = PatternMatcher([pattern]), docker.utils.build.PatternMatcher([pattern])
        assert [one.matches(p) for p in PATHS] == [other.matches(p) for p in PATHS], pattern
