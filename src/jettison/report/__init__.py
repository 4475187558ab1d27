"""Renderers for findings: text (rich), json, sarif, github annotations, markdown."""

from jettison.report.findings import FORMATS, render_findings, render_statistics

__all__ = ["FORMATS", "render_findings", "render_statistics"]
