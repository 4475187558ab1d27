"""Bench reports: before/after tables as terminal tables, Markdown, JSON, HTML."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from jettison.bench.model import (
    SCENARIO_TEXT,
    BenchReport,
    VariantResult,
    change_pct,
    within_noise,
)
from jettison.units import human_bytes, megabytes

if TYPE_CHECKING:
    from jettison.bench.compose import ComposeBench

FORMATS = ("text", "markdown", "json")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 60:
        return f"{int(value // 60)}m{value % 60:04.1f}s"
    return f"{value:.1f}s" if value >= 10 else f"{value:.2f}s"


def pct(value: float | None, better_when_negative: bool = True, faster: bool = False) -> str:
    if value is None:
        return "-"
    if faster and value < 0:
        return f"{-value:.0f} % faster"
    if faster and value > 0:
        return f"{value:.0f} % slower"
    if better_when_negative and value < 0:
        return f"{-value:.0f} % smaller"
    if better_when_negative and value > 0:
        return f"{value:.0f} % larger"  # never a bare "+4 %" that reads as a gain
    if value > 0:
        return f"+{value:.0f} %"
    return "0 %"


def _hits(variant: VariantResult | None, scenario: str) -> str:
    if variant is None or scenario not in variant.scenarios:
        return "-"
    s = variant.scenarios[scenario]
    if s.skipped or not s.runs:
        return "-"
    rate = s.cache_hit_rate
    return (
        f"{s.steps_cached}/{s.steps_total} ({rate * 100:.0f} %)"
        if rate is not None
        else f"{s.steps_cached}/{s.steps_total}"
    )


def _time(variant: VariantResult | None, scenario: str) -> str:
    if variant is None or scenario not in variant.scenarios:
        return "-"
    s = variant.scenarios[scenario]
    if s.skipped:
        return "skipped"
    if not s.runs:
        return "failed" if variant.build_error else "-"
    if len(s.runs) == 1:
        return seconds(s.seconds_median)
    return f"{seconds(s.seconds_median)} ({seconds(s.seconds_min)}-{seconds(s.seconds_max)})"


def _verified(variant: VariantResult) -> str:
    if variant.build_error:
        return "build failed"
    if variant.verification is None:
        return "not checked"
    return "passed" if variant.verified else "FAILED"


def tables(report: BenchReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table; the renderers only format them."""
    before, after = report.variants.get("original"), report.variants.get("optimized")
    names = [v for v in (before, after) if v is not None]
    out: list[tuple[str, list[str], list[list[str]]]] = []
    header = ["Metric", *[v.name.capitalize() for v in names]]
    if before and after:
        header.append("Change")
    size_row = ["Image size", *[human_bytes(v.image_size_bytes) for v in names]]
    layer_row = ["Layers", *[str(v.layers) if v.layers is not None else "-" for v in names]]
    if before and after:
        size_row.append(pct(change_pct(before.image_size_bytes, after.image_size_bytes)))
        delta = (
            after.layers - before.layers
            if before.layers is not None and after.layers is not None
            else None
        )
        layer_row.append("-" if delta is None else f"{delta:+d}")
    out.append(("Image", header, [size_row, layer_row]))

    header = ["Scenario", *[f"{v.name.capitalize()} (median, min-max)" for v in names]]
    if before and after:
        header.append("Change")
    header += [f"Cache hits {v.name}" for v in names]
    rows = []
    for scenario in report.scenario_names:
        row = [scenario, *[_time(v, scenario) for v in names]]
        if before and after:
            b, a = before.scenarios.get(scenario), after.scenarios.get(scenario)
            change = pct(
                change_pct(b.seconds_median if b else None, a.seconds_median if a else None),
                faster=True,
            )
            if within_noise(b, a):
                change += " (within noise)"
            row.append(change)
        row += [_hits(v, scenario) for v in names]
        rows.append(row)
    out.append(
        (f"Build time ({report.repeat} run{'s' if report.repeat != 1 else ''} each)", header, rows)
    )

    rows = []
    for v in names:
        for step in v.slow_steps():
            stage = f"[{step.stage}] " if step.stage else ""
            text = (
                step.instruction if len(step.instruction) <= 70 else step.instruction[:67] + "..."
            )
            rows.append([v.name, stage + text, seconds(step.seconds_median)])
    if rows:
        out.append(("Slowest steps (cold build)", ["Variant", "Step", "Time"], rows))

    rows = [[v.name, _verified(v), _verify_detail(v)] for v in names]
    out.append(("Verification (smoke check)", ["Variant", "Result", "Details"], rows))
    steps = report.each_fix()
    if steps:
        out.append(
            (
                "Each fix, applied one after another (median seconds: before -> after)",
                ["Fix", "Image size", *report.scenario_names],
                [_step_row(step, report.scenario_names) for step in steps],
            )
        )
    return out


