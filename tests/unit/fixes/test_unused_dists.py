"""UNUSEDDISTS without the engine: which declarations go, and the uninstall edit."""

from __future__ import annotations

from jettison.deps.report import DepItem, DepsReport
from jettison.deps.requirements import Declared
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.apply import apply_edits
from jettison.fixes.unused_dists import choose, requirement_installs, with_uninstalls
from jettison.rules import codes as c


def _item(name: str, path: str = "requirements.txt", **kw: object) -> DepItem:
    decl = Declared(name.lower(), name, path, 3)
    return DepItem(c.UNUSED_DISTRIBUTION, name, "never imported", path, 3,
                   declarations=[decl], **kw)  # type: ignore[arg-type]  # fmt: skip


def _report(*items: DepItem) -> DepsReport:
    report = DepsReport(".", "image x")
    report.items.extend(items)
    return report


def test_real_metadata_unused_from_a_requirements_file_goes_with_its_own_dependencies() -> None:
    httpie = _item("httpie", size_bytes=800_000, freed_bytes=13_000_000)
    httpie.exclusive = ["Pygments", "rich"]
    found = choose(_report(httpie), ["requirements.txt"], "Dockerfile")
    assert found.unused == ["httpie"]
    assert found.by_file == {"requirements.txt": ["httpie", "Pygments", "rich"]}
    assert found.saved_bytes == 13_000_000


def test_guesses_optional_dependencies_and_explicit_installs_stay() -> None:
    found = choose(
        _report(
            _item("guessed", guessed=True),
            _item("email-validator", optional_of="WTForms (extra 'email')"),
            _item("cryptography", path="Dockerfile"),
            _item("fromtoml", path="pyproject.toml"),
        ),
        ["requirements.txt"],
        "Dockerfile",
    )
    assert found.unused == [] and found.by_file == {}
    assert set(found.kept) == {"guessed", "email-validator", "cryptography", "fromtoml"}
    assert "WTForms" in found.kept["email-validator"]


def test_uninstall_follows_the_install_with_the_same_pip() -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip --no-cache-dir install -r requirements.txt && rm -rf /tmp/x\n"
        "RUN pip install --prefix=/install -r requirements.txt\n"
        "RUN [ -f x ] && pip install -r requirements.txt || true\n"
    )
    df = parse_dockerfile(text, "Dockerfile")
    # --prefix hides the packages from `pip uninstall`; after `|| true` an uninstall would
    # run where the install failed
    assert [(i.line, f) for i, _, f in requirement_installs(df)] == [(4, "requirements.txt")]
    found = choose(_report(_item("httpie")), ["requirements.txt"], "Dockerfile")
    fixed = apply_edits(text, with_uninstalls(df, found))
    assert (
        "RUN pip --no-cache-dir install -r requirements.txt \\\n"
        "    && pip --no-cache-dir uninstall -y httpie && rm -rf /tmp/x\n"
    ) in fixed
    parse_dockerfile(fixed, "Dockerfile")


def test_a_declaration_in_another_directory_matches_only_its_own_file() -> None:
    found = choose(
        _report(_item("httpie", path="services/api/requirements.txt")),
        ["requirements.txt", "/app/services/api/requirements.txt"],
        "Dockerfile",
    )
    assert found.by_file == {"/app/services/api/requirements.txt": ["httpie"]}


class _Env:
    """The two things ``choose`` asks of an image's environment."""

    def __init__(
        self, requires: dict[str, list[str]], modules: dict[str, list[str]] | None = None
    ) -> None:
        self.dists = {
            name: type(
                "D",
                (),
                {
                    "size_bytes": 1000,
                    "display_name": name,
                    "modules": frozenset((modules or {}).get(name, [name.replace("-", "_")])),
                },
            )()
            for name in requires
        }
        self.requires = requires

    def closure(self, roots: object) -> dict[str, str]:
        seen: dict[str, str] = {}
        todo = [(n, n) for n, _ in roots]  # type: ignore[attr-defined]
        while todo:
            name, root = todo.pop()
            if name not in seen:
                seen[name] = root
                todo += [(r, root) for r in self.requires.get(name, [])]
        return seen


