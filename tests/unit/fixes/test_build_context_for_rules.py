"""Rules read the project's files from the build context, also when the Dockerfile sits
outside it (`docker build -f docker/Dockerfile .`, as `jettison fix -f ... --context` says)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from jettison.cli import cli
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import fix_source

DOCKERFILE = (
    "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
)


def _project(root: Path) -> Path:
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text("pandas==2.2.2\n")
    return root / "docker" / "Dockerfile"


def test_the_context_directory_is_the_dockerfiles_folder_unless_given(tmp_path: Path) -> None:
    path = str(tmp_path / "docker" / "Dockerfile")
    assert parse_dockerfile(DOCKERFILE, path).context_dir == tmp_path / "docker"
    assert parse_dockerfile(DOCKERFILE, path, str(tmp_path)).context_dir == tmp_path


def test_a_rule_reads_the_requirements_at_the_context_root(tmp_path: Path) -> None:
    dockerfile = _project(tmp_path)
    config = Config(select=["JT136"])
    alone = fix_source(DOCKERFILE, str(dockerfile), config, unsafe=True)
    assert not alone.changed  # docker/ holds no requirements.txt: nothing known, no claim
    with_context = fix_source(DOCKERFILE, str(dockerfile), config, True, str(tmp_path))
    assert with_context.changed and "-name tests" in with_context.text


def test_fix_with_file_and_context(tmp_path: Path) -> None:
    _project(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "fix", "--unsafe-fixes", "--select", "JT136", "--diff",
            "-f", str(tmp_path / "docker" / "Dockerfile"), "--context", str(tmp_path),
        ],
    )  # fmt: skip
    assert "+RUN pip install --no-cache-dir -r requirements.txt && find / -xdev" in result.stdout
