"""JT408 tls-verification-off: TLS certificate verification turned off."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import commands as sh
from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

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
