"""Packages a container uses without an import: console scripts and ``python -m`` run by the
Dockerfile and entrypoint scripts, server worker classes, SQLAlchemy/Celery/Redis URLs,
Django settings strings and dotted class paths in configuration.

A :class:`Use` names a module, a console script or an entry point; the analysis maps it to
distributions with the same metadata as imports. ``strict`` uses are certain enough to report
as missing when nothing provides them (``postgresql+psycopg2://`` needs psycopg2); the others
only keep a declared package from being called unused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jettison.deps.declared import (
    RUNTIME,
    Declared,
    Manifests,
    parse_requirement_text,
    parse_requirements_file,
    pip_install_packages,
)
from jettison.deps.imports import SKIP_DIRS, ImportUse, ScanResult, is_dev_path
from jettison.dockerfile import Dockerfile, Instruction, MappedText
from jettison.dockerfile.shell import parse_script
from jettison.errors import JettisonError


@dataclass(frozen=True)
class Use:
    kind: str  # "module", "script" or "entry-point" (target "group:name")
    target: str
    path: str
    line: int
    reason: str
    alternatives: tuple[str, ...] = ()  # any one of these modules satisfies the use
    strict: bool = False
    dev: bool = False


@dataclass
class DockerfileFacts:
    uses: list[Use] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    requirement_files: list[str] = field(default_factory=list)
    installs_project: bool = False  # ``pip install .`` / ``-e .``
    system_packages: set[str] = field(default_factory=set)  # apt/apk/dnf packages


# SQLAlchemy dialect -> default DBAPI module when the URL names no driver
_DIALECT_DEFAULT = {
    "postgresql": ("psycopg2", "psycopg", "asyncpg", "pg8000"),
    "postgres": ("psycopg2", "psycopg", "asyncpg", "pg8000"),
    "mysql": ("MySQLdb", "pymysql", "aiomysql", "asyncmy", "mysql.connector"),
    "mariadb": ("MySQLdb", "pymysql", "mariadb"),
    "mssql": ("pyodbc", "pymssql"),
    "oracle": ("cx_Oracle", "oracledb"),
    "cockroachdb": ("sqlalchemy_cockroachdb",),
}
# driver names in URLs whose module name differs
_DRIVER_MODULE = {
    "mysqldb": "MySQLdb",
    "mysqlconnector": "mysql.connector",
    "cx_oracle": "cx_Oracle",
    "pysqlite": "sqlite3",
    "pysqlcipher": "sqlcipher3",
    "psycopg2cffi": "psycopg2cffi",
    "pyhive": "pyhive",
}
# other URL schemes -> client modules (any one satisfies)
_SCHEME_MODULES = {
    "redis": ("redis", "aioredis", "coredis", "valkey"),
    "rediss": ("redis", "aioredis", "coredis", "valkey"),
    "amqp": ("amqp", "kombu", "pika", "aio_pika", "aiormq"),
    "amqps": ("amqp", "kombu", "pika", "aio_pika", "aiormq"),
    "pyamqp": ("amqp",),
    "mongodb": ("pymongo", "motor", "mongoengine"),
    "sqs": ("boto3",),
    "memcache": ("pymemcache", "pylibmc", "memcache"),
    "nats": ("nats",),
    "elasticsearch": ("elasticsearch",),
}
# pip's VCS URLs (git+https://, hg+ssh://) and transports that are never database drivers
_VCS_SCHEMES = frozenset({"git", "hg", "svn", "bzr"})
_TRANSPORTS = frozenset({"http", "https", "ssh", "file", "ftp", "git"})
_URL = re.compile(r"(?<![A-Za-z0-9+])([a-z][a-z0-9]*)(?:\+([a-z0-9_]+))?://")

# Django settings values that name a backend whose driver is another distribution
_DJANGO_ENGINES = {
    "django.db.backends.postgresql": ("psycopg2", "psycopg"),
    "django.db.backends.postgresql_psycopg2": ("psycopg2",),
    "django.contrib.gis.db.backends.postgis": ("psycopg2", "psycopg"),
    "django.db.backends.mysql": ("MySQLdb",),
    "django.db.backends.oracle": ("cx_Oracle", "oracledb"),
    "django.core.cache.backends.redis.RedisCache": ("redis",),
    "django.core.cache.backends.memcached.PyMemcacheCache": ("pymemcache",),
    "django.core.cache.backends.memcached.PyLibMCCache": ("pylibmc",),
    # password hashers whose algorithm another distribution implements
    "django.contrib.auth.hashers.Argon2PasswordHasher": ("argon2",),
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher": ("bcrypt",),
    "django.contrib.auth.hashers.BCryptPasswordHasher": ("bcrypt",),
}
_STRICT_SETTINGS = frozenset({"INSTALLED_APPS", "MIDDLEWARE", "MIDDLEWARE_CLASSES"})

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_CLASS_PATH = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)[.:][A-Z][A-Za-z0-9_]*$")

# gunicorn/celery/uvicorn short names of worker implementations -> module
_WORKER_SHORT = {
    "gevent": "gevent",
    "eventlet": "eventlet",
    "tornado": "tornado",
    "uvloop": "uvloop",
    "trio": "trio",
    "httptools": "httptools",
    "h11": "h11",
    "websockets": "websockets",
    "wsproto": "wsproto",
    "asyncio": "",
    "sync": "",
    "gthread": "",
    "auto": "",
    "none": "",
    "prefork": "",
    "solo": "",
    "threads": "",
    "processes": "",
    "custom": "",
}


def url_uses(text: str, path: str, line: int, dev: bool, where: str) -> list[Use]:
    """Database/broker URLs inside ``text``."""
    out: list[Use] = []
    for match in _URL.finditer(text):
        scheme, driver = match.group(1), match.group(2)
        at = line + text.count("\n", 0, match.start())
        shown = match.group(0)
        if scheme in _VCS_SCHEMES or driver in _TRANSPORTS:
            continue  # git+https://github.com/...: a repository, not a database driver
        if driver and driver != "srv":
            module = _DRIVER_MODULE.get(driver, driver)
            out.append(
                Use(
                    "module",
                    module,
                    path,
                    at,
                    f"database URL {shown} in {where}",
                    strict=module != "sqlite3",
                    dev=dev,
                )
            )
            out.append(
                Use(
                    "entry-point",
                    f"sqlalchemy.dialects:{scheme}.{driver}",
                    path,
                    at,
                    f"SQLAlchemy dialect {shown} in {where}",
                    dev=dev,
                )
            )
        elif scheme in _DIALECT_DEFAULT:
            options = _DIALECT_DEFAULT[scheme]
            out.append(
                Use(
                    "module",
                    options[0],
                    path,
                    at,
                    f"database URL {shown} in {where}",
                    alternatives=options,
                    dev=dev,
                )
            )
        elif scheme in _SCHEME_MODULES:
            options = _SCHEME_MODULES[scheme]
            out.append(
                Use(
                    "module",
                    options[0],
                    path,
                    at,
                    f"{scheme} URL {shown} in {where}",
                    alternatives=options,
                    dev=dev,
                )
            )
        elif scheme not in (
            "http",
            "https",
            "file",
            "ftp",
            "ws",
            "wss",
            "sqlite",
            "s3",
            "gs",
            "unix",
            "tcp",
            "udp",
            "git",
            "ssh",
        ):
            out.append(
                Use(
                    "entry-point",
                    f"sqlalchemy.dialects:{scheme}",
                    path,
                    at,
                    f"URL {shown} in {where}",
                    dev=dev,
                )
            )
    return out


def string_uses(scan: ScanResult) -> list[Use]:
    """Uses hidden in string literals and settings of the project's Python files."""
    out: list[Use] = []
    for text, path, line in scan.strings:
        dev = path in scan.dev_files
        if "://" in text:
            out.extend(url_uses(text, path, line, dev, "code"))
        match = _CLASS_PATH.match(text)
        if match:
            out.append(
                Use("module", match.group(1), path, line, f"dotted path {text!r} in code", dev=dev)
            )
    for name, value, path, line in scan.settings:
        dev = path in scan.dev_files
        if value in _DJANGO_ENGINES:
            options = _DJANGO_ENGINES[value]
            out.append(
                Use(
                    "module",
                    options[0],
                    path,
                    line,
                    f"Django {name} {value!r}",
                    alternatives=options,
                    dev=dev,
                )
            )
        if _DOTTED.match(value) or (name in _STRICT_SETTINGS and value.isidentifier()):
            module = value
            parts = value.split(".")
            if parts[-1][:1].isupper():
                module = ".".join(parts[:-1])
            out.append(
                Use(
                    "module",
                    module,
                    path,
                    line,
                    f"Django {name} {value!r}",
                    strict=name in _STRICT_SETTINGS,
                    dev=dev,
                )
            )
    return out