def _step_row(step: dict[str, Any], scenarios: list[str]) -> list[str]:
    if step["build_error"]:
        return [step["fix"], "does not build with the fixes before it", *["-" for _ in scenarios]]
    before, after = step["size_bytes_before"], step["size_bytes_after"]
    size = "-"
    if before is not None and after is not None:
        delta = after - before
        size = f"{'-' if delta < 0 else '+'}{human_bytes(abs(delta))}"
    cells = []
    for name in scenarios:
        found = step["scenarios"][name]
        b, a = found["seconds_median_before"], found["seconds_median_after"]
        if b is None or a is None:
            cells.append("-")
            continue
        cell = f"{seconds(b)} -> {seconds(a)}"
        if found["within_noise"]:
            cell += " (within noise)"
        cells.append(cell)
    return [step["fix"], size, *cells]


def _verify_detail(v: VariantResult) -> str:
    if v.build_error:
        return v.build_error
    if v.verification is None:
        return ""
    parts = []
    for check in v.verification.get("checks", []):
        state = "skipped" if check.get("skipped") else "ok" if check.get("ok") else "FAILED"
        parts.append(f"{check['name']} {state}: {check['detail']}")
    return "; ".join(parts)


def _headline(report: BenchReport) -> list[str]:
    """Like with like: size against size, each scenario against the same scenario."""
    comp = report.comparison()
    lines: list[str] = []
    before, after = report.variants.get("original"), report.variants.get("optimized")
    if not comp or before is None or after is None:
        return lines
    size = comp.get("image_size_change_pct")
    if size is not None:
        lines.append(f"Image size {pct(size)}.")
    for scenario, what in (("code_change", "A code-change rebuild"), ("cold", "A cold build")):
        b, a = before.scenarios.get(scenario), after.scenarios.get(scenario)
        if not b or not a or b.seconds_median is None or a.seconds_median is None:
            continue
        change = change_pct(b.seconds_median, a.seconds_median)
        text = (
            f"{what}: {seconds(b.seconds_median)} -> {seconds(a.seconds_median)}"
            f" ({pct(change, faster=True)})"
        )
        noise = within_noise(b, a)
        if noise:
            text += ", within the noise: the runs' ranges overlap"
        elif noise is None:
            text += ", one run each: the spread is unknown (use -n 3 or more)"
        lines.append(text + ".")
    return lines


def _legend(report: BenchReport) -> list[str]:
    lines = [
        f"{name}: {SCENARIO_TEXT[name]}"
        + (f" ({report.changed_files.get(name)})" if report.changed_files.get(name) else "")
        for name in report.scenario_names
    ]
    for v in report.variants.values():
        lines.append(f"{v.name}: {v.label}" + (f"; {len(v.fixes)} fix(es)" if v.fixes else ""))
    lines.append(f"engine: {report.engine}, Docker {report.server_version}")
    return lines


