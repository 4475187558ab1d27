"""The ``jettison`` command line: one module per verb, each exposing ``command``.

Commands only parse arguments, call the library and render. Any module in this package
with a ``command`` attribute (a :class:`click.Command`) is registered, so a new verb is a
new file. Errors reach the user as one line and exit code 2, never as a traceback
(set ``JETTISON_DEBUG=1`` to see one).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
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
        except Exception as exc:  # last resort: one line, not a traceback
            if os.environ.get("JETTISON_DEBUG"):
                raise
            click.echo(
                f"jettison: internal error: {type(exc).__name__}: {exc} "
                "(set JETTISON_DEBUG=1 for a traceback)",
                err=True,
            )
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jettison")
def cli() -> None:
    """Make container images small, their builds fast and cached, and their defaults safe."""


def _register() -> None:
    package = sys.modules[__name__]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def main() -> None:
    # click reports usage errors with exit code 2 itself
    cli(prog_name="jettison")