def _python_argv(
    argv: list[str],
    where: str,
    path: str,
    line: int,
    dev: bool,
    out: list[Use],
    imports: list[ImportUse],
) -> None:
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "-m" and i + 1 < len(argv):
            module = argv[i + 1]
            out.append(
                Use(
                    "module",
                    module,
                    path,
                    line,
                    f"python -m {module} in {where}",
                    strict=True,
                    dev=dev,
                )
            )
            command_uses([module, *argv[i + 2 :]], where, path, line, dev, out, imports)
            return
        if word == "-c" and i + 1 < len(argv):
            try:
                tree = ast.parse(argv[i + 1])
            except SyntaxError:
                return
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        imports.append(ImportUse(alias.name, path, line, dev=dev))
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imports.append(ImportUse(node.module, path, line, dev=dev))
            return
        if word.startswith("-") and word not in ("-W", "-X"):
            i += 1
            continue
        if word in ("-W", "-X"):
            i += 2
            continue
        return  # a script file: first-party code, scanned as such
    return


def _option_values(argv: list[str], *names: str) -> list[str]:
    values: list[str] = []
    for i, word in enumerate(argv):
        for name in names:
            if word == name and i + 1 < len(argv):
                values.append(argv[i + 1])
            elif name.startswith("--") and word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
            elif not name.startswith("--") and word.startswith(name) and len(word) > len(name):
                values.append(word[len(name) :])
    return values