def test_what_a_staying_distribution_requires_stays() -> None:
    """microblog: email-validator stays (Flask-WTF's optional dependency), so dnspython,
    which only it requires and the code never imports, must stay too."""
    env = _Env({"flask-wtf": [], "email-validator": ["dnspython"], "dnspython": [], "httpie": []})
    found = choose(
        _report(
            _item("dnspython"),
            _item("httpie"),
            _item("email-validator", optional_of="Flask-WTF (extra 'email')"),
        ),
        ["requirements.txt"],
        "Dockerfile",
        env=env,
    )
    assert found.unused == ["httpie"] and found.by_file == {"requirements.txt": ["httpie"]}
    assert found.kept["dnspython"] == "email-validator requires it"


def test_what_a_staying_distribution_imports_without_requiring_it_stays() -> None:
    """fastapi-celery: pytest is unused and goes with what only it requires (pluggy,
    packaging by metadata), but kombu's redis transport imports packaging without declaring
    it: the import found in kombu's own files keeps packaging."""
    env = _Env(
        {"kombu": [], "pytest": ["pluggy", "packaging"], "pluggy": [], "packaging": []},
        {"kombu": ["kombu", "kombu.transport", "kombu.transport.redis"]},
    )
    report = _report(_item("pytest", exclusive=["pluggy", "packaging"]))
    imports = {("kombu", None): frozenset({"kombu.utils", "packaging.version", "redis"})}
    found = choose(report, ["requirements.txt"], "Dockerfile", env=env, imports=imports)
    assert found.by_file == {"requirements.txt": ["pytest", "pluggy"]}, found
    assert found.unused == ["pytest"]
    # without the imports, metadata alone removes packaging too
    alone = choose(report, ["requirements.txt"], "Dockerfile", env=env)
    assert alone.by_file == {"requirements.txt": ["pytest", "pluggy", "packaging"]}


def test_an_unused_distribution_a_staying_one_imports_is_kept_and_says_why() -> None:
    env = _Env({"celery": [], "aiofiles": []}, {"celery": ["celery"], "aiofiles": ["aiofiles"]})
    imports = {("celery", None): frozenset({"aiofiles.os"})}
    found = choose(
        _report(_item("aiofiles")), ["requirements.txt"], "Dockerfile", env=env, imports=imports
    )
    assert found.unused == [] and found.by_file == {}
    assert found.kept["aiofiles"] == "celery imports it (`aiofiles.os`) without requiring it"


def test_import_statements_are_read_as_python_writes_them() -> None:
    from jettison.deps.image import _imported_names

    text = (
        b"import os, json as j\n"
        b"from packaging.version import Version  # comment\n"
        b"def f():\n"
        b"    from google.cloud import storage, bigquery as bq\n"
        b"    import yaml.cyaml\n"
        b"from . import sibling\n"
        b"from .. import parent\n"
        b"x = 'import nothing'\n"
    )
    names = _imported_names(text)
    assert {"os", "json", "packaging.version", "packaging.version.Version"} <= names
    assert {"google.cloud", "google.cloud.storage", "google.cloud.bigquery"} <= names
    assert "yaml.cyaml" in names and "nothing" not in names
    assert not any(n.startswith(".") or n == "sibling" for n in names)


def test_a_plugin_modules_imports_count_only_while_its_tool_stays() -> None:
    """celery ships a pytest plugin (entry point pytest11 = celery.contrib.pytest) that
    imports pytest: only pytest loads it, so with pytest gone nothing does, and pytest
    can go; an import in celery's own code would keep it."""
    env = _Env(
        {"celery": [], "pytest": ["pluggy"], "pluggy": []},
        {"celery": ["celery", "celery.contrib.pytest"]},
    )
    report = _report(_item("pytest", exclusive=["pluggy"]))
    plugin = {("celery", "pytest"): frozenset({"pytest"}), ("celery", None): frozenset({"kombu"})}
    found = choose(report, ["requirements.txt"], "Dockerfile", env=env, imports=plugin)
    assert found.by_file == {"requirements.txt": ["pytest", "pluggy"]}, found
    direct = {("celery", None): frozenset({"pytest"})}
    kept = choose(report, ["requirements.txt"], "Dockerfile", env=env, imports=direct)
    assert kept.by_file == {} and "celery imports it" in kept.kept["pytest"]


def test_entry_point_modules_are_read_with_their_group() -> None:
    from jettison.deps.metadata import parse_entry_point_modules

    text = (
        "[pytest11]\ncelery = celery.contrib.pytest\n"
        "[console_scripts]\ncelery = celery.__main__:main [extra]\n"
    )
    assert parse_entry_point_modules(text) == {
        ("pytest11", "celery.contrib.pytest"),
        ("console_scripts", "celery.__main__"),
    }
