"""Renderers for findings: text (rich), json, sarif, github annotations, markdown."""

from jettison.report.findings import FORMATS, render_findings, render_statistics, write_plain

__all__ = ["FORMATS", "render_findings", "render_statistics", "write_plain"]