# celery's own commands; any other (`celery flower`) comes from a plugin distribution
_CELERY_COMMANDS = {
    "worker", "beat", "events", "call", "inspect", "control", "status", "purge", "result",
    "migrate", "multi", "shell", "graph", "list", "logtool", "amqp", "report", "upgrade",
    "help",
}  # fmt: skip
_CELERY_VALUE_OPTIONS = {
    "-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir",
}  # fmt: skip


def _celery_subcommand(argv: list[str]) -> str | None:
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _CELERY_VALUE_OPTIONS
        else:
            return word
    return None


def command_uses(
    argv: list[str],
    where: str,
    path: str,
    line: int,
    dev: bool,
    out: list[Use],
    imports: list[ImportUse],
) -> None:
    """Uses of one command line (the first word already unwrapped from sudo/env/exec)."""
    if not argv:
        return
    name = argv[0].rsplit("/", 1)[-1]
    if re.fullmatch(r"python[0-9.]*", name):
        _python_argv(argv, where, path, line, dev, out, imports)
        return
    if name in ("sh", "bash", "dash", "ash") and "-c" in argv:
        index = argv.index("-c")
        if index + 1 < len(argv):
            shell_uses(argv[index + 1], where, path, line, dev, out, imports)
        return
    if not name or "$" in name or name.startswith("-"):
        return
    out.append(Use("script", name, path, line, f"command `{name}` in {where}", dev=dev))
    workers: list[str] = []
    if name in ("gunicorn", "hypercorn"):
        workers = _option_values(argv, "-k", "--worker-class")
    elif name == "celery":
        workers = _option_values(argv, "-P", "--pool")
        sub = _celery_subcommand(argv)
        if sub is not None and sub not in _CELERY_COMMANDS:
            # `celery flower`: a command another distribution plugs into celery
            out.append(Use("script", sub, path, line, f"`celery {sub}` in {where}", dev=dev))
    elif name == "uvicorn":
        workers = _option_values(argv, "--loop", "--http", "--ws")
    for worker in workers:
        module = worker.rsplit(".", 1)[0] if "." in worker else _WORKER_SHORT.get(worker, worker)
        if module:
            out.append(
                Use(
                    "module",
                    module,
                    path,
                    line,
                    f"{name} worker {worker!r} in {where}",
                    strict=True,
                    dev=dev,
                )
            )
    for app in _option_values(argv, "-A", "--app"):
        if _DOTTED.match(app.split(":")[0]) and "." in app:
            out.append(
                Use(
                    "module",
                    app.split(":")[0],
                    path,
                    line,
                    f"{name} app {app!r} in {where}",
                    dev=dev,
                )
            )


