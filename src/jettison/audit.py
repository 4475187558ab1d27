"""``jettison audit`` as a library: discover inputs, parse, run rules, apply suppressions."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jettison.config import Config
from jettison.dockerfile import Dockerfile, parse_dockerfile
from jettison.dockerfile.parse import decode_dockerfile
from jettison.errors import JettisonError
from jettison.findings import Finding
from jettison.rules.registry import Rule, RuleContext, all_rules

_SKIP_DIRS = {
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    ".hg",
    ".svn",
}
_DOCKERFILE_NAME = re.compile(
    r"^(Dockerfile|Containerfile)([._-].*)?$|.*\.(Dockerfile|dockerfile|Containerfile)$"
)
_COMPOSE_NAME = re.compile(r"^(docker-)?compose([._-].*)?\.ya?ml$")


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE_NAME.match(name)) and not name.endswith((".md", ".dockerignore"))


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE_NAME.match(name))


@dataclass
class Inputs:
    dockerfiles: list[str] = field(default_factory=list)
    compose_files: list[str] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)


def discover(paths: Sequence[str]) -> Inputs:
    """Expand paths, globs and directories into Dockerfiles and compose files."""
    found = Inputs()
    seen: set[str] = set()

    def add(path: str, explicit: bool) -> None:
        key = os.path.normpath(path)
        if key in seen:
            return
        name = os.path.basename(path)
        if is_compose_name(name):
            seen.add(key)
            found.compose_files.append(path)
        elif explicit or is_dockerfile_name(name):
            seen.add(key)
            found.dockerfiles.append(path)

    for raw in paths:
        if os.path.isdir(raw):

            def unreadable(exc: OSError) -> None:  # os.walk skips these silently otherwise
                found.errors.append(
                    JettisonError(f"cannot read directory: {exc.strerror}", exc.filename)
                )

            before = len(found.dockerfiles) + len(found.compose_files) + len(found.errors)
            for root, dirs, files in os.walk(raw, onerror=unreadable):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    add(os.path.join(root, name), explicit=False)
            if len(found.dockerfiles) + len(found.compose_files) + len(found.errors) == before:
                # an empty or mistyped directory must not pass as "0 findings"
                found.errors.append(
                    JettisonError(
                        "no Dockerfile, Containerfile or compose file found in this directory",
                        raw,
                    )
                )
        elif os.path.exists(raw) or os.path.islink(raw):
            add(raw, explicit=True)
        elif any(ch in raw for ch in "*?["):
            import glob

            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                found.errors.append(JettisonError("no files match this pattern", raw))
            for match in matches:
                if os.path.isfile(match):
                    add(match, explicit=True)
        else:
            found.errors.append(JettisonError("no such file or directory", raw))
    return found


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    files: int = 0
    paths: list[str] = field(default_factory=list)  # the files checked


def select_rules(config: Config, scope: str | None = None) -> list[Rule]:
    return [
        r
        for r in all_rules()
        if config.enabled(r.code, r.equivalents) and (scope is None or r.scope == scope)
    ]


def check_dockerfile(df: Dockerfile, config: Config) -> list[Finding]:
    """Run every enabled Dockerfile rule, then apply suppressions and severity overrides."""
    findings: list[Finding] = []
    for rule in select_rules(config, "dockerfile"):
        if rule.check is None:
            continue
        findings.extend(rule.check(RuleContext(df, rule)))
    return finalize(df, findings, config)


def finalize(df: Dockerfile | None, findings: Iterable[Finding], config: Config) -> list[Finding]:
    suppress = Suppressions(df) if df is not None else None
    out = []
    for f in findings:
        if suppress is not None and suppress.hides(f):
            continue
        if config.ignored_for_path(f.code, f.path):
            continue
        level = config.severity_of(f.code, f.severity, f.equivalents)
        if level is not f.severity:
            f = dataclasses.replace(f, severity=level)
        out.append(f)
    out.sort(key=Finding.sort_key)
    return out


_JETTISON_PRAGMA = re.compile(r"^jettison:\s*(ignore-file|ignore)\s*(?:=\s*([A-Za-z0-9_,\s]*))?")
_HADOLINT_PRAGMA = re.compile(r"^hadolint\s+(global\s+|stage\s+)?ignore\s*=\s*([A-Za-z0-9_,\s]+)")


class Suppressions:
    """``# jettison: ignore=CODE`` (next instruction), ``# jettison: ignore-file=CODE`` and
    hadolint's ``# hadolint [global] ignore=DLxxxx`` for the rules that correspond."""

    ALL = "*"

    def __init__(self, df: Dockerfile) -> None:
        self.file_codes: set[str] = set()
        self.by_line: dict[int, set[str]] = {}
        for comment in df.comments:
            self._read_file_level(comment.text)
        for ins in df.instructions:
            codes: set[str] = set()
            for comment in ins.comments_above:
                codes |= self._read_local(comment.text)
            if codes:
                for line in range(ins.line, ins.end_line + 1):
                    self.by_line.setdefault(line, set()).update(codes)
        # a stage-wide hadolint pragma applies to every instruction of the next stage
        for stage in df.stages:
            codes = set()
            for comment in stage.from_instruction.comments_above:
                m = _HADOLINT_PRAGMA.match(comment.text)
                if m and m.group(1) and m.group(1).strip() == "stage":
                    codes |= _split_codes(m.group(2))
            if codes:
                for ins in stage.instructions:
                    for line in range(ins.line, ins.end_line + 1):
                        self.by_line.setdefault(line, set()).update(codes)

    def _read_file_level(self, text: str) -> None:
        m = _JETTISON_PRAGMA.match(text)
        if m and m.group(1) == "ignore-file":
            self.file_codes |= _split_codes(m.group(2)) or {self.ALL}
        h = _HADOLINT_PRAGMA.match(text)
        if h and h.group(1) and h.group(1).strip() == "global":
            self.file_codes |= _split_codes(h.group(2))

    def _read_local(self, text: str) -> set[str]:
        m = _JETTISON_PRAGMA.match(text)
        if m and m.group(1) == "ignore":
            return _split_codes(m.group(2)) or {self.ALL}
        h = _HADOLINT_PRAGMA.match(text)
        if h and not h.group(1):
            return _split_codes(h.group(2))
        return set()

    def _matches(self, codes: set[str], finding: Finding) -> bool:
        if self.ALL in codes or finding.code in codes:
            return True
        return any(v in codes for v in finding.equivalents.values())

    def hides(self, finding: Finding) -> bool:
        if self._matches(self.file_codes, finding):
            return True
        codes = self.by_line.get(finding.line)
        return codes is not None and self._matches(codes, finding)


