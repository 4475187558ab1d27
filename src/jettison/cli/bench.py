"""``jettison bench``: build the Dockerfile as it is and its optimized version (or a compose
graph before and after shared bases), and measure."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from jettison.atomic import write_text_atomic
from jettison.audit.discovery import is_compose_file
from jettison.bench import SCENARIOS, BenchEvents, BenchOptions, bench_dockerfile
from jettison.bench.model import Run
from jettison.bench.report import (
    FORMATS,
    render_document,
    render_html,
    render_text,
    render_text_to_string,
)
from jettison.cli._common import (
    build_config,
    builder_option,
    check_output,
    console,
    parse_build_args,
    progress_shown,
    quiet_option,
)
from jettison.engine import Step
from jettison.errors import BuildFailedError, JettisonError


class _Live(BenchEvents):
    """Progress bars per variant and scenario on a terminal (unless ``-q``); nothing
    elsewhere (the report says it all)."""

    def __init__(self, err: Console, quiet: bool) -> None:
        self.err = err
        self.live = err.is_terminal and not quiet
        self.progress = Progress(
            TextColumn("{task.fields[label]:<24}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err,
            transient=False,
            disable=not self.live,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.started = False

    def __enter__(self) -> _Live:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:  # a bench that stopped on bad input never showed its bars
            self.progress.stop()

    def starting(self, variants: list[str], scenarios: tuple[str, ...], repeat: int) -> None:
        self.tasks = {
            (v, s): self.progress.add_task("", total=repeat, label=f"{v} {s}", start=False)
            for s in scenarios
            for v in variants
        }
        self.progress.start()
        self.started = True

    def build_started(self, variant: str, scenario: str, repetition: int) -> None:
        task = self.tasks[(variant, scenario)]
        self.progress.start_task(task)
        self.progress.update(task, description="starting")

    def step(self, variant: str, scenario: str, step: Step) -> None:
        if step.counts and not step.finished:
            text = step.instruction if len(step.instruction) < 60 else step.instruction[:57] + "..."
            self.progress.update(self.tasks[(variant, scenario)], description=text)

    def build_finished(self, variant: str, scenario: str, run: Run | None) -> None:
        task = self.tasks[(variant, scenario)]
        if run is None:
            what = "build failed"
        else:
            what = f"{run.seconds:.1f}s, {run.steps_cached}/{run.steps_total} cached"
        self.progress.update(task, advance=1, description=what)

    def verifying(self, variant: str) -> None:
        if self.live:
            self.err.print(f"jettison bench: {variant}: smoke check", markup=False)


def _locate(path: str, dockerfile: str | None, context: str | None) -> tuple[Path, Path]:
    target = Path(path)
    if not target.exists():
        raise JettisonError("no such file or directory", path)
    if target.is_file():
        df = Path(dockerfile) if dockerfile else target
        ctx = Path(context) if context else target.parent
    else:
        ctx = Path(context) if context else target
        df = Path(dockerfile) if dockerfile else target / "Dockerfile"
    if not ctx.is_dir():
        raise JettisonError("build context does not exist or is not a directory", str(ctx))
    if not df.is_file():
        raise JettisonError("Dockerfile not found", str(df))
    return df, ctx


def _bench_compose(path: str, fmt: str, output: str | None, no_verify: bool, quiet: bool) -> None:
    """A compose file: the whole build graph before and after shared-base extraction."""
    from jettison.bench.compose import bench_compose
    from jettison.bench.report import render_compose

    if fmt not in ("text", "json"):
        raise JettisonError(f"--format {fmt} is not available for compose files (text, json)")
    err = console(stderr=True)
    shown = progress_shown(quiet)

    def on_build(variant: str, scenario: str, done: object) -> None:
        if shown:
            seconds = getattr(done, "seconds", 0.0)
            err.print(f"jettison bench: {variant} {scenario}: {seconds:.1f}s", markup=False)

    report = bench_compose(path, check=not no_verify, on_build=on_build)
    text = render_compose(report, fmt)
    if output:
        write_text_atomic(Path(output), text)
    else:
        click.echo(text, nl=False)
    bad = [v for v in (report.before, report.after) if v.error or any(v.verified.values())]
    raise SystemExit(1 if bad else 0)


@click.command("bench")
@click.argument("path", default=".")
@click.option(
    "-f",
    "--file",
    "dockerfile",
    help="Dockerfile (default: PATH/Dockerfile, or PATH itself when it is a file).",
)
@click.option("--context", help="Build context (default: the Dockerfile's directory).")
@click.option(
    "--against",
    type=click.Path(dir_okay=False),
    metavar="DOCKERFILE",
    help="Compare with this Dockerfile instead of the jettison-fixed version.",
)
@click.option("--unsafe-fixes", is_flag=True, help="Optimize with the unsafe fixes too.")
@click.option(
    "--each-fix",
    is_flag=True,
    help="Also bench each fix on top of the ones before it, and report what each changed "
    "in image size and build times (one more variant per fix).",
)
@click.option(
    "--repeat",
    "-n",
    type=click.IntRange(1, 50),
    default=3,
    show_default=True,
    help="Builds per variant and scenario (min and median are reported).",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(SCENARIOS),
    help="Only these scenarios (repeatable; default: all four).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Also write a self-contained HTML page with charts.",
)
@click.option(
    "--touch",
    metavar="FILE",
    help="Source file the code_change scenario edits "
    "(relative to the context; default: chosen from CMD/ENTRYPOINT and the sources).",
)
@click.option(
    "--deps-file",
    metavar="FILE",
    help="Dependency manifest deps_change edits "
    "(default: the requirements/pyproject/package.json the Dockerfile copies).",
)
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE")
@click.option("--target", help="Build this stage.")
@click.option("--no-verify", is_flag=True, help="Skip the smoke check of the images.")
@click.option("--keep-images", is_flag=True, help="Keep the last image of each variant.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (for the fixer's rule selection).",
)
@quiet_option
@builder_option
def command(
    path: str,
    dockerfile: str | None,
    context: str | None,
    against: str | None,
    unsafe_fixes: bool,
    each_fix: bool,
    repeat: int,
    scenarios: tuple[str, ...],
    fmt: str,
    output: str | None,
    html_path: str | None,
    touch: str | None,
    deps_file: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    no_verify: bool,
    keep_images: bool,
    config_path: str | None,
    quiet: bool,
) -> None:
    """Build a Dockerfile as it is and optimized, in the cold, warm, code_change and
    deps_change scenarios, on the real BuildKit engine; report size, layers, build times
    (min and median), cache hits, the slowest steps and a smoke check of both images.

    The user's files are never modified (the builds run in temporary copies) and the images
    built are removed unless --keep-images. Exit code: 0 when both variants build and pass
    the smoke check, 1 when one does not, 2 on bad input or without an engine.
    """
    inputs = (path, dockerfile, against, config_path)
    check_output(output, "--output", inputs)
    check_output(html_path, "--html", inputs)
    if output is not None and html_path is not None and Path(output) == Path(html_path):
        raise JettisonError("--output and --html name the same file", output)
    if Path(path).is_file() and is_compose_file(path):
        # the whole graph (jettison.services): refuse what it would otherwise ignore
        ignored = [
            name
            for name, given in (
                ("-f/--file", dockerfile is not None),
                ("--context", context is not None),
                ("--against", against is not None),
                ("--unsafe-fixes", unsafe_fixes),
                ("--each-fix", each_fix),
                ("--repeat", repeat != 3),
                ("--scenario", bool(scenarios)),
                ("--html", html_path is not None),
                ("--touch", touch is not None),
                ("--deps-file", deps_file is not None),
                ("--build-arg", bool(build_args)),
                ("--target", target is not None),
                ("--keep-images", keep_images),
                ("--config", config_path is not None),
            )
            if given
        ]
        if ignored:
            raise JettisonError(
                f"{', '.join(ignored)}: not available for a compose file (its bench builds "
                "the whole graph once per variant: --format text|json, --output, --no-verify, -q)",
                path,
            )
        _bench_compose(path, fmt, output, no_verify, quiet)
    if each_fix and against is not None:
        raise JettisonError(
            "--each-fix measures jettison's fixes; it cannot be used with --against"
        )
    df, ctx = _locate(path, dockerfile, context)
    check_output(output, "--output", (str(df),))
    check_output(html_path, "--html", (str(df),))
    options = BenchOptions(
        repeat=repeat,
        scenarios=tuple(scenarios) or SCENARIOS,
        keep_images=keep_images,
        verify=not no_verify,
        touch=touch,
        deps_file=deps_file,
        build_args=parse_build_args(build_args),
        target=target,
    )
    config = build_config(config_path, (), (), None)
    against_df = Path(against) if against else None
    err = console(stderr=True)
    with _Live(err, quiet) as live:
        report = bench_dockerfile(
            df,
            ctx,
            options,
            config,
            against=against_df,
            unsafe=unsafe_fixes,
            each_fix=each_fix,
            events=live,
        )
    original = report.variants["original"]
    if original.build_error:
        # nothing to compare: the failing step's output, then the one-line error
        for line in original.build_log_tail:
            err.print(f"  | {line}", markup=False, highlight=False)
        raise BuildFailedError(original.build_error, str(df), original.build_error_line)
    if html_path:
        write_text_atomic(Path(html_path), render_html(report))
    text = render_document(report, fmt)
    if output:
        write_text_atomic(Path(output), render_text_to_string(report) if text is None else text)
    elif text is None:
        render_text(report, console())
    else:
        click.echo(text, nl=False)
    if not unsafe_fixes and against is None:
        err.print(
            "note: measured with the safe fixes only; `jettison bench --unsafe-fixes` "
            "measures the full rewrite (slim base, multi-stage conversion, reordering)",
            markup=False,
        )
    # the two sides decide; an --each-fix step that does not build alone is reported only
    ends = [report.variants[n] for n in ("original", "optimized") if n in report.variants]
    bad = [v for v in ends if v.build_error or v.verified is False]
    raise SystemExit(1 if bad else 0)
