"""``voki-tui snapshot --json`` and ``voki-tui watch --json``: the feed without a screen.

For scripts, monitoring and our own integration tests. Both sign in without a person (the
stored session, else the password source). ``snapshot`` waits, within its ``--timeout``, until
every chosen department has every figure the server can give (queue, presence and the hour of
history behind ASA, service level and abandonment) or was refused, then prints one JSON
document; it exits non-zero when any department is incomplete, and the document says which.
``watch`` prints one JSON line per change of state (at most ten a second) until interrupted,
each department marked ``"complete"`` or not, and waits out anything that does not need a
person, as a wallboard does. Failures end with one clear line on stderr and a non-zero exit
code, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from voki_tui.account import Account, password_source
from voki_tui.api.errors import (
    AuthError,
    MFARequired,
    NetworkError,
    RateLimitedError,
    TLSError,
    VokiError,
)
from voki_tui.live.document import snapshot_document
from voki_tui.live.state import FeedSnapshot, LinkState, Notification
from voki_tui.memory import release_periodically
from voki_tui.ports import Progress, Retrying

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_AUTH = 3
EXIT_RATE_LIMITED = 4
EXIT_UNREACHABLE = 5
EXIT_TIMEOUT = 6
EXIT_REFUSED = 7
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that end a headless command cleanly (see :func:`run`)."""

log = logging.getLogger(__name__)

#: ``watch`` prints at most ten lines a second: the feed coalesces changes at this interval.
WATCH_INTERVAL_S = 0.1

_GIVEN_UP = (LinkState.AUTH_FAILED, LinkState.OFFLINE)


def settled(snapshot: FeedSnapshot) -> bool:
    """Nothing more will come: live, and every department complete or refused for good; or
    the feed gave up."""
    if snapshot.connection.state in _GIVEN_UP:
        return True
    return snapshot.connection.state is LinkState.LIVE and all(
        view.complete or view.refused for view in snapshot.departments
    )


def incomplete(snapshot: FeedSnapshot) -> list[str]:
    """``name (id): what is missing`` for every department that is not complete."""
    found = []
    for view in snapshot.departments:
        if view.complete:
            continue
        sources = {"queue": view.queue, "presence": view.presence, "history": view.history}
        missing = ", ".join(
            f"{name} {source.state}" for name, source in sources.items() if source.state != "synced"
        )
        found.append(f"{view.department.name} ({view.department.id}): {missing}")
    return found


class HeadlessError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def explain(exc: VokiError) -> HeadlessError:
    """One line a person can act on, and the exit code that goes with it."""
    if isinstance(exc, MFARequired):
        return HeadlessError(
            "this account needs a verification code: log in once with the dashboard "
            "(voki-tui) so a refresh token is stored",
            EXIT_AUTH,
        )
    if isinstance(exc, AuthError):
        return HeadlessError(f"authentication failed: {exc.message}", EXIT_AUTH)
    if isinstance(exc, RateLimitedError):
        return HeadlessError(
            f"rate limited by the server: try again in {exc.retry_after:.0f} s", EXIT_RATE_LIMITED
        )
    if isinstance(exc, TLSError):
        return HeadlessError(f"TLS error: {exc.message}", EXIT_UNREACHABLE)
    if isinstance(exc, NetworkError):
        return HeadlessError(f"server unreachable: {exc.message}", EXIT_UNREACHABLE)
    return HeadlessError(f"server error: {exc.message}", EXIT_FAILED)


def _watch_key(document: dict[str, Any]) -> str:
    """What counts as a change for ``watch``: everything but the ticking clocks."""
    stable = dict(document)
    stable.pop("taken_at", None)
    stable.pop("taken_at_exact", None)
    stable.pop("clock_offset_s", None)
    stable["connection"] = {k: v for k, v in document["connection"].items() if k != "data_age_s"}
    stable["departments"] = [
        {
            **department,
            "metrics": {k: v for k, v in department["metrics"].items() if k != "longest_wait_s"},
        }
        for department in document["departments"]
    ]
    return json.dumps(stable, sort_keys=True)


NOT_LOGGED_IN = (
    "not logged in: give a password source (VOKI_PASSWORD, --password-file or "
    "--password-command), or log in once with the dashboard so a session is stored"
)


def _say_retrying(err: TextIO) -> Progress:
    def progress(attempt: Retrying) -> None:
        print(
            f"voki-tui: {attempt.detail}; retrying in {attempt.retry_in_s:.0f} s "
            f"(attempt {attempt.failures})",
            file=err,
            flush=True,
        )

    return progress


async def _start(account: Account, progress: Progress, deadline: float | None) -> Any:
    """Sign in and list the departments, retrying what is transient; the departments."""
    try:
        user = await account.resume(progress, deadline=deadline)
        if user is None:
            raise HeadlessError(NOT_LOGGED_IN, EXIT_AUTH)
        listing = await account.departments(progress, deadline=deadline)
    except VokiError as exc:
        raise explain(exc) from None
    if not listing.departments:
        raise HeadlessError("no department visible to this user", EXIT_FAILED)
    return listing.departments


