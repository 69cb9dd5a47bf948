"""The ``voki-tui`` command line: the dashboard, ``snapshot``, ``watch`` and ``logout``.

Settings are merged here (command line > ``VOKI_*`` > config file, see ``voki_tui.config``)
and handed on as plain option objects; nothing below this module reads ``sys.argv`` or the
environment, except ``TEXTUAL_COLOR_SYSTEM``, which must be set before Textual is imported.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from voki_tui import __version__
from voki_tui.account import Account, AccountOptions
from voki_tui.api.tokens import TokenStore
from voki_tui.config import COLOR_SYSTEMS, THEMES, ConfigError, Settings, load

log = logging.getLogger(__name__)

DEMO_SEED = 42
DEMO_SPEED = 2.0
#: Fewer agents than the simulator's default, so the demo's queues actually fill up.
DEMO_AGENTS = 6


def _parser() -> argparse.ArgumentParser:
    # Defaults suppressed: a subcommand's copy of an option must not reset the top level's.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    connect = common.add_argument_group("connection")
    connect.add_argument("--server", help="Voki server URL, e.g. https://voki.example.com")
    connect.add_argument("--tenant", help="tenant slug")
    connect.add_argument("--email", help="login email (the password comes from VOKI_PASSWORD)")
    connect.add_argument(
        "--department",
        dest="departments",
        action="append",
        metavar="ID",
        help="department id to watch (repeatable; default: every visible department)",
    )
    connect.add_argument(
        "--demo",
        action="store_true",
        help="start an embedded voki-sim on loopback and log in as its supervisor",
    )
    connect.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify TLS certificates (a warning stays on screen)",
    )
    common.add_argument("--config", type=Path, help="config file (default: user config dir)")
    common.add_argument("--log-level", help="log file level (default INFO)")

    parser = argparse.ArgumentParser(
        prog="voki-tui",
        description="Live queue dashboard for Voki, in the terminal.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"voki-tui {__version__}")
    ui = parser.add_argument_group("dashboard")
    ui.add_argument(
        "--wallboard", action="store_true", default=None, help="start at the wallboard, no chrome"
    )
    ui.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="refuse anything that changes server state",
    )
    ui.add_argument("--lang", choices=("en", "pt-BR"), help="label language (default: your locale)")
    ui.add_argument("--theme", choices=THEMES, help="colour theme")
    ui.add_argument(
        "--color-system",
        choices=COLOR_SYSTEMS,
        help="force the colour system (SSH often hides COLORTERM)",
    )
    ui.add_argument(
        "--bell",
        action="store_true",
        default=None,
        help="ring the bell when a department crosses a threshold",
    )
    ui.add_argument(
        "--print-config",
        action="store_true",
        help="print the merged settings (secrets masked) and exit",
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
    return parser


_SETTING_NAMES = (
    "server",
    "tenant",
    "email",
    "departments",
    "demo",
    "insecure",
    "wallboard",
    "read_only",
    "lang",
    "theme",
    "color_system",
    "bell",
)


def _cli_layer(args: argparse.Namespace) -> dict[str, object]:
    """Only the options actually given on the command line (None means "not given")."""
    return {
        name: getattr(args, name)
        for name in _SETTING_NAMES
        if getattr(args, name, None) is not None
    }


HEARTBEAT_ENV = "VOKI_HEARTBEAT_S"


def heartbeat_override(env: Mapping[str, str]) -> float | None:
    """``VOKI_HEARTBEAT_S``: the feed's heartbeat interval and reply timeout, in seconds.

    The default (15 s + 15 s) notices a dead link within 30 s; tests and fault drills set it
    lower so a silent server is noticed sooner. Not a config-file setting on purpose.
    """
    raw = env.get(HEARTBEAT_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.5 <= value <= 300:
        raise ConfigError(f"{HEARTBEAT_ENV} must be a number of seconds from 0.5 to 300")
    return value


def _account_options(settings: Settings, heartbeat_s: float | None = None) -> AccountOptions:
    return AccountOptions(
        heartbeat_s=heartbeat_s,
        server=settings.server,
        tenant=settings.tenant,
        email=settings.email,
        password=settings.password,
        departments=settings.departments,
        insecure=settings.insecure,
    )


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


def _configure_logging(level_name: str) -> None:
    from voki_tui.logs import configure_logging

    level = logging.getLevelName(level_name.upper())
    configure_logging(level if isinstance(level, int) else logging.INFO)


def _run_dashboard(settings: Settings, store: TokenStore | None, heartbeat_s: float | None) -> int:
    if settings.color_system != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = settings.color_system
    from voki_tui.ui.app import VokiApp
    from voki_tui.ui.ports import AppOptions
    from voki_tui.ui.signals import cancel_exit_deadline

    account = Account(_account_options(settings, heartbeat_s), store)
    options = AppOptions(
        server=settings.server,
        tenant=settings.tenant,
        email=settings.email,
        departments=settings.departments,
        wallboard=settings.wallboard,
        read_only=settings.read_only,
        lang=settings.lang,
        theme=settings.theme,
        color_system=settings.color_system,
        bell=settings.bell,
        demo=settings.demo,
        insecure=settings.insecure,
    )
    app = VokiApp(options, account, account.feed())
    try:
        code = app.run()
    finally:
        cancel_exit_deadline()
    return code if isinstance(code, int) else (app.return_code or 0)


def _run_headless(
    command: str, args: argparse.Namespace, settings: Settings, store: TokenStore | None
) -> int:
    from voki_tui import headless

    account = Account(_account_options(settings, args.heartbeat_s), store)

    async def main() -> int:
        try:
            if command == "snapshot":
                return await headless.snapshot(account, sys.stdout, args.timeout)
            if command == "watch":
                return await headless.watch(account, sys.stdout)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load(_cli_layer(args), getattr(args, "config", None))
        args.heartbeat_s = heartbeat_override(os.environ)
    except ConfigError as exc:
        parser.exit(2, f"voki-tui: {exc}\n")
    if getattr(args, "print_config", False):
        import json

        print(json.dumps(settings.masked(), indent=2))
        return 0
    _configure_logging(getattr(args, "log_level", "INFO"))
    command: Any = args.command
    if settings.demo:
        with demo_server(settings) as (demo_settings, store):
            return _dispatch(command, args, demo_settings, store)
    if not command and settings.insecure:
        log.warning("TLS verification is off (--insecure)")
    return _dispatch(command, args, settings, None)


def _dispatch(
    command: str | None, args: argparse.Namespace, settings: Settings, store: TokenStore | None
) -> int:
    if command:
        return _run_headless(command, args, settings, store)
    return _run_dashboard(settings, store, args.heartbeat_s)
