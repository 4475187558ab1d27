"""Renderers for findings, one module per kind of output: text, sarif, markdown, ci (GitHub,
JUnit, GitLab, Checkstyle); :func:`render_findings` picks one (json too)."""

from jettison.report.findings import FORMATS, render_findings
from jettison.report.output import write_plain
from jettison.report.text import render_statistics

__all__ = ["FORMATS", "render_findings", "render_statistics", "write_plain"]
