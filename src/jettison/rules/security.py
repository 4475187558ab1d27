"""Security rules: root, secrets, unpinned bases, sudo, piping downloads into shells, TLS."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from jettison.dockerfile import Instruction, Stage
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _shell as sh
from jettison.rules.registry import Category, RuleContext, rule


def _final_users(ctx: RuleContext) -> tuple[Stage | None, list[Instruction]]:
    stage = ctx.dockerfile.final_stage
    if stage is None or stage.root_image() == "scratch":
        return None, []
    return stage, [i for i in stage.all_instructions() if i.keyword == "USER"]


@rule(
    "JT401",
    "last-user-root",
    Category.SECURITY,
    Severity.WARNING,
    "the final stage switches back to root",
    what="Flags a final stage whose last USER instruction is `root` (or UID 0).",
    why="A process running as root in the container is root on the host if it escapes; "
    "switching back to root after setting up a user undoes that protection.",
    example="USER app\nRUN make install\nUSER root",
    use_instead="USER root\nRUN make install\nUSER app",
    notes="Same as hadolint DL3002 (last USER root); a final stage that never sets USER is JT410.",
    equivalents={"hadolint": "DL3002", "checkov": "CKV_DOCKER_8"},
)
def last_user_root(ctx: RuleContext) -> Iterator[Finding]:
    _, users = _final_users(ctx)
    if users:
        last = users[-1]
        name = (last.args[0] if last.args else "").split(":", 1)[0]
        if name in ("root", "0"):
            yield ctx.report("the last USER is root", last)


@rule(
    "JT410",
    "no-user",
    Category.SECURITY,
    Severity.WARNING,
    "the final stage never sets a non-root USER",
    what="Flags a final stage (and the stages it is built FROM) that never sets USER, so the "
    "container runs as root.",
    why="Most services need no privileges; running as root turns any code-execution bug into "
    "root in the container and widens the blast radius of an escape.",
    example='FROM python:3.11-slim\nCMD ["python", "app.py"]',
    use_instead="RUN useradd --create-home --uid 10001 app\nUSER app",
    fix="`jettison fix --unsafe-fixes` adds a user in its multi-stage conversion.",
    notes="Corresponds to checkov CKV_DOCKER_3; hadolint has no such rule (DL3002 needs an "
    "explicit `USER root`). Images built FROM a stage that set USER inherit it, and so do "
    "images built FROM a base that runs as a non-root user itself: distroless and Chainguard "
    "`nonroot` tags, .NET's `-chiseled` and `-distroless` images (user `app`) and Windows "
    "Nano Server (`ContainerUser`).",
    equivalents={"checkov": "CKV_DOCKER_3"},
)
def no_user(ctx: RuleContext) -> Iterator[Finding]:
    stage, users = _final_users(ctx)
    if stage is not None and not users and not _non_root_base(stage.root_image()):
        yield ctx.report(
            "the final stage never sets USER: the container runs as root",
            stage.from_instruction,
        )


# bases that set a non-root USER themselves: distroless/chainguard `nonroot` tags, .NET's
# chiseled and distroless images (USER app, uid 1654), Windows Nano Server (ContainerUser)
_NON_ROOT_BASE = re.compile(
    r"nonroot|^mcr\.microsoft\.com/dotnet/[^:]+:.*-(chiseled|distroless)|"
    r"^mcr\.microsoft\.com/windows/nanoserver(:|$)|:.*\bnanoserver\b",
    re.IGNORECASE,
)


def _non_root_base(image: str) -> bool:
    return bool(_NON_ROOT_BASE.search(image))


# BuildKit's SecretsUsedInArgOrEnv: a name holding one of these words, split at `_` (and, for
# camelCase names, at each capital), is a secret...
_SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "pass",
        "secret",
        "token",
    }
)
# ... unless a word after the last secret word says the value is where a secret is, what it
# is called or how big, not the secret (`DB_PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`,
# `TOKEN_URL`, `RSA_KEY_SIZE`: the Docker secrets convention), or any word marks public key
# material or tooling (BuildKit's `public`, `GPG_KEY` fingerprints, `APT_KEY_...`)
_DESCRIBING_WORDS = frozenset(
    {"file", "path", "dir", "url", "uri", "host", "port", "id", "name", "user", "username",
     "server", "length", "len", "size", "bits", "type", "version", "algorithm", "env"}
)  # fmt: skip
_PUBLIC_WORDS = frozenset({"public", "pub", "gpg", "pgp", "apt", "keyring", "keyserver"})
# single words ending in a secret word: PGPASSWORD, DBPASS, MYTOKEN
_SECRET_SUFFIX = re.compile(r"(password|passwd|secret|token)$")


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w for w in re.split(r"[_\-.]+", spaced.lower()) if w]


def is_secret_name(name: str) -> bool:
    words = _words(name)
    if any(w in _PUBLIC_WORDS for w in words):
        return False
    secret_at = [i for i, w in enumerate(words) if w in _SECRET_WORDS or _SECRET_SUFFIX.search(w)]
    if not secret_at and "".join(words) in ("apikey", "privatekey"):
        return True
    if not secret_at:
        return False
    return not any(w in _DESCRIBING_WORDS for w in words[secret_at[-1] + 1 :])


@rule(
    "JT402",
    "secret-in-arg-env",
    Category.SECURITY,
    Severity.WARNING,
    "a secret-looking name in ARG or ENV",
    what="Flags ARG/ENV names like `*_TOKEN`, `*_PASSWORD`, `*_SECRET`, `*_KEY`.",
    why="ARG and ENV values are stored in the image config and history: anyone who can pull "
    "the image can read them.",
    example="ARG GITHUB_TOKEN\nRUN git clone https://$GITHUB_TOKEN@github.com/org/repo",
    use_instead="RUN --mount=type=secret,id=github_token \\\n    git clone "
    "https://$(cat /run/secrets/github_token)@github.com/org/repo",
    notes="""
        Like BuildKit's SecretsUsedInArgOrEnv, a name is read as words (split at `_`, and at
        capitals in camelCase names): it is flagged when a word is `password`, `passwd`,
        `pword`, `pass`, `secret`, `token`, `key`, `apikey`, `auth` or `credential(s)`, or
        ends in `password`, `passwd`, `secret` or `token` (`GITHUB_TOKEN`, `SECRET_KEY_BASE`,
        `apiKey`, `PGPASSWORD`), not when a word merely contains one
        (`TOKENIZERS_PARALLELISM`). Unlike it and hadolint DL3064, a name whose words after
        the last secret word say where the secret is, what it is called or how big
        (`file`, `path`, `dir`, `url`, `host`, `port`, `id`, `name`, `user`, `size` ...:
        `DB_PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`, `RSA_KEY_SIZE`) is not flagged, nor public
        key material and tooling (`GPG_KEY`, `public`, `APT_KEY_...`); and hadolint's
        `username` and `private` words are not secrets on their own (`ARG USERNAME=vscode`).
        Nor is a name whose value is a boolean (`ANSIBLE_HOST_KEY_CHECKING=False`) or an
        OpenPGP fingerprint written as gpg prints it (40 or 16 upper-case hex digits:
        `SWIFT_SIGNING_KEY=A62AE125BBBFBB96A6E042EC925CC1CCED3D1561`), which is public.
    """,
    equivalents={"hadolint": "DL3064", "buildkit": "SecretsUsedInArgOrEnv"},
)
def secret_names(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        pairs: list[tuple[str, str | None]]
        if ins.keyword == "ARG":
            pairs = [
                (a.split("=", 1)[0], a.split("=", 1)[1] if "=" in a else None) for a in ins.args
            ]
        elif ins.keyword == "ENV":
            pairs = [(ins.args[i], ins.args[i + 1]) for i in range(0, len(ins.args) - 1, 2)]
        else:
            continue
        for name, value in pairs:
            if is_secret_name(name) and not _not_secret_value(value, ins):
                yield ctx.report(
                    f"`{name}` looks like a secret; {ins.keyword} values are "
                    "stored in the image; use a secret mount",
                    ins,
                )


# a setting, not a secret: `ANSIBLE_HOST_KEY_CHECKING=False`
_BOOLEAN = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1"})
# an OpenPGP fingerprint or long key ID as gpg prints them (upper-case hex, optionally in
# groups of four): public key material, as in `ARG SWIFT_SIGNING_KEY=A62AE125...`
_FINGERPRINT = re.compile(r"^(0x)?([0-9A-F]{16}|[0-9A-F]{40}|([0-9A-F]{4} {1,2}){9}[0-9A-F]{4})$")
_REFERENCE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def _not_secret_value(value: str | None, ins: Instruction) -> bool:
    """True when the literal value (or the value of the one variable it names) is a
    boolean or a public key fingerprint."""
    if value is None:
        return False
    ref = _REFERENCE.match(value)
    if ref:
        value = ins.variables.get(ref.group(1), value)
    value = value.strip().strip("\"'")
    return value.lower() in _BOOLEAN or bool(_FINGERPRINT.match(value))


def _split_image(ref: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    last = ref.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    return ref, tag, digest


@rule(
    "JT403",
    "base-image-untagged",
    Category.SECURITY,
    Severity.WARNING,
    "FROM without a tag",
    what="Flags `FROM image` without a tag or digest (not a stage name, not scratch).",
    why="An untagged image means `latest`, which moves: builds stop being reproducible and "
    "can break or grow without any change of yours.",
    example="FROM python",
    use_instead="FROM python:3.11-slim",
    notes="""
        Like hadolint DL3006, but `FROM ${BASE}` is checked against the ARG's default (hadolint
        issues #219, #339, #858) and an ARG without a default is not flagged.
    """,
    equivalents={"hadolint": "DL3006", "checkov": "CKV_DOCKER_7"},
)
def untagged(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if stage.parent is not None or stage.base_unresolved:
            continue
        name, tag, digest = _split_image(stage.base_resolved)
        if name == "scratch" or tag or digest:
            continue
        if any(s.name == name.lower() for s in ctx.stages[: stage.index]):
            continue
        yield ctx.report(
            f"`FROM {stage.base_resolved}` has no tag: it means `latest`", stage.from_instruction
        )


@rule(
    "JT404",
    "base-image-latest",
    Category.SECURITY,
    Severity.WARNING,
    "FROM with the `latest` tag",
    what="Flags `FROM image:latest` and moving `latest-*` tags such as "
    "`rayproject/ray:latest-py310`.",
    why="`latest` moves: builds stop being reproducible and can change size and behaviour "
    "without any change of yours.",
    example="FROM rayproject/ray:latest-py310\nFROM ubuntu:latest",
    use_instead="FROM ubuntu:24.04",
    notes="hadolint DL3007 matches only the exact tag `latest`; `latest-*` variants move "
    "just the same (e.g. `rayproject/ray:latest-py310`).",
    equivalents={"hadolint": "DL3007"},
)
def latest_tag(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if stage.parent is not None:
            continue
        _, tag, digest = _split_image(stage.base_resolved)
        if tag is not None and (tag == "latest" or tag.startswith("latest-")) and not digest:
            yield ctx.report(
                f"`FROM {stage.base_resolved}` uses the moving `latest` tag", stage.from_instruction
            )


@rule(
    "JT405",
    "sudo",
    Category.SECURITY,
    Severity.WARNING,
    "`sudo` in a RUN",
    what="Flags `sudo` in RUN instructions.",
    why="sudo adds a setuid binary and unpredictable TTY/environment behaviour; RUN already "
    "runs as the current USER: switch USER around privileged steps instead.",
    example="RUN sudo apt-get install -y curl",
    use_instead="USER root\nRUN apt-get install -y curl\nUSER app",
    equivalents={"hadolint": "DL3004", "checkov": "CKV2_DOCKER_1"},
)
def sudo(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if cmd.name == "sudo":
                yield ctx.report(
                    "do not use sudo in a Dockerfile; switch USER instead",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )
                break


_SHELLS = {"sh", "bash", "zsh", "dash", "ash", "ksh", "python", "python3", "perl", "ruby"}


@rule(
    "JT406",
    "curl-pipe-shell",
    Category.SECURITY,
    Severity.WARNING,
    "a download piped into a shell",
    what="Flags `curl ... | sh` and `wget -O- ... | bash` (also into python/perl).",
    why="The script runs unverified: a compromised or truncated download executes whatever "
    "it contains, and builds are not reproducible.",
    example="RUN curl -fsSL https://get.example.sh | sh",
    use_instead="RUN curl -fsSLo /tmp/install.sh https://get.example.sh \\\n    && echo "
    '"<sha256>  /tmp/install.sh" | sha256sum -c - && sh /tmp/install.sh '
    "&& rm /tmp/install.sh",
)
def curl_pipe(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        cmds = sh.commands(ins)
        for a, b in itertools.pairwise(cmds):
            if (
                a.name in ("curl", "wget")
                and a.next_operator == "|"
                and b.name in _SHELLS
                and not any(v.endswith((".py", ".sh")) for v in b.arg_values)
            ):
                yield ctx.report(
                    f"`{a.name} ... | {b.name}` runs a download unverified",
                    ins,
                    start=a.start,
                    end=b.end,
                )


@rule(
    "JT407",
    "chmod-777",
    Category.SECURITY,
    Severity.WARNING,
    "`chmod 777` (world-writable)",
    what="Flags `chmod 777`, `a+rwx`, `o+w` and `--chmod=777`.",
    why="World-writable files let any user in the container (or a compromised process) "
    "rewrite code and configuration.",
    example="RUN chmod -R 777 /app",
    use_instead="RUN chown -R app:app /app",
)
def chmod_777(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        flag = ins.flag("chmod")
        if flag is not None and (flag.value or "").endswith("777"):
            yield ctx.report("`--chmod=777` makes files world-writable", ins)
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            if cmd.name == "chmod" and any(
                v in ("777", "0777", "a+rwx", "o+w", "a+w", "ugo+rwx") for v in cmd.arg_values
            ):
                yield ctx.report(
                    "`chmod 777` makes files world-writable", ins, start=cmd.start, end=cmd.end
                )


_TLS_ENV = {
    "PYTHONHTTPSVERIFY": ("0",),
    "GIT_SSL_NO_VERIFY": None,
    "NODE_TLS_REJECT_UNAUTHORIZED": ("0",),
    "NPM_CONFIG_STRICT_SSL": ("false", "0"),
    "PIP_TRUSTED_HOST": None,
    "CURL_CA_BUNDLE": ("",),
}


@rule(
    "JT408",
    "tls-verification-off",
    Category.SECURITY,
    Severity.ERROR,
    "TLS certificate verification turned off",
    what="""
        Flags `curl -k/--insecure`, `wget --no-check-certificate`, `pip --trusted-host`,
        `git -c http.sslVerify=false`, `npm/yarn config set strict-ssl false`, and ENV/ARG
        `PYTHONHTTPSVERIFY=0`, `GIT_SSL_NO_VERIFY`, `NODE_TLS_REJECT_UNAUTHORIZED=0`,
        `PIP_TRUSTED_HOST`, `NPM_CONFIG_STRICT_SSL=false`.
    """,
    why="Anyone on the network path can replace what the build downloads.",
    example="RUN curl -k https://example.com/tool -o /usr/local/bin/tool",
    use_instead="Install the CA certificate (`ca-certificates` and your corporate CA) "
    "and keep verification on.",
    equivalents={"checkov": "CKV2_DOCKER_2"},
)
def tls_off(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword in ("ENV", "ARG"):
            pairs = (
                [(ins.args[i], ins.args[i + 1]) for i in range(0, len(ins.args) - 1, 2)]
                if ins.keyword == "ENV"
                else [tuple(a.split("=", 1)) if "=" in a else (a, "") for a in ins.args]
            )
            for name, value in pairs:
                bad = _TLS_ENV.get(name.upper(), ())
                if bad is None or (bad and value.strip("\"'").lower() in bad):
                    yield ctx.report(f"`{name}` turns TLS verification off", ins)
            continue
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            vals = cmd.arg_values
            bad_flag = None
            if cmd.name == "curl" and (cmd.has_flag("-k", "--insecure")):
                bad_flag = "curl -k"
            elif cmd.name == "wget" and "--no-check-certificate" in vals:
                bad_flag = "wget --no-check-certificate"
            elif (sh.is_pip_install(cmd) or cmd.name in sh.PIP) and cmd.has_flag("--trusted-host"):
                bad_flag = "pip --trusted-host"
            elif cmd.name == "git" and any("sslverify=false" in v.lower() for v in vals):
                bad_flag = "git http.sslVerify=false"
            elif cmd.name in ("npm", "yarn") and "strict-ssl" in vals and "false" in vals:
                bad_flag = f"{cmd.name} strict-ssl false"
            if bad_flag:
                yield ctx.report(
                    f"`{bad_flag}` turns TLS verification off", ins, start=cmd.start, end=cmd.end
                )


@rule(
    "JT409",
    "unauthenticated-packages",
    Category.SECURITY,
    Severity.ERROR,
    "package signature checks turned off",
    what="Flags `apt-get --allow-unauthenticated`/`--force-yes`, `apk --allow-untrusted`, "
    "`yum/dnf --nogpgcheck`, `rpm --nosignature/--nodigest`.",
    why="Unsigned packages can be replaced in transit or on a mirror.",
    example="RUN apt-get install -y --allow-unauthenticated foo",
    use_instead="Import the repository's key and keep signature checks on.",
    equivalents={"checkov": "CKV2_DOCKER_8"},
)
def unauthenticated(ctx: RuleContext) -> Iterator[Finding]:
    bad = {
        "--allow-unauthenticated",
        "--force-yes",
        "--allow-untrusted",
        "--nogpgcheck",
        "--nosignature",
        "--nodigest",
        "--no-gpg-checks",
    }
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            hits = [
                v for v in cmd.arg_values if v in bad or v.startswith("--allow-unauthenticated")
            ]
            if hits:
                yield ctx.report(
                    f"`{hits[0]}` turns package signature checks off",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )


_USERADD_UID = ("-u", "--uid")


def _created_uid(stage: Stage, name: str) -> str | None:
    """The UID a RUN of the image gave user ``name`` (``useradd -u 10001 app``,
    ``adduser -u 10001 -D app``, ``adduser --uid 10001 app``), when written as a number."""
    uid = None
    for ins in stage.all_instructions():
        if ins.keyword != "RUN":
            continue
        for cmd in sh.commands(ins):
            if cmd.name not in ("useradd", "adduser"):
                continue
            vals = cmd.arg_values
            if not vals or vals[-1] != name:
                continue
            for i, v in enumerate(vals[:-1]):
                if v in _USERADD_UID and vals[i + 1].isdigit():
                    uid = vals[i + 1]
                elif v.startswith("--uid=") and v[6:].isdigit():
                    uid = v[6:]
    return uid


@rule(
    "JT411",
    "user-not-numeric",
    Category.SECURITY,
    Severity.INFO,
    "the final USER is a name, not a numeric UID",
    what="Flags a final stage whose last USER is a user name (`USER app`) rather than a "
    "numeric UID (`USER 10001`). Root is JT401's; a USER whose value comes from a build "
    "argument without a default is not flagged.",
    why="""
        Kubernetes' `runAsNonRoot` can only check a numeric user: with `USER app` the pod is
        refused ("image has non-numeric user (app), cannot verify user is non-root") unless
        its manifest repeats the UID in `runAsUser`. Other admission policies check the same
        way.
    """,
    example="RUN useradd --uid 10001 app\nUSER app",
    use_instead="RUN useradd --uid 10001 app\nUSER 10001",
    fix="""
        Unsafe: when a RUN of the image created the user with a numeric UID (`useradd -u
        10001 app`), replaces the name with that UID (`USER 10001` or `USER 10001:group`).
        The engine finds the same passwd entry (home directory, primary group) from the UID,
        unless a later step changes the user's UID.
    """,
    fix_safety=FixSafety.UNSAFE,
    notes="Corresponds to hadolint DL3066 as proposed (numeric USER); trivy's and checkov's "
    "runAsNonRoot checks look at the pod spec instead.",
    equivalents={"hadolint": "DL3066"},
)
def user_not_numeric(ctx: RuleContext) -> Iterator[Finding]:
    from jettison.dockerfile.expand import expand, references

    stage, users = _final_users(ctx)
    if stage is None or not users:
        return
    last = users[-1]
    if not last.args:
        return
    value = last.args[0]
    if any(not last.variables.get(n) for n in references(value)):
        return
    value = expand(value, last.variables, ctx.dockerfile.directives.escape)
    name, sep, group = value.partition(":")
    if name.isdigit() or name in ("root", "") or "$" in value:
        return
    edits = []
    uid = _created_uid(stage, name)
    if uid is not None and last.args[0] == value and not last.json_form:
        at = ctx.dockerfile.source.find(value, last.keyword_end, last.end)
        if at != -1:
            edits.append(Edit(at, at + len(name), uid))
    yield ctx.report(
        f"`USER {value}` is a name: Kubernetes' runAsNonRoot cannot verify it is not root; "
        + (f"use its UID (`USER {uid}{sep}{group}`)" if uid else "use a numeric UID"),
        last,
        edits=edits,
    )
