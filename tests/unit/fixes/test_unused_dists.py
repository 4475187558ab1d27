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

    def __init__(self, requires: dict[str, list[str]]) -> None:
        self.dists = {name: type("D", (), {"size_bytes": 1000})() for name in requires}
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