def _split_codes(text: str | None) -> set[str]:
    if not text:
        return set()
    return {c.strip().upper() for c in re.split(r"[,\s]+", text) if c.strip()}


def audit_dockerfile_path(path: str, config: Config) -> tuple[list[Finding], list[JettisonError]]:
    """Audit one Dockerfile; a parse error becomes an error entry, never an exception."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        return [], [JettisonError("is a directory, not a Dockerfile", path)]
    except OSError as exc:
        return [], [JettisonError(f"cannot read: {exc.strerror}", path)]
    return audit_dockerfile_bytes(data, path, config)


def audit_dockerfile_bytes(
    data: bytes, path: str, config: Config
) -> tuple[list[Finding], list[JettisonError]]:
    """Audit a Dockerfile's content (from a file, or standard input named ``path``)."""
    try:
        df = parse_dockerfile(decode_dockerfile(data, path), path)
    except JettisonError as exc:
        return [], [exc]
    except RecursionError:
        return [], [JettisonError("too deeply nested to analyse", path)]
    try:
        return check_dockerfile(df, config), []
    except RecursionError:
        return [], [JettisonError("too deeply nested to analyse", path)]


def _audit_chunk(args: tuple[list[str], Config]) -> list[tuple[list[Finding], list[JettisonError]]]:
    paths, config = args
    return [audit_dockerfile_path(p, config) for p in paths]


def audit_dockerfiles(
    paths: Sequence[str],
    config: Config,
    jobs: int | None = None,
) -> AuditResult:
    """Audit many Dockerfiles, on every core when there are enough of them to pay off."""
    result = AuditResult(files=len(paths), paths=list(paths))
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(paths) < 24:
        outcomes = [audit_dockerfile_path(p, config) for p in paths]
    else:
        # imported here: multiprocessing and concurrent.futures cost a one-file audit ~15 ms
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = max(8, len(paths) // (jobs * 4))
        chunks = [(list(paths[i : i + size]), config) for i in range(0, len(paths), size)]
        # spawn, not fork: the Go runtime inside the BuildKit parser does not survive fork()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
            outcomes = [o for chunk in pool.map(_audit_chunk, chunks) for o in chunk]
    for findings, errors in outcomes:
        result.findings.extend(findings)
        result.errors.extend(errors)
    return result


def audit_paths(
    paths: Sequence[str], config: Config, jobs: int | None = None, context: bool = True
) -> AuditResult:
    """Everything ``jettison audit`` does for a list of paths, globs and directories."""
    from jettison.context.audit import audit_compose_files, audit_contexts

    inputs = discover(paths)
    result = audit_dockerfiles(inputs.dockerfiles, config, jobs)
    result.errors[:0] = inputs.errors
    compose = audit_compose_files(inputs.compose_files, config)
    result.findings.extend(compose.findings)
    result.errors.extend(compose.errors)
    result.files += len(inputs.compose_files)
    result.paths += inputs.compose_files
    if context:
        ctx = audit_contexts(inputs.dockerfiles, compose.contexts, config)
        result.findings.extend(ctx.findings)
        result.errors.extend(ctx.errors)
    result.findings.sort(key=Finding.sort_key)
    return result