async def snapshot(
    account: Account, out: TextIO, timeout_s: float = 30.0, err: TextIO = sys.stderr
) -> int:
    """Wait until every chosen department is complete or refused, print the document, exit:
    0 when every department is complete, ``EXIT_REFUSED`` when the server refused some,
    ``EXIT_TIMEOUT`` (the document printed all the same, incomplete ones marked) when the
    rest did not come in time.

    Everything (signing in through an unreachable server included) must fit in ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    departments = await _start(account, lambda _attempt: None, deadline)
    done = asyncio.Event()
    latest: list[FeedSnapshot] = []

    def publish(current: FeedSnapshot) -> None:
        latest[:] = [current]
        if settled(current):
            done.set()

    feed = account.feed()
    task = asyncio.create_task(feed.run(departments, publish, lambda _note: None))
    timed_out = False
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            await done.wait()
    except TimeoutError:
        timed_out = True
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    current = feed.current.snapshot() if feed.current is not None else None
    if current is None:
        current = latest[0] if latest else None
    if current is None:
        raise HeadlessError(f"no snapshot within {timeout_s:.0f} s", EXIT_TIMEOUT)
    if current.connection.state is LinkState.AUTH_FAILED:
        detail = current.connection.detail or "the session has ended"
        raise HeadlessError(f"authentication failed: {detail}", EXIT_AUTH)
    out.write(json.dumps(snapshot_document(current), ensure_ascii=False) + "\n")
    out.flush()
    missing = incomplete(current)
    if timed_out:
        _say_incomplete(
            err,
            f"no complete snapshot within {timeout_s:.0f} s (connection: "
            f"{current.connection.state}); {len(missing)} of {len(current.departments)} "
            "departments incomplete",
            missing,
        )
        return EXIT_TIMEOUT
    if missing:
        _say_incomplete(
            err,
            f"{len(missing)} of {len(current.departments)} departments refused or incomplete",
            missing,
        )
        return EXIT_REFUSED
    return EXIT_OK


#: ``snapshot`` names at most this many incomplete departments on stderr (the document has all).
_NAMED = 10


def _say_incomplete(err: TextIO, summary: str, missing: list[str]) -> None:
    print(f"voki-tui: {summary}", file=err)
    for line in missing[:_NAMED]:
        print(f"voki-tui:   {line}", file=err)
    if len(missing) > _NAMED:
        print(f"voki-tui:   and {len(missing) - _NAMED} more (see the document)", file=err)
    err.flush()


async def watch(account: Account, out: TextIO, err: TextIO = sys.stderr) -> int:
    """One JSON line per change of state until cancelled (Ctrl-C).

    Never gives up while the session can come back without a person: an unreachable server at
    start is waited for, and when the session ends with a password source configured, the
    source is read again every minute until it gives a password that works.
    """
    progress = _say_retrying(err)
    departments = await _start(account, progress, None)
    last_key: list[str] = [""]

    def publish(current: FeedSnapshot) -> None:
        document = snapshot_document(current)
        key = _watch_key(document)
        if key != last_key[0]:
            last_key[0] = key
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
            out.flush()

    def notify(note: Notification) -> None:
        line = {"notification": {"kind": note.kind, "title": note.title, "body": note.body}}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()

    releasing = asyncio.create_task(release_periodically())
    try:
        while True:
            feed = account.feed(publish_interval=WATCH_INTERVAL_S)
            await feed.run(departments, publish, notify)  # returns only when the session ended
            ended = feed.current.connection.detail if feed.current is not None else None
            if password_source(account.settings) is None:
                raise HeadlessError(f"the session has ended: {ended}", EXIT_AUTH)
            print(
                f"voki-tui: the session has ended ({ended}); "
                "signing in again once the password source gives one that works",
                file=err,
                flush=True,
            )
            await account.await_sign_in()
    finally:
        releasing.cancel()


def run(command: Callable[[], Any], err: TextIO = sys.stderr) -> int:
    """Run a headless coroutine factory; turn every failure into one line and an exit code.

    SIGINT, SIGTERM and SIGHUP end it the same clean way: the command is cancelled, so the
    feed closes its sockets and finishes its recording part (a kill leaves a part gzip cannot
    read). SIGINT is a person's Ctrl-C and exits 0; the others exit 128 + the signal, as the
    dashboard does, so a supervisor sees why it ended. SIGINT is handled even when inherited
    as ignored (a job started in the background of a script), so ``kill -INT`` always works.
    """
    ended_by: list[int] = []

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def end(sig: signal.Signals) -> None:
            if not ended_by:
                log.info("%s: ending", sig.name)
                ended_by.append(sig)
                task.cancel()

        for sig in ENDING_SIGNALS:
            loop.add_signal_handler(sig, end, sig)
        try:
            result: int = await command()
        except asyncio.CancelledError:
            if not ended_by:
                raise
            return EXIT_OK if ended_by[0] == signal.SIGINT else 128 + ended_by[0]
        return result

    try:
        return asyncio.run(main())
    except HeadlessError as exc:
        print(f"voki-tui: {exc.message}", file=err)
        return exc.code
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:  # a bug: one line here, the traceback in the log file
        log.exception("headless command failed")
        print(f"voki-tui: internal error ({type(exc).__name__}); see the log file", file=err)
        return EXIT_FAILED
