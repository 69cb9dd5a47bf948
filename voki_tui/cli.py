"""The ``voki-tui`` command line: the dashboard, ``snapshot``, ``watch`` and ``logout``.

Settings are merged here (command line > ``VOKI_*`` > config file; ``voki_tui.settings``
declares every option once) and handed on as one ``Settings`` value; nothing below this module
reads ``sys.argv`` or the environment, except ``TEXTUAL_COLOR_SYSTEM``, which must be set
before Textual is imported.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from voki_tui import __version__
from voki_tui.account import Account
from voki_tui.api.tokens import TokenStore
from voki_tui.settings import ConfigError, Option, Settings, load, options

log = logging.getLogger(__name__)

#: Set by textual-serve for each browser session: the dashboard's "terminal" is the browser.
WEB_DRIVER_ENV = "TEXTUAL_DRIVER"

DEMO_SEED = 42
DEMO_SPEED = 2.0
#: Fewer agents than the simulator's default, so the demo's queues actually fill up.
DEMO_AGENTS = 6


def _add_option(add: Callable[..., object], name: str, option: Option) -> None:
    """One setting as a command-line option; absent unless given (``SUPPRESS``), so the
    environment and the file below it are not overridden by a default."""
    default = Settings.__dataclass_fields__[name].default
    flag, unset = option.flag_for(name), argparse.SUPPRESS
    if isinstance(default, bool):
        add(flag, dest=name, action="store_true", default=unset, help=option.help)
    elif isinstance(default, tuple):
        add(flag, dest=name, action="append", default=unset, metavar=option.metavar,
            help=option.help)  # fmt: skip
    else:
        add(flag, dest=name, default=unset, metavar=option.metavar, choices=option.choices,
            help=option.help)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    # The common options first: a parent's arguments are copied when a child is made.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    connect = common.add_argument_group("connection")
    for name, option in options():
        if "cli" in option.sources and option.scope == "common":
            _add_option(connect.add_argument, name, option)
    common.add_argument("--config", type=Path, help="config file (default: user config dir)")
    parser = argparse.ArgumentParser(
        prog="voki-tui",
        description="Live queue dashboard for Voki, in the terminal.",
        parents=[common],
        epilog="Every option can also be set as VOKI_<NAME> in the environment or in "
        "config.toml; see --print-config.",
    )
    parser.add_argument("--version", action="version", version=f"voki-tui {__version__}")
    ui = parser.add_argument_group("dashboard")
    for name, option in options():
        if "cli" in option.sources and option.scope == "dashboard":
            _add_option(ui.add_argument, name, option)
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the merged settings (secrets masked) and the config, state and log paths",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in (
        ("snapshot", "print one JSON document of every chosen department and exit"),
        ("watch", "print one JSON line per change of state until interrupted"),
    ):
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.add_argument("--json", action="store_true", required=True, help="JSON output")
        if name == "snapshot":
            sub.add_argument(
                "--timeout", type=float, default=30.0, help="seconds to wait for a full sync"
            )
    commands.add_parser("logout", parents=[common], help="revoke and forget the stored session")
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the dashboard to browsers (one session each, behind a secret URL)",
        description="Serve the dashboard to browsers through textual-serve: each browser "
        "session runs its own voki-tui with these options, read-only unless --allow-actions. "
        "Open the URL printed at start (it carries the secret token).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free)")
    serve.add_argument("--allow-actions", action="store_true", help="let browser sessions log out")
    for name, option in options():  # the dashboard's options, for the sessions
        if "cli" in option.sources and option.scope == "dashboard":
            _add_option(serve.add_argument, name, option)
    replay = commands.add_parser(
        "replay",
        parents=[common],
        help="show the board of a past moment from a --record directory",
        description="Show the board as it was, from what --record wrote: the same screens "
        "with REPLAY and the moment in the status bar (space pauses, left and right step "
        "10 s, [ and ] a minute, t jumps to a time), or with 'snapshot --json' the document "
        "of one moment.",
    )
    replay.add_argument("path", type=Path, metavar="PATH", help="a recording file or directory")
    replay.add_argument(
        "--at",
        metavar="TIME",
        help="the moment: HH:MM[:SS] (local, on the recording's day) or an ISO 8601 date and "
        "time, e.g. a watch line's taken_at_exact (default: the recording's start)",
    )
    replay.add_argument(
        "--speed", type=_speed, default=1.0, metavar="N", help="play N times faster (default 1)"
    )
    for name, option in options():  # how the board looks
        if "cli" in option.sources and option.scope == "dashboard":
            _add_option(replay.add_argument, name, option)
    replay_commands = replay.add_subparsers(dest="replay_command", metavar="COMMAND")
    at_moment = replay_commands.add_parser(
        "snapshot", help="print the JSON document of the board at --at and exit"
    )
    at_moment.add_argument("--json", action="store_true", required=True, help="JSON output")
    return parser


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.1 <= value <= 1000:
        raise argparse.ArgumentTypeError("expected a number from 0.1 to 1000")
    return value


def _cli_layer(args: argparse.Namespace) -> dict[str, object]:
    """Only the options actually given on the command line (None means "not given")."""
    return {
        name: getattr(args, name)
        for name, option in options()
        if "cli" in option.sources and getattr(args, name, None) is not None
    }


@contextmanager
def demo_server(settings: Settings) -> Iterator[tuple[Settings, TokenStore]]:
    """An embedded voki-sim in a child process, and settings that log in to it.

    The demo keeps its tokens in a temporary directory so it never touches a real login.
    """
    from voki_tui.sim import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT
    from voki_tui.sim.testing import SimProcess

    state = Path(tempfile.mkdtemp(prefix="voki-tui-demo-"))
    try:
        with SimProcess(
            seed=DEMO_SEED, speed=DEMO_SPEED, agents=DEMO_AGENTS, die_with_parent=True
        ) as sim:
            yield (
                replace(
                    settings,
                    server=sim.url,
                    tenant=DEMO_TENANT,
                    email=DEMO_EMAILS["supervisor"],
                    password=DEMO_PASSWORD,
                    insecure=False,
                ),
                TokenStore(state),
            )
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _configure_logging(level_name: str) -> str | None:
    """Log to the rotating file; what went wrong (to say on screen) if that is impossible."""
    from voki_tui.logs import configure_logging, disable_logging

    level = logging.getLevelName(level_name.upper())
    try:
        configure_logging(level if isinstance(level, int) else logging.INFO)
    except OSError as exc:
        disable_logging()
        return f"no log file ({exc.strerror or type(exc).__name__}: {exc.filename})"
    return None


def _run_dashboard(settings: Settings, store: TokenStore | None, notices: tuple[str, ...]) -> int:
    if settings.color_system != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = settings.color_system
    from voki_tui.ui.app import VokiApp
    from voki_tui.ui.signals import cancel_exit_deadline

    account = Account(settings, store)
    app = VokiApp(settings, account, account.feed(), notices=notices)
    try:
        code = app.run()
    finally:
        cancel_exit_deadline()
    return code if isinstance(code, int) else (app.return_code or 0)


def _replay(args: argparse.Namespace, settings: Settings, notices: tuple[str, ...]) -> int:
    """``voki-tui replay PATH``: the board of a past moment (``voki_tui.replay``)."""
    from voki_tui import replay

    if args.replay_command == "snapshot":
        if args.at is None:
            print("voki-tui: replay ... snapshot needs --at TIME", file=sys.stderr)
            return replay.EXIT_USAGE
        return replay.snapshot_at(args.path, args.at, sys.stdout)
    try:
        feed = replay.open_feed(args.path, args.at, args.speed)
    except replay.ReplayError as exc:
        print(f"voki-tui: {exc}", file=sys.stderr)
        return replay.EXIT_USAGE
    if settings.color_system != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = settings.color_system
    from voki_tui.ui.app import VokiApp
    from voki_tui.ui.signals import cancel_exit_deadline

    # What the board shows is the recording's: its departments, nothing to change on a server.
    shown = replace(settings, departments=(), read_only=True)
    app = VokiApp(
        shown,
        replay.ReplayAccount(feed),
        feed,
        feed.wall_clock,
        notices=notices,
        replay=feed,
    )
    try:
        code = app.run()
    finally:
        cancel_exit_deadline()
    return code if isinstance(code, int) else (app.return_code or 0)


def _run_headless(
    command: str, args: argparse.Namespace, settings: Settings, store: TokenStore | None
) -> int:
    from voki_tui import headless

    account = Account(settings, store)

    async def main() -> int:
        try:
            if command == "snapshot":
                return await headless.snapshot(account, sys.stdout, args.timeout)
            if command == "watch":
                return await headless.watch(account, sys.stdout, sys.stderr)
            return await _logout(account)
        finally:
            await account.close()

    return headless.run(main)


async def _logout(account: Account) -> int:
    from voki_tui import headless

    user = await account.restore()
    if user is None:
        print("voki-tui: no stored session to log out of", file=sys.stderr)
        return headless.EXIT_OK
    await account.logout()
    print(f"logged out {user.email}", file=sys.stderr)
    return headless.EXIT_OK


def _print_config(settings: Settings, config_path: Path | None) -> None:
    import json

    from voki_tui.paths import log_dir, state_dir
    from voki_tui.settings import default_config_path

    shown = {
        "settings": settings.masked(),
        "paths": {
            "config": str(config_path or default_config_path()),
            "state": str(state_dir()),
            "log": str(log_dir()),
        },
    }
    print(json.dumps(shown, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    config_path: Path | None = getattr(args, "config", None)
    try:
        settings = load(_cli_layer(args), config_path)
    except ConfigError as exc:
        parser.exit(2, f"voki-tui: {exc}\n")
    if getattr(args, "print_config", False):
        _print_config(settings, config_path)
        return 0
    command: Any = args.command
    on_a_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    replay_command = getattr(args, "replay_command", None)
    on_screen = not command or (command == "replay" and not replay_command)
    if on_screen and not on_a_terminal and not os.environ.get(WEB_DRIVER_ENV):
        # Without a terminal (systemd, cron, stdin from /dev/null) the dashboard has nothing to
        # draw on and, in Textual, spins a core waiting for input that never comes.
        parser.exit(
            2,
            "voki-tui: the dashboard needs a terminal; under systemd or cron run it inside "
            "tmux, or use 'voki-tui watch --json' / 'voki-tui snapshot --json'\n",
        )
    problem = _configure_logging(settings.log_level)
    notices = () if problem is None else (problem,)
    if problem is not None and command:
        print(f"voki-tui: {problem}", file=sys.stderr)
    if command == "replay":
        return _replay(args, settings, notices)
    if settings.demo:
        with demo_server(settings) as (demo_settings, store):
            return _dispatch(command, args, demo_settings, store, notices)
    if not command and settings.insecure:
        log.warning("TLS verification is off (--insecure)")
    return _dispatch(command, args, settings, None, notices)


def _dispatch(
    command: str | None,
    args: argparse.Namespace,
    settings: Settings,
    store: TokenStore | None,
    notices: tuple[str, ...] = (),
) -> int:
    if command == "serve":
        from voki_tui import serve

        home = store.directory if store is not None else None  # --demo keeps its own files
        return serve.run(settings, args.host, args.port, args.allow_actions, home)
    if command:
        return _run_headless(command, args, settings, store)
    return _run_dashboard(settings, store, notices)
