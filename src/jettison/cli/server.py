"""``jettison server``: keep jettison loaded for hooks and editors that audit one file at a
time (see :mod:`jettison.server`)."""

from __future__ import annotations

import contextlib

import click

from jettison import server as srv
from jettison._entry import socket_path


@click.group("server")
def command() -> None:
    """Keep jettison loaded so that `jettison audit` of one file starts in milliseconds.

    A pre-commit hook or an editor runs `jettison audit` once per file, and each run pays
    for loading jettison before reading the file. With a server running, `jettison audit`
    hands its command line, working directory, environment and terminal to the server,
    which runs it in a fork of itself: same output, same exit code.

    You do not need to start one: when no server answers, `jettison audit` runs as usual
    and, once it has finished, starts one in the background for the next calls (about
    5 ms more for that first call). The server answers only your user, stops after 15
    minutes without a request (--idle-timeout of `start` and `run`), when jettison is
    upgraded, and with `jettison server stop`.

    \b
    JETTISON_SERVER=auto    the default: use a server, start one when none answers;
                            none where CI is set to a true value (CI jobs)
    JETTISON_SERVER=on      start one in CI as well
    JETTISON_SERVER=manual  use a server started with `jettison server start`, start none
    JETTISON_SERVER=off     never use one (JETTISON_NO_SERVER=1 says the same)
    """


@command.command("start")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    help="Stop after this many seconds without a request.",
)
def start(idle_timeout: float) -> None:
    """Start a server in the background."""
    pid = srv.start(idle_timeout)
    click.echo(f"jettison server {pid} listening on {socket_path()}")


@command.command("run")
@click.option("--idle-timeout", type=click.FloatRange(min=1), default=900, show_default=True)
def run(idle_timeout: float) -> None:
    """Serve in the foreground (until idle, Ctrl-C or `jettison server stop`)."""

    def ready() -> None:
        click.echo(f"jettison server listening on {socket_path()}", err=True)

    with contextlib.suppress(KeyboardInterrupt):
        if not srv.serve(idle_timeout, ready=ready):
            click.echo("another jettison server is running", err=True)
            raise SystemExit(1)


@command.command("stop")
def stop() -> None:
    """Stop the server."""
    click.echo("stopped" if srv.stop() else "no server was running")


@command.command("status")
def status() -> None:
    """Say whether a server answers; exit 1 when none does."""
    if srv.running():
        click.echo(f"running on {socket_path()}")
    else:
        click.echo("no server running")
        raise SystemExit(1)