def shell_uses(
    script: str,
    where: str,
    path: str,
    line: int,
    dev: bool,
    out: list[Use],
    imports: list[ImportUse],
) -> None:
    parsed = parse_script(MappedText(script, tuple(range(len(script) + 1))))
    for cmd in parsed.commands:
        at = line + script.count("\n", 0, cmd.start)
        command_uses(cmd.argv, where, path, at, dev, out, imports)


def _find_project_file(context: Path, root: Path, value: str) -> Path | None:
    """The project file a path inside the image most likely came from."""
    candidates = [
        context / value,
        root / value,
        context / Path(value).name,
        root / Path(value).name,
    ]
    parts = Path(value).parts
    for i in range(1, len(parts)):
        candidates.append(context / Path(*parts[i:]))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _instruction_argvs(ins: Instruction) -> list[tuple[list[str], list[tuple[int, int]] | None]]:
    """argv lists of an instruction's commands, with each word's source span when known."""
    if ins.json_form:
        return [(list(ins.args), None)]
    if ins.keyword == "RUN":
        script = ins.script
        commands = script.commands if script is not None else []
    else:
        commands = parse_script(ins.body).commands
    return [
        (
            cmd.argv,
            [(cmd.name_word.start, cmd.name_word.end), *((w.start, w.end) for w in cmd.args)],
        )
        for cmd in commands
    ]


def dockerfile_facts(df: Dockerfile, root: Path) -> DockerfileFacts:
    """Packages a Dockerfile installs and the commands it runs."""
    facts = DockerfileFacts()
    context = Path(df.path).parent
    final = df.final_stage
    for stage in df.stages:
        for ins in stage.instructions:
            where = f"{ins.keyword} (Dockerfile line {ins.line})"
            if ins.keyword == "ENV":
                facts.uses.extend(url_uses(ins.text, df.path, ins.line, False, "ENV"))
                continue
            if ins.keyword not in ("RUN", "CMD", "ENTRYPOINT"):
                continue
            if ins.keyword in ("CMD", "ENTRYPOINT") and stage is not final:
                continue
            for argv, spans in _instruction_argvs(ins):
                imports: list[ImportUse] = []
                command_uses(argv, where, df.path, ins.line, False, facts.uses, imports)
                facts.uses.extend(
                    Use("module", i.module, df.path, ins.line, f"python -c in {where}", strict=True)
                    for i in imports
                )
                if ins.keyword == "RUN":
                    _pip_declared(argv, spans, df, ins, context, root, facts)
                    if (
                        argv
                        and argv[0] in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf")
                        and len(argv) > 1
                    ):
                        facts.system_packages.update(
                            w
                            for w in argv[1:]
                            if not w.startswith("-") and w not in ("install", "add")
                        )
    return facts


def _pip_declared(
    argv: list[str],
    spans: list[tuple[int, int]] | None,
    df: Dockerfile,
    ins: Instruction,
    context: Path,
    root: Path,
    facts: DockerfileFacts,
) -> None:
    found = pip_install_packages(argv)
    if found is None:
        return
    indexes, options = found
    for index in indexes:
        word = argv[index]
        if "$" in word or not word:
            continue
        start, end = spans[index] if spans is not None and index < len(spans) else (None, None)
        line = df.line_of(start) if start is not None else ins.line
        try:
            declared = parse_requirement_text(word, df.path, line, RUNTIME, context)
        except JettisonError as exc:
            facts.errors.append(exc)
            continue
        if declared is None:
            if word in (".", "./") or word.startswith(("./", "/")):
                facts.installs_project = True
            continue
        declared.start, declared.end = start, end
        facts.declared.append(declared)
    for key, value in options:
        if "$" in value:
            continue
        if key in ("-e", "--editable"):
            if value in (".", "./") or value.startswith(("./", "/")):
                facts.installs_project = True
            continue
        if key in ("-c", "--constraint"):
            continue
        found_file = _find_project_file(context, root, value)
        if found_file is None:
            facts.errors.append(
                JettisonError(
                    f"requirements file {value!r} installed here is not in the build context",
                    df.path,
                    ins.line,
                )
            )
            continue
        # installed into the image: every line of it is a runtime dependency there
        manifests = parse_requirements_file(found_file, RUNTIME, Manifests())
        facts.requirement_files.append(str(found_file))
        facts.declared.extend(manifests.declared)
        facts.errors.extend(manifests.errors)


