"""``deps --image`` reads images through the resolver ``inspect`` uses: docker-archive, OCI
archive and OCI layout built here, layers replayed with their whiteouts, no engine."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import jettison.deps.image as deps_image
from jettison.deps.image import environment_from_image
from jettison.deps.metadata import Environment
from jettison.image.sources import LayerData
from jettison.image.tarscan import TarEntry
from tests.unit.cli_helpers import one_error, run
from tests.unit.image.helpers import Spec, layer, legacy_archive, oci_archive, oci_layout

from .conftest import write

SITE = "usr/local/lib/python3.11/site-packages"
DIST = "usr/lib/python3/dist-packages"


def _meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def _record(*paths: str) -> bytes:
    # no size column: every size must come from the image's merged filesystem
    return "".join(f"{p},,\n" for p in paths).encode()


BASE: Spec = [
    (SITE, "d", None),
    # requests: one module replaced above (bigger), one replaced by same-size other bytes,
    # one deleted by a whiteout; a console script installed as a symlink
    (f"{SITE}/requests/__init__.py", "f", b"a" * 1000),
    (f"{SITE}/requests/api.py", "f", b"b" * 200),
    (f"{SITE}/requests/old.py", "f", b"c" * 400),
    (f"{SITE}/requests-2.31.0.dist-info/METADATA", "f", _meta("requests", "2.31.0")),
    (
        f"{SITE}/requests-2.31.0.dist-info/RECORD",
        "f",
        _record(
            "requests/__init__.py", "requests/api.py", "requests/old.py", "../../../bin/normalizer"
        ),
    ),
    ("usr/local/bin/normalizer", "l", "../lib/python3.11/site-packages/requests/api.py"),
    # flask: deleted by whiteouts of its package and its dist-info
    (f"{SITE}/flask/__init__.py", "f", b"f" * 500),
    (f"{SITE}/flask-3.0.0.dist-info/METADATA", "f", _meta("Flask", "3.0.0")),
    (f"{SITE}/flask-3.0.0.dist-info/RECORD", "f", _record("flask/__init__.py")),
    # PyYAML: its package directory made opaque above (rm -rf yaml; re-created)
    (f"{SITE}/yaml/__init__.py", "f", b"y" * 2000),
    (f"{SITE}/yaml/extra.py", "f", b"e" * 300),
    (f"{SITE}/PyYAML-6.0.dist-info/METADATA", "f", _meta("PyYAML", "6.0")),
    (
        f"{SITE}/PyYAML-6.0.dist-info/RECORD",
        "f",
        _record("yaml/__init__.py", "yaml/extra.py", "yaml/copy.py"),
    ),
    # oldlib: its dist-info directory made opaque and left empty above: no metadata
    (f"{SITE}/oldlib/__init__.py", "f", b"o" * 50),
    (f"{SITE}/oldlib-1.0.dist-info/METADATA", "f", _meta("oldlib", "1.0")),
    (f"{SITE}/oldlib-1.0.dist-info/RECORD", "f", _record("oldlib/__init__.py")),
    # an egg-info under Debian's dist-packages, untouched above
    (f"{DIST}/six.py", "f", b"s" * 900),
    (f"{DIST}/six-1.16.0.egg-info/PKG-INFO", "f", _meta("six", "1.16.0")),
    (f"{DIST}/six-1.16.0.egg-info/installed-files.txt", "f", b"../six.py\nPKG-INFO\n"),
    (f"{DIST}/six-1.16.0.egg-info/top_level.txt", "f", b"six\n"),
]
UPPER: Spec = [
    (f"{SITE}/flask", "w", None),
    (f"{SITE}/flask-3.0.0.dist-info", "w", None),
    (f"{SITE}/requests/old.py", "w", None),
    (f"{SITE}/requests/__init__.py", "f", b"A" * 1500),
    (f"{SITE}/requests/api.py", "f", b"B" * 200),
    (f"{SITE}/requests-2.31.0.dist-info/METADATA", "f", _meta("requests", "2.32.3")),
]
TOP: Spec = [
    (f"{SITE}/yaml", "o", None),
    (f"{SITE}/yaml/__init__.py", "f", b"Y" * 2500),
    (f"{SITE}/yaml/copy.py", "h", f"{SITE}/yaml/__init__.py"),
    (f"{SITE}/oldlib-1.0.dist-info", "o", None),
]
LAYERS = [layer(BASE), layer(UPPER), layer(TOP)]
EXPECTED = {
    # name: (version, size_bytes, files listed)
    "requests": ("2.32.3", 1500 + 200, 4),  # old.py deleted, the symlink 0
    "pyyaml": ("6.0", 2500, 3),  # extra.py hidden by the opaque dir, the hard link 0
    "six": ("1.16.0", 900 + len(_meta("six", "1.16.0")), 2),
}


def _summary(env: Environment) -> dict[str, tuple[str, int, int]]:
    return {d.name: (d.version, d.size_bytes, d.files) for d in env.dists.values()}


def _docker_archive(tmp: Path) -> str:
    path = tmp / "app.tar"
    path.write_bytes(legacy_archive(LAYERS))
    return f"docker-archive:{path}"


def _oci_archive_gzipped(tmp: Path) -> str:
    path = tmp / "app.tar.gz"  # an existing file, no prefix: chosen as an archive
    path.write_bytes(gzip.compress(oci_archive(LAYERS, compress="gzip")))
    return str(path)


def _oci_layout(tmp: Path) -> str:
    return "oci:" + str(oci_layout(tmp / "layout", LAYERS))


def _oci_layout_zstd(tmp: Path) -> str:
    return str(oci_layout(tmp / "layout", LAYERS, compress="zstd"))  # an existing directory


@pytest.mark.parametrize(
    "make", [_docker_archive, _oci_archive_gzipped, _oci_layout, _oci_layout_zstd]
)
def test_merged_filesystem_of_every_local_source(
    tmp_path: Path, make: Callable[[Path], str]
) -> None:
    reference = make(tmp_path)
    env = environment_from_image(reference)
    assert _summary(env) == EXPECTED
    assert env.source == f"image {reference}" and env.exact
    # modules come from RECORD, as for any environment
    assert env.dists["requests"].modules == {"requests", "requests.api", "requests.old"}
    assert env.providers("yaml.loader") == {"pyyaml"}
    assert env.providers("flask") == set()  # deleted by a whiteout


def test_each_layer_alone_and_in_order(tmp_path: Path) -> None:
    """The same files read with fewer layers: what the upper layers change is theirs."""
    path = tmp_path / "base.tar"
    path.write_bytes(legacy_archive(LAYERS[:1]))
    assert _summary(environment_from_image(f"docker-archive:{path}")) == {
        "requests": ("2.31.0", 1000 + 200 + 400, 4),
        "flask": ("3.0.0", 500, 1),
        "pyyaml": ("6.0", 2000 + 300, 3),
        "oldlib": ("1.0", 50, 1),
        "six": EXPECTED["six"],
    }
    path.write_bytes(legacy_archive(LAYERS[:2]))
    two = _summary(environment_from_image(f"docker-archive:{path}"))
    assert two["requests"] == EXPECTED["requests"] and "flask" not in two
    assert two["pyyaml"] == ("6.0", 2300, 3) and two["oldlib"] == ("1.0", 50, 1)


def test_only_metadata_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = deps_image.iter_content

    def recording(layer_data: LayerData, entry: TarEntry) -> Iterable[bytes]:
        read.append(entry.name)
        return real(layer_data, entry)

    monkeypatch.setattr(deps_image, "iter_content", recording)
    environment_from_image(_docker_archive(tmp_path))
    # each from the layer whose copy is visible: requests' METADATA from the upper layer
    assert sorted(read) == sorted(
        [
            f"{SITE}/requests-2.31.0.dist-info/METADATA",
            f"{SITE}/requests-2.31.0.dist-info/RECORD",
            f"{SITE}/PyYAML-6.0.dist-info/METADATA",
            f"{SITE}/PyYAML-6.0.dist-info/RECORD",
            f"{DIST}/six-1.16.0.egg-info/PKG-INFO",
            f"{DIST}/six-1.16.0.egg-info/installed-files.txt",
            f"{DIST}/six-1.16.0.egg-info/top_level.txt",
        ]
    )


def test_cli_deps_image_docker_archive_end_to_end(tmp_path: Path) -> None:
    reference = _docker_archive(tmp_path)
    root = write(
        tmp_path / "p",
        {"requirements.txt": "requests\npyyaml\n", "app.py": "import requests\n"},
    )
    code, out, err = run("deps", str(root), "--image", reference, "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    assert [(u["name"].lower(), u["size_bytes"]) for u in data["unused"]] == [("pyyaml", 2500)]
    assert data["missing"] == []


@pytest.mark.usefixtures("no_engine")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("docker-archive:{tmp}/missing.tar", "{tmp}/missing.tar: no such file"),
        ("oci:{tmp}/missing", "{tmp}/missing: not an OCI image layout (no index.json)"),
        ("{tmp}/missing.tar", "{tmp}/missing.tar: no such archive or directory"),
        ("./missing.tar", "./missing.tar: no such archive or directory"),
        ("{tmp}/zeros.tar", "{tmp}/zeros.tar: not an image archive: neither manifest.json"),
        ("{tmp}/text.tar", "{tmp}/text.tar: corrupt tar header: bad checksum field"),
        ("app:1", "no Docker engine answers"),
        ("app 1", "not an image reference: 'app 1'"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, given: str, expected: str) -> None:
    (tmp_path / "zeros.tar").write_bytes(bytes(1024))
    (tmp_path / "text.tar").write_bytes(b"not a tar\n" * 100)
    root = write(tmp_path / "p", {"app.py": "import os\n"})
    given, expected = given.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    code, _, err = run("deps", str(root), "--image", given)
    one_error(code, err, expected)
