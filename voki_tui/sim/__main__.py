"""``voki-sim``: the Voki stand-in on loopback, for the demo, the tests and the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Sequence

from .config import DEFAULT_SECRET, SimConfig
from .server import SimServer
from .world import DEMO_EMAILS, DEMO_PASSWORD, DEMO_TENANT


def build_parser() -> argparse.ArgumentParser:
    d = SimConfig()
    p = argparse.ArgumentParser(prog="voki-sim", description=__doc__)
    p.add_argument("--host", default=d.host, help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=d.port, help="TCP port, 0 for any free one")
    p.add_argument("--seed", type=int, default=d.seed, help="scenario seed (same seed, same run)")
    p.add_argument("--speed", type=float, default=d.speed, help="scenario pace factor")
    p.add_argument("--departments", type=int, default=d.departments)
    p.add_argument("--agents", type=int, default=d.agents, help="agents besides the demo users")
    p.add_argument("--join-snapshot", action="store_true", help="queue joins reply with the queue")
    p.add_argument("--access-ttl", type=int, default=d.access_ttl, metavar="SECONDS")
    p.add_argument("--refresh-ttl", type=int, default=d.refresh_ttl, metavar="SECONDS")
    p.add_argument("--auth-rate-limit", type=int, default=d.auth_rate_limit, metavar="PER_MIN")
    p.add_argument("--widget-rate-limit", type=int, default=d.widget_rate_limit, metavar="PER_MIN")
    p.add_argument("--secret", default=DEFAULT_SECRET, help="JWT signing key (HS256)")
    p.add_argument("--idle-timeout", type=float, default=d.idle_timeout, metavar="SECONDS")
    p.add_argument("--paused", action="store_true", help="start with the scenario frozen")
    p.add_argument(
        "--clock-offset",
        type=float,
        default=d.clock_offset,
        metavar="SECONDS",
        help="skew the server's clock by this much (negative: behind); timestamps, token "
        "iat/exp and their check, the HTTP Date header",
    )
    p.add_argument(
        "--forget-sessions-on-restart",
        action="store_true",
        help="after a restart, refresh tokens of an earlier run are refused (401)",
    )
    p.add_argument(
        "--me-departments",
        action="store_true",
        help="/users/me lists an attendant's departments (undocumented; off by default)",
    )
    p.add_argument(
        "--boot",
        type=int,
        default=None,
        help="id of this run: salts the call ids and stamps the refresh tokens (default: the "
        "start time, so a restarted server never hands out an earlier run's ids and "
        "--forget-sessions-on-restart tells runs apart; give a number for a reproducible run)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log protocol warnings")
    return p


def parse_args(argv: Sequence[str] | None) -> SimConfig:
    p = build_parser()
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    options = vars(args)
    options.pop("verbose")
    if options["boot"] is None:
        options["boot"] = time.time_ns() // 1_000_000
    try:
        return SimConfig(**options)
    except ValueError as exc:
        p.error(str(exc))
        raise  # unreachable: p.error exits


def banner(server: SimServer) -> str:
    mfa = server.sim.mfa_secret
    lines = [
        f"voki-sim listening on {server.url}",
        f"  websocket: {server.ws_url}?token=<access_token>&vsn=2.0.0",
        f"  tenant: {DEMO_TENANT}   password (all accounts): {DEMO_PASSWORD}",
    ]
    lines += [f"  {role:<10} {email}" for role, email in DEMO_EMAILS.items()]
    lines.append(f"  MFA TOTP secret of {DEMO_EMAILS['mfa']}: {mfa}")
    lines.append(f"  control API (loopback only): {server.url}/__sim/state")
    return "\n".join(lines)


async def _serve(config: SimConfig) -> None:
    server = SimServer(config)
    await server.start()
    print(banner(server), flush=True)
    await server.wait()


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(config))
    except OSError as exc:
        print(f"voki-sim: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