_CONFIG_SUFFIXES = (".ini", ".cfg", ".conf", ".env", ".yaml", ".yml", ".toml", ".json")
_SHEBANG = re.compile(rb"^#!\s*\S*/(env\s+)?(ba|da|a|z)?sh\b")


def _shell_script(file: Path) -> bool:
    """A shell script without the `.sh` suffix (`start`, `entrypoint`): a file without a
    suffix whose first line is a shell's `#!`."""
    if file.suffix:
        return False
    try:
        with file.open("rb") as handle:
            return _SHEBANG.match(handle.read(64)) is not None
    except OSError:
        return False


_COMPOSE_FILE = re.compile(r"^(docker-)?compose([.-][\w.-]*)?\.ya?ml$")
_SUPERVISOR_COMMAND = re.compile(r"^\s*command\s*=\s*(.+)$", re.M)


def _configured_commands(name: str, text: str) -> list[tuple[int, str]]:
    """(line, shell text) of the commands a compose file's services (`command`,
    `entrypoint`) or a supervisord configuration's programs (`command=`) run."""
    if name.endswith((".conf", ".ini")) and "[program:" in text:
        return [
            (text.count("\n", 0, m.start()) + 1, m.group(1).strip())
            for m in _SUPERVISOR_COMMAND.finditer(text)
        ]
    if not _COMPOSE_FILE.match(name):
        return []
    import shlex

    import yaml  # only for a compose file: the audit of a context without one never loads it

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    services = data.get("services") if isinstance(data, dict) else None
    out: list[tuple[int, str]] = []
    for service in services.values() if isinstance(services, dict) else []:
        if not isinstance(service, dict):
            continue
        for key in ("entrypoint", "command"):
            value = service.get(key)
            if isinstance(value, list):
                value = shlex.join(str(v) for v in value)
            if isinstance(value, str) and value.strip():
                first = value.split()[0]
                at = text.find(first, max(text.find(f"{key}:"), 0))
                out.append((text.count("\n", 0, at) + 1 if at >= 0 else 1, value))
    return out


def config_file_uses(root: Path) -> list[Use]:
    """URLs in configuration files and commands in entrypoint scripts and Procfiles."""
    import os

    out: list[Use] = []
    if root.is_file():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            file = here / name
            rel = file.relative_to(root)
            is_config = name.endswith(_CONFIG_SUFFIXES) or name.startswith(".env")
            is_script = name.endswith(".sh") or name == "Procfile" or _shell_script(file)
            if not (is_config or is_script):
                continue
            try:
                if file.stat().st_size > 1_000_000:
                    continue
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            dev = is_dev_path(rel)
            shown = str(file)
            if is_config:
                out.extend(url_uses(text, shown, 1, dev, name))
                # programs a compose file or a supervisord configuration starts
                imports_run: list[ImportUse] = []
                for number, body in _configured_commands(name, text):
                    shell_uses(body, name, shown, number, dev, out, imports_run)
                out.extend(
                    Use("module", i.module, shown, i.line, f"python -c in {name}", dev=dev)
                    for i in imports_run
                )
            if is_script:
                imports: list[ImportUse] = []
                lines: Iterable[tuple[int, str]]
                if name == "Procfile":
                    lines = (
                        (n, t.split(":", 1)[1])
                        for n, t in enumerate(text.splitlines(), 1)
                        if ":" in t
                    )
                else:
                    lines = [(1, text)]
                for number, body in lines:
                    shell_uses(body, name, shown, number, dev, out, imports)
                out.extend(
                    Use("module", i.module, shown, i.line, f"python -c in {name}", dev=dev)
                    for i in imports
                )
    return out
