"""The ``jettison`` command line: one module per verb, each exposing ``command``.

Commands only parse arguments, call the library and render. A module ``cli/NAME.py`` with a
``command`` attribute (a :class:`click.Command`) is the verb ``jettison NAME``, so a new
verb is a new file. Errors reach the user as one line and exit code 2, never as a traceback
(set ``JETTISON_DEBUG=1`` to see one).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import pkgutil
import sys
import threading
from typing import Any

import click

from jettison import __version__
from jettison.errors import JettisonError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JettisonError as exc:
            click.echo(f"jettison: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("jettison: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)
        except OSError as exc:  # a file or socket the library did not expect to fail
            if os.environ.get("JETTISON_DEBUG"):
                raise
            click.echo(f"jettison: error: {_os_error(exc)}", err=True)
            ctx.exit(2)
        except RecursionError:  # input nested deeper than the parsers follow
            if os.environ.get("JETTISON_DEBUG"):
                raise
            click.echo("jettison: error: input too deeply nested to analyse", err=True)
            ctx.exit(2)
        except Exception as exc:  # last resort: one line, not a traceback
            if os.environ.get("JETTISON_DEBUG"):
                raise
            click.echo(
                f"jettison: internal error: {type(exc).__name__}: {exc} "
                "(set JETTISON_DEBUG=1 for a traceback)",
                err=True,
            )
            ctx.exit(2)


def _os_error(exc: OSError) -> str:
    """``path: reason`` for an OSError, as a JettisonError would say it."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    path = exc.filename
    where = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else None
    return str(JettisonError(reason, where))


class _LazyGroup(_Group):
    """Commands are the modules of this package, imported only when used: ``jettison audit``
    does not pay for importing the image reader, the engine layer or the deps analyser."""

    def _module_names(self) -> list[str]:
        package = sys.modules[__name__]
        return sorted(
            m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
        )

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._module_names()})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        found = super().resolve_command(ctx, args)
        global _starting
        if _starting:  # the command's modules are imported: they live until exit
            _starting = False
            gc.freeze()
            gc.enable()
        return found

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in self._module_names():
            return found
        module = importlib.import_module(f"{__name__}.{cmd_name}")
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            return None
        self.add_command(command, cmd_name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jettison")
def cli() -> None:
    """Make container images small, their builds fast and cached, and their defaults safe."""


# Set by main(): the collector is off while the interpreter imports the command's modules
# (tens of thousands of objects, all alive until exit: collections there find nothing).
_starting = False


def main() -> None:
    """The console entry point."""
    global _answer_first
    _answer_first = False
    code = run()
    leave(code, _answer_first)


def run() -> str | int | None:
    """The command of ``sys.argv``; its exit code (click's SystemExit caught)."""
    global _starting
    _starting = gc.isenabled()
    gc.disable()
    try:
        cli(prog_name="jettison")  # click reports usage errors with exit code 2 itself
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        if _starting:
            _starting = False
            gc.enable()
    return code


# set by a command whose exit handlers take time, for main() (see answer_first)
_answer_first = False


def answer_first() -> None:
    """Let this command line's caller have its exit code as soon as its output is written,
    before its exit handlers (an inspect's temporary files, with the pages of a spooled
    export: some 10 ms per 100 MB to free) and the exit itself: see
    :func:`jettison._entry.answer_from_a_child`. (A command run otherwise, e.g. by a
    test's runner, is not affected.)"""
    global _answer_first
    _answer_first = True


def leave(code: str | int | None, answer_first: bool = False) -> None:
    """Exit with ``code``, skipping the interpreter's teardown when nothing can need it.

    Teardown frees every object left (an image report holds a few per tar entry) and
    collects several times: 10-20 ms that change nothing once the output is flushed and the
    exit handlers have run (temporary directories are removed by then). With another
    thread still running, or an exit code that is not a number, a normal exit.
    ``answer_first``: a parent waiting for the code (see :func:`answer_first`) is given it
    before the exit handlers run.
    """
    if code is None:
        code = 0
    if not isinstance(code, int):
        sys.exit(code)
    if answer_first:
        from jettison._entry import answered

        code = flush_output(code)
        answered(code)
    atexit._run_exitfuncs()  # first: threads removing temporary files are joined there
    if threading.active_count() > 1:
        sys.exit(code)
    os._exit(flush_output(code))


def flush_output(code: int) -> int:
    """Flush stdout and stderr; the exit code then (1 when the reader of the output left,
    120 when it could not be written)."""
    for stream in (sys.stdout, sys.stderr):  # then flush, handlers' output included
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left (`jettison ... | head`)
            code = code or 1
            _to_devnull(stream)
        except (OSError, ValueError):  # e.g. a full disk: fail as Python's own exit does
            code = code or 120
    return code


def _to_devnull(stream: Any) -> None:
    """Point a broken stream at /dev/null so that no later flush fails."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
