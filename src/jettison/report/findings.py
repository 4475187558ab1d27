"""Render findings of any analysis (audit, context, image) in any format: :func:`render_findings`
picks the renderer, one module per kind of output (:mod:`.text`, :mod:`.sarif`,
:mod:`.markdown`, :mod:`.ci` for GitHub, JUnit, GitLab and Checkstyle).

Every format names files the same way (:mod:`.output`): relative to the working directory
when they are inside it (as a repository's CI and code scanning expect), with ``/``
separators. A finding about a build context that has no ``.dockerignore`` is located at the
``.dockerignore`` it asks for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from jettison.errors import JettisonError
from jettison.findings import Finding
from jettison.report.output import shown_path, write_plain
from jettison.report.text import render_text

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("text", "json", "sarif", "github", "markdown", "junit", "gitlab", "checkstyle")


def render_findings(
    findings: Sequence[Finding],
    errors: Sequence[JettisonError],
    fmt: str,
    console: Console | IO[str],
    files: int = 0,
    paths: Sequence[str] = (),
    sources: Mapping[str, str] | None = None,
) -> None:
    """Write ``findings`` in ``fmt``. ``paths`` lists the files checked (JUnit reports a
    passing case for each clean one); ``sources`` gives the text of files that are not on
    disk (standard input) for the source lines of the terminal view."""
    if fmt == "text" or fmt not in FORMATS:
        render_text(findings, errors, console, files, sources)
        return
    # the other renderers are imported here: a pre-commit hook or an editor asks for text
    import json

    if fmt == "json":
        data = [{**f.to_json(), "path": shown_path(f.path)} for f in findings]
        write_plain(console, json.dumps(data, indent=2))
    elif fmt == "sarif":
        from jettison.report.sarif import to_sarif

        write_plain(console, json.dumps(to_sarif(findings, errors), indent=2))
    elif fmt == "github":
        from jettison.report.ci import to_github

        text = to_github(findings, errors)
        if text:
            write_plain(console, text)
    elif fmt == "markdown":
        from jettison.report.markdown import to_markdown

        write_plain(console, to_markdown(findings, errors))
    elif fmt == "junit":
        from jettison.report.ci import to_junit

        write_plain(console, to_junit(findings, errors, paths))
    elif fmt == "gitlab":
        from jettison.report.ci import to_gitlab

        write_plain(console, json.dumps(to_gitlab(findings, errors), indent=2))
    elif fmt == "checkstyle":
        from jettison.report.ci import to_checkstyle

        write_plain(console, to_checkstyle(findings, errors))
