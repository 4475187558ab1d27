"""JT402 secret-in-arg-env: a secret-looking name in ARG or ENV."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

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
