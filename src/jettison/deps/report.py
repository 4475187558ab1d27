"""What ``jettison deps`` reports: the codes (JT901-JT906), one :class:`DepItem` per finding,
the :class:`DepsReport` with its JSON and findings."""

from dataclasses import dataclass, field
from typing import Any

from jettison import units
from jettison.deps.declared import Declared
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity
from jettison.rules import codes as c
from jettison.rules.codes import OTHER_CODES

_Entry = tuple[str, Severity, str, str]


def _entry(code: str, severity: Severity, key: str, summary: str) -> tuple[str, _Entry]:
    return code, (OTHER_CODES[code].name, severity, key, summary)


# code -> (rule name, severity, JSON key, one-line summary); codes and names are declared
# with every other code in jettison.rules.codes
CODES: dict[str, _Entry] = dict(
    [
        _entry(
            c.UNUSED_DISTRIBUTION,
            Severity.WARNING,
            "unused",
            "declared or installed for run time, but never imported or used",
        ),
        _entry(
            c.UNDECLARED_IMPORT,
            Severity.ERROR,
            "missing",
            "imported or used at run time, but no declared distribution provides it",
        ),
        _entry(
            c.UNDECLARED_TRANSITIVE,
            Severity.WARNING,
            "undeclared_transitive",
            "imported, but installed only as a dependency of another package",
        ),
        _entry(
            c.ONLY_NEEDED_BY_ANOTHER,
            Severity.INFO,
            "only_needed_by",
            "declared, not used directly, but required by a used package",
        ),
        _entry(
            c.DEV_DEPENDENCY_IN_RUNTIME,
            Severity.WARNING,
            "dev_in_runtime",
            "a development-only package among the runtime dependencies",
        ),
        _entry(
            c.DEV_DEPENDENCY_IMPORTED_AT_RUNTIME,
            Severity.ERROR,
            "dev_imported_at_runtime",
            "runtime code imports a package declared only for development",
        ),
    ]
)


@dataclass
class DepItem:
    code: str
    name: str  # distribution name as written (or the module, when no distribution is known)
    reason: str
    path: str
    line: int
    size_bytes: int | None = None  # its own installed files
    freed_bytes: int | None = None  # its files plus the dependencies only it needs
    exclusive: list[str] = field(default_factory=list)
    guessed: bool = False
    declarations: list[Declared] = field(default_factory=list)
    # a used distribution that lists it as an optional dependency (it may load it without
    # an import in the project): "WTForms (extra 'email')"
    optional_of: str | None = None

    @property
    def removable(self) -> bool:
        return self.code in (c.UNUSED_DISTRIBUTION, c.DEV_DEPENDENCY_IN_RUNTIME)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "size_bytes": self.size_bytes,
            "freed_bytes": self.freed_bytes,
            "exclusive_dependencies": self.exclusive,
            "reason": self.reason,
            "path": self.path,
            "line": self.line,
            "guessed_mapping": self.guessed,
            "declared_in": [f"{d.path}:{d.line}" for d in self.declarations],
        }


@dataclass
class DepsReport:
    root: str
    environment: str
    items: list[DepItem] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)  # files that could not be read
    notes: list[str] = field(default_factory=list)  # resolution failures and the like
    guesses: list[str] = field(default_factory=list)
    used: dict[str, list[str]] = field(default_factory=dict)
    removable_bytes: int | None = None
    files_scanned: int = 0
    declared: int = 0

    def of(self, code: str) -> list[DepItem]:
        return [i for i in self.items if i.code == code]

    def findings(self) -> list[Finding]:
        out = []
        for item in self.items:
            name, severity, _, _ = CODES[item.code]
            out.append(
                Finding(
                    code=item.code,
                    message=_message(item),
                    path=item.path,
                    line=item.line,
                    end_line=item.line,
                    severity=severity,
                    rule_name=name,
                )
            )
        return sorted(out, key=Finding.sort_key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"root": self.root, "environment": self.environment}
        for code, (_, _, key, _) in CODES.items():
            data[key] = [i.to_json() for i in self.items if i.code == code]
        data["removable_bytes"] = self.removable_bytes
        data["used"] = {k: v[:3] for k, v in sorted(self.used.items())}
        data["guesses"] = self.guesses
        data["errors"] = [str(e) for e in self.errors]
        data["notes"] = self.notes
        data["files_scanned"] = self.files_scanned
        return data


def human_bytes(n: int | None) -> str:
    """Sizes in deps' messages: up to GB, ``?`` when unknown (sizes are never negative)."""
    return units.human_bytes(n, largest="GB", missing="?")


def _message(item: DepItem) -> str:
    cost = ""
    if item.size_bytes is not None and item.removable:
        cost = f" ({human_bytes(item.size_bytes)}"
        if item.freed_bytes and item.freed_bytes > item.size_bytes:
            cost += (
                f", {human_bytes(item.freed_bytes)} with {len(item.exclusive)} "
                "dependencies only it needs"
            )
        cost += ")"
    guess = " [mapping guessed]" if item.guessed else ""
    return f"{item.name}{cost}: {item.reason}{guess}"
