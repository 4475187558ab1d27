"""`jettison inspect` end to end on synthetic archives: formats, gate, errors, attribution."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from jettison.cli import cli
from jettison.dockerfile import parse_dockerfile
from jettison.errors import JettisonError
from jettison.image import thresholds
from jettison.image.attribution import HistoryEntry, align, final_instructions, split_created_by
from jettison.image.bloat import classify
from jettison.image.model import Inode, Node
from jettison.image.tarscan import REG, TarEntry
from tests.unit.image.helpers import config_for, layer, legacy_archive
from tests.unit.image.test_replay import L0, L1, L2

DOCKERFILE = """FROM debian:bookworm-slim
ARG V=1
RUN apt-get update && \\
    apt-get install -y gcc
COPY app.py /app/
RUN rm -rf /var/lib/apt/lists
CMD ["python3"]
"""


@pytest.fixture()
def image(tmp_path: Path) -> Path:
    base = layer([("etc", "d", None), ("etc/os", "f", b"debian")])
    lists = [
        ("var", "d", None),
        ("var/lib", "d", None),
        ("var/lib/apt", "d", None),
        ("var/lib/apt/lists", "d", None),
    ]
    lists += [(f"var/lib/apt/lists/l{i}", "f", bytes([i]) * 400_000) for i in range(5)]
    tools = [("usr", "d", None), ("usr/bin", "d", None), ("usr/bin/gcc-12", "f", b"g" * 1_500_000)]
    install = layer([*lists, *tools])
    copy = layer([("app", "d", None), ("app/app.py", "f", b"print(1)\n")])
    remove = layer([("var/lib/apt/lists", "w", None)])
    layers = [base, install, copy, remove]
    history = [
        {"created_by": "ADD rootfs.tar / # buildkit"},
        {"created_by": 'CMD ["bash"]', "empty_layer": True},
        {"created_by": "ARG V=1", "empty_layer": True},
        {
            "created_by": "RUN |1 V=1 /bin/sh -c apt-get update &&     apt-get install -y "
            "gcc # buildkit"
        },
        {"created_by": "COPY app.py /app/ # buildkit"},
        {"created_by": "RUN |1 V=1 /bin/sh -c rm -rf /var/lib/apt/lists # buildkit"},
        {"created_by": 'CMD ["python3"]', "empty_layer": True},
    ]
    path = tmp_path / "img.tar"
    path.write_bytes(legacy_archive(layers, config_for(layers, history)))
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["inspect", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_report_and_attribution(image: Path) -> None:
    code, out, _ = run(
        str(image), "--format", "json", "--dockerfile", str(image.parent / "Dockerfile")
    )
    assert code == 0
    data = json.loads(out)
    for key in (
        "image",
        "size_bytes",
        "layers",
        "reclaimable_bytes",
        "duplicate_bytes",
        "dive",
        "categories",
        "findings",
    ):
        assert key in data
    assert data["reclaimable_bytes"] == 2_000_000
    assert [
        lay["instruction"]["line"] if lay["instruction"] else None for lay in data["layers"]
    ] == [None, 3, 5, 6]
    jt109 = [f for f in data["findings"] if f["code"] == "JT109"]
    assert len(jt109) == 1 and jt109[0]["line"] == 3
    assert (
        "Dockerfile:3 `RUN apt-get update && apt-get install -y gcc` left 2.0 MB in "
        "/var/lib/apt/lists" in jt109[0]["message"]
    )
    assert "deleted later by " in jt109[0]["message"] and ":6 `RUN rm -rf" in jt109[0]["message"]
    cats = {c["id"]: c for c in data["categories"]}
    assert cats["toolchain"]["code"] == "JT110" and cats["toolchain"]["bytes"] == 1_500_000
    assert set(data["dive"]) >= {"efficiency", "wasted_bytes", "user_wasted_percent"}


def test_gate_cli_config_and_dive_ci(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(str(image), "--fail-on", "reclaimable-bytes=1MB")
    assert code == 1 and "JI001" in out
    assert run(str(image), "--fail-on", "reclaimable-bytes=3MB")[0] == 0
    (tmp_path / ".jettison.toml").write_text("[inspect.fail-on]\nreclaimable-percent = 10\n")
    assert run(str(image))[0] == 1
    (tmp_path / ".jettison.toml").unlink()
    # dive itself rates this image 100 % efficient: its directory whiteout is invisible to it
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: disabled\n"
    )
    assert run(str(image))[0] == 0
    other = tmp_path / "other.tar"
    other.write_bytes(legacy_archive([L0, L1, L2]))
    code, out, _ = run(str(other), "--format", "json")
    assert code == 1
    assert json.loads(out)["gate"]["efficiency"]["value"] == "0.99"
    # the command line wins over .dive-ci
    assert run(str(other), "--fail-on", "efficiency=0")[0] == 0


def test_output_formats_and_atomic_output(image: Path, tmp_path: Path) -> None:
    assert json.loads(run(str(image), "--format", "sarif")[1])["version"] == "2.1.0"
    assert "## jettison inspect" in run(str(image), "--format", "markdown")[1]
    assert "::warning" in run(str(image), "--format", "github")[1]
    target = tmp_path / "out" / "r.json"
    target.parent.mkdir()
    assert run(str(image), "--format", "json", "-o", str(target))[0] == 0
    assert json.loads(target.read_text())["size_bytes"] > 0
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]


def test_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"garbage" * 200)
    code, _, err = run(str(bad))
    assert code == 2 and err.count("\n") == 1 and "jettison: error:" in err
    code, _, err = run(str(tmp_path / "none.tar"))
    assert code == 2 and "no such archive" in err
    code, _, err = run(str(bad), "--fail-on", "nonsense=1")
    assert code == 2 and "unknown threshold" in err


def test_thresholds_parse_like_dive() -> None:
    assert thresholds.parse_bytes("20MB") == 20_000_000
    assert thresholds.parse_bytes("1.5GiB") == 1_610_612_736
    assert thresholds.parse_bytes("1024") == 1024
    with pytest.raises(ValueError):
        thresholds.parse_bytes("lots")
    got = thresholds.from_cli(("efficiency=0.9,wasted-bytes=20MB", "size=off"))
    assert set(got) == {"efficiency", "wasted-bytes"}
    failed = thresholds.evaluate(got, {"efficiency": 0.85, "wasted-bytes": 1.0})
    assert [t.key for t, _, _ in failed] == ["efficiency"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  lowestEfficiency: 0.9\n   bad: [\n", r"\.dive-ci:3: cannot read dive CI"),
        ("- rules\n", r"\.dive-ci: not a dive CI config"),
        ("rules:\n  fastest: 1\n", r"\.dive-ci: unknown threshold 'fastest'"),
        ("rules: [1]\n", r"\.dive-ci: 'rules' must be a mapping"),
    ],
)
def test_dive_ci_errors_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / ".dive-ci"
    path.write_text(text)
    with pytest.raises(JettisonError) as caught:
        thresholds.from_dive_ci(path)
    assert re.search(expected, str(caught.value)), str(caught.value)
    assert "\n" not in str(caught.value) and "<unicode string>" not in str(caught.value)


def test_config_inspect_section_of_the_wrong_type_is_an_error() -> None:
    with pytest.raises(JettisonError, match=r"pyproject.toml: \[tool.jettison\] inspect must"):
        thresholds.from_config({"inspect": 5}, "pyproject.toml")
    with pytest.raises(JettisonError, match=r"^pyproject.toml: unknown threshold 'x'"):
        thresholds.from_config({"inspect": {"fail-on": {"x": 1}}}, "pyproject.toml")
    assert thresholds.from_config({"inspect": {"fail-on": {}}}, "pyproject.toml") == {}


def test_created_by_forms() -> None:
    assert split_created_by("RUN |2 A=1 B=2 /bin/sh -c make  all # buildkit") == ("RUN", "make all")
    assert split_created_by("/bin/sh -c #(nop)  ENV A=b") == ("ENV", "A=b")
    assert split_created_by("/bin/sh -c pip install x") == ("RUN", "pip install x")
    assert split_created_by("COPY . . # buildkit") == ("COPY", ". .")


def test_alignment_skips_base_history() -> None:
    df = parse_dockerfile(DOCKERFILE, "Dockerfile")
    hist = [
        HistoryEntry(t, "", False)
        for t in (
            "RUN /bin/sh -c apt-get update # buildkit",
            "COPY app.py /app/ # buildkit",
            "RUN |1 V=1 /bin/sh -c apt-get update &&     apt-get install -y gcc # buildkit",
            "COPY app.py /app/ # buildkit",
            "RUN |1 V=1 /bin/sh -c rm -rf /var/lib/apt/lists",
        )
    ]
    matched = align(hist, final_instructions(df))
    assert {h: ins.line for h, (ins, _) in matched.items() if ins.keyword != "ARG"} == {
        2: 3,
        3: 5,
        4: 6,
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("var/lib/apt/lists/deb.debian.org_dists", "apt-lists"),
        ("root/.cache/pip/http/a/b", "pip-cache"),
        ("usr/local/lib/python3.11/site-packages/numpy/tests/t.py", "python-tests-docs"),
        ("app/__pycache__/m.cpython-311.pyc", "pycache"),
        ("usr/include/stdio.h", "toolchain"),
        ("usr/lib/x86_64-linux-gnu/libc.a", "static-libs"),
        ("usr/bin/vim.basic", "editors-debug"),
        ("app/.env", "secrets"),
        ("root/.ssh/id_rsa", "secrets"),
        ("opt/conda/pkgs/numpy.tar.bz2", "conda-cache"),
        ("root/.npm/_cacache/x", "npm-cache"),
    ],
)
def test_bloat_categories(path: str, expected: str) -> None:
    entry = TarEntry(path, REG, 10, 0o644, 0, 0, 0, "", 0)
    node = Node(REG, 0, entry, inode=Inode(10, 0, entry, path))
    assert expected in [c for c, _ in classify(path, node)]


def test_same_result_from_every_layout(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(legacy_archive([L0, L1, L2]))
    code, out, _ = run(str(path), "--format", "json", "--source", "archive")
    assert code == 0 and json.loads(out)["reclaimable_bytes"] == 1220


def test_no_engine_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    code, _, err = run("some-image:1")
    assert code == 2
    assert err.startswith("jettison: error: no Docker engine answers") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("unix:///nonexistent/docker.sock", "No such file or directory"),
        ("tcp://127.0.0.1:1", "Connection refused"),
    ],
)
def test_no_engine_names_the_host_and_why(
    monkeypatch: pytest.MonkeyPatch, host: str, why: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    code, _, err = run("some-image:1", "--format", "json")
    assert code == 2
    assert (
        err == f"jettison: error: no Docker engine answers ({host}: {why}); give an "
        "archive, OCI layout or registry reference instead\n"
    )


def test_the_command_leaves_no_temporary_file(image: Path, tmp_path: Path) -> None:
    """The command removes its spool once its answer is written (in a child, just after
    its exit): still, nothing of it is left."""
    import gzip
    import os
    import subprocess
    import sys
    import time

    packed = tmp_path / "img.tar.gz"  # a whole gzipped archive is spooled, decompressed
    packed.write_bytes(gzip.compress(image.read_bytes()))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "jettison", "inspect", str(packed), "--format", "json"],
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["layers"]
    deadline = time.monotonic() + 60
    while list(scratch.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(scratch.iterdir()) == []