def render_text(report: BenchReport, console: Console) -> None:
    if not console.is_terminal and console.width < 120:
        console.width = 120  # a log or a file: keep rows on one line
    console.print(f"jettison bench: {report.dockerfile}", markup=False)
    for title, header, rows in tables(report):
        table = Table(title=title, title_justify="left", show_lines=False)
        for i, column in enumerate(header):
            table.add_column(
                column,
                justify="left"
                if i == 0 or title.startswith(("Slowest", "Verification"))
                else "right",
                overflow="fold",
            )
        for row in rows:
            # as Text: "[builder] RUN ..." or uvicorn[standard] is no rich markup
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    for line in _headline(report):
        console.print(line, markup=False)
    for line in _legend(report) + report.notes:
        console.print(line, markup=False, style="dim")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: BenchReport) -> str:
    out = [f"## jettison bench: `{report.dockerfile}`", ""]
    out += [f"**{line}**" for line in _headline(report)]
    if _headline(report):
        out.append("")
    for title, header, rows in tables(report):
        out += [
            f"### {title}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
        ]
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        out.append("")
    out += [f"- {_md_cell(line)}" for line in _legend(report) + report.notes]
    fixed = report.variants.get("optimized")
    if fixed and fixed.fixes:
        out += ["", "<details><summary>Fixes applied</summary>", ""]
        out += [f"- {_md_cell(f)}" for f in fixed.fixes]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def render_json(report: BenchReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


# HTML: one page, no script or style from elsewhere, charts as inline SVG


def _bar_chart(
    title: str,
    groups: list[tuple[str, list[tuple[str, float | None, str]]]],
    unit_fmt: Any,
    chart_id: str,
) -> str:
    """Horizontal grouped bars. groups: (group label, [(series, value, css class)])."""
    values = [v for _, series in groups for _, v, _ in series if v is not None]
    top = max(values) if values else 1.0
    top = top or 1.0
    label_w, bar_w, row_h, gap = 130, 440, 22, 12
    height = sum(len(series) * row_h + gap for _, series in groups) + 30
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'width="{label_w + bar_w + 120}" height="{height}" '
        f'viewBox="0 0 {label_w + bar_w + 120} {height}" '
        ">",
        f"<title>{html.escape(title)}</title>",
    ]
    y = 10
    for group, series in groups:
        parts.append(f'<text class="group" x="0" y="{y + row_h - 6}">{html.escape(group)}</text>')
        for name, value, css in series:
            width = 0.0 if value is None else max(1.0, value / top * bar_w)
            shown = "n/a" if value is None else unit_fmt(value)
            parts.append(
                f'<rect class="bar {css}" x="{label_w}" y="{y + 2}" width="{width:.1f}" '
                f'height="{row_h - 6}" data-series="{html.escape(name)}" '
                f'data-value="{"" if value is None else value}"><title>{html.escape(name)}: '
                f"{html.escape(shown)}</title></rect>"
            )
            parts.append(
                f'<text class="value" x="{label_w + width + 6:.1f}" y="{y + row_h - 7}">'
                f"{html.escape(name)} {html.escape(shown)}</text>"
            )
            y += row_h
        y += gap
    parts.append("</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(parts)}</figure>"


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:980px;color:#1f2328;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}td.text,th.text{text-align:left}
figure{margin:0}figcaption{font-weight:600;margin:.5rem 0}
th{background:#f6f8fa}.headline{font-size:1.1rem;font-weight:600}
.chart text{font-size:12px;fill:#1f2328}.chart .group{font-weight:600}
.bar.original{fill:#cf6b4f}.bar.optimized{fill:#2f81f7}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.muted{color:#59636e}
pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:13px}
"""


def render_html(report: BenchReport) -> str:
    data = report.to_json()
    variants = list(report.variants.values())
    size_chart = _bar_chart(
        "Image size",
        [
            (
                "image size",
                [
                    (
                        v.name,
                        float(v.image_size_bytes) if v.image_size_bytes is not None else None,
                        v.name,
                    )
                    for v in variants
                ],
            )
        ],
        lambda b: human_bytes(int(b)),
        "chart-size",
    )
    time_groups = []
    for scenario in report.scenario_names:
        series = []
        for v in variants:
            s = v.scenarios.get(scenario)
            series.append((v.name, s.seconds_median if s else None, v.name))
        time_groups.append((scenario, series))
    time_chart = _bar_chart(
        "Build time per scenario (median seconds)", time_groups, seconds, "chart-time"
    )
    hit_groups = []
    for scenario in report.scenario_names:
        series = []
        for v in variants:
            s = v.scenarios.get(scenario)
            rate = s.cache_hit_rate if s else None
            series.append((v.name, None if rate is None else rate * 100, v.name))
        hit_groups.append((scenario, series))
    hit_chart = _bar_chart(
        "Cache hit rate per scenario (%)", hit_groups, lambda r: f"{r:.0f} %", "chart-cache"
    )
    body = [f"<h1>jettison bench: {html.escape(report.dockerfile)}</h1>"]
    body += [f'<p class="headline">{html.escape(line)}</p>' for line in _headline(report)]
    body.append('<div class="charts">' + size_chart + time_chart + hit_chart + "</div>")
    for title, header, rows in tables(report):
        text_cols = title.startswith(("Slowest", "Verification"))
        body.append(
            f"<h2>{html.escape(title)}</h2><table><thead><tr>"
            + "".join(
                f"<th{' class=text' if text_cols else ''}>{html.escape(h)}</th>" for h in header
            )
            + "</tr></thead><tbody>"
        )
        for row in rows:
            cells = "".join(
                f"<td{' class=text' if text_cols else ''}>{html.escape(c)}</td>" for c in row
            )
            body.append(f"<tr>{cells}</tr>")
        body.append("</tbody></table>")
    body.append(
        "<ul class=muted>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in _legend(report) + report.notes)
        + "</ul>"
    )
    for v in variants:
        body.append(f"<h2>Dockerfile: {html.escape(v.name)} ({html.escape(v.label)})</h2>")
        if v.fixes:
            body.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in v.fixes) + "</ul>")
        body.append(f"<pre>{html.escape(v.dockerfile_text)}</pre>")
    payload = json.dumps(data).replace("</", "<\\/")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>jettison bench: {html.escape(report.project)}</title>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<style>{_CSS}</style></head><body>"
        + "".join(body)
        + f'<script type="application/json" id="jettison-bench-data">{payload}</script>'
        + "</body></html>\n"
    )


def render_compose_text(report: ComposeBench) -> str:
    """The compose graph bench (:mod:`jettison.bench.compose`) as a text table."""

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+.1f} %"

    b, a, c = report.before, report.after, report.comparison()
    lines = [f"compose graph benchmark: {report.compose}", ""]
    lines.append(f"{'':28}{'before':>14}{'after':>14}{'better by':>12}")
    lines.append(
        f"{'cold build (all targets)':28}{b.cold_seconds:>13.1f}s{a.cold_seconds:>13.1f}s"
        f"{pct(c['cold_faster_pct']):>12}"
    )
    lines.append(
        f"{'code-change rebuild':28}{b.code_change_seconds:>13.1f}s"
        f"{a.code_change_seconds:>13.1f}s{pct(c['code_change_faster_pct']):>12}"
    )
    lines.append(
        f"{'unique bytes (services)':28}{megabytes(b.unique_bytes):>14}"
        f"{megabytes(a.unique_bytes):>14}"
        f"{pct(c['unique_bytes_smaller_pct']):>12}"
    )
    lines.append(
        f"{'sum of image sizes':28}{megabytes(b.naive_bytes):>14}{megabytes(a.naive_bytes):>14}"
    )
    for v in (b, a):
        if v.error:
            lines.append(f"{v.name}: build failed: {v.error}")
        for service, failure in sorted(v.verified.items()):
            lines.append(f"{v.name} {service}: smoke check {failure if failure else 'ok'}")
    lines += ["", "changes (after):", *(f"  {line}" for line in report.applied)]
    return "\n".join(lines) + "\n"


def render_document(report: BenchReport, fmt: str) -> str | None:
    """JSON and Markdown as a string; None for the text view (rich renders it)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report)
    return None


def render_text_to_string(report: BenchReport) -> str:
    """The text view for a file: 120 columns, no colour."""
    capture = Console(width=120, force_terminal=False, no_color=True)
    # what the capture holds: a recording stays empty while a capture is open
    with capture.capture() as captured:
        render_text(report, capture)
    return captured.get()


def render_compose(report: ComposeBench, fmt: str) -> str:
    """The compose graph bench as ``text`` or ``json``."""
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    return render_compose_text(report)
