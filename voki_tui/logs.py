"""Logging to a rotating file, with every secret redacted before it is written.

The terminal belongs to the UI, so nothing is ever logged to stdout or stderr: the root logger
gets one rotating file handler in the user log dir and Python warnings are routed into it.

Secrets can reach a log line from many places we do not control: httpx and httpcore log
request lines and headers at DEBUG, websockets logs the upgrade request (whose URL carries
``?token=<access token>``), and an exception message may quote a JSON body. So redaction does
not rely on callers being careful: ``RedactingFilter`` rewrites every record that reaches the
handler (message and arguments, after formatting), and ``RedactingFormatter`` redacts the final
text again, which covers tracebacks and ``extra`` fields rendered by the format string.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from voki_tui.paths import log_dir

REDACTED = "<redacted>"

_SENSITIVE_KEYS = r"(?:access_token|refresh_token|mfa_token|websocket_token|token|password|secret)"

# Order matters: JSON/repr fields and query values first (they name the secret), then
# free-standing Bearer values and JWTs wherever they appear.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "password": "hunter2"  /  'refresh_token': 'abc'  (JSON and Python reprs; escaped quotes)
    (
        re.compile(
            r"""(?P<k>(?P<q>["'])""" + _SENSITIVE_KEYS + r"""(?P=q)\s*:\s*)"""
            r"""(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""",
            re.IGNORECASE,
        ),
        r'\g<k>"' + REDACTED + '"',
    ),
    # ?token=abc&vsn=2.0.0  /  password=abc in a form body or a message
    (
        re.compile(r"(?P<k>\b" + _SENSITIVE_KEYS + r"=)(?P<v>[^&\s\"'#,;)\]}]+)", re.IGNORECASE),
        r"\g<k>" + REDACTED,
    ),
    # Authorization: Bearer abc   /   (b'authorization', b'Bearer abc')
    (re.compile(r"(?P<k>\bBearer\s+)[^\s\"',;)\]}]+", re.IGNORECASE), r"\g<k>" + REDACTED),
    # Any JWT-looking string: header.payload.signature, both first parts base64url JSON
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "<jwt redacted>"),
)


def redact(text: str) -> str:
    """``text`` with tokens, passwords, Bearer values and JWTs replaced by a marker."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (with its arguments merged in) through ``redact``.

    Attached to the handler, not to a logger, so it also sees records propagated from library
    loggers (httpx, httpcore, websockets) whose own filters we do not set.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record, nor leak its args
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the formatted line, tracebacks included (exception messages may quote bodies)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: With the process id: a wall box runs a wallboard, a watch and cron snapshots into one file.
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
LOG_FILE = "voki-tui.log"


def disable_logging() -> None:
    """No log file can be written (a read-only home): log nowhere (never to the terminal,
    which belongs to the UI); the caller says so where the user looks."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(logging.NullHandler())


def configure_logging(
    level: int = logging.INFO,
    *,
    directory: Path | None = None,
    max_bytes: int = 1_000_000,
    backups: int = 3,
) -> Path:
    """Send every log record to a rotating, redacted, user-only file; return its path.

    Replaces the root logger's handlers (so nothing goes to the terminal) and captures
    ``warnings`` into the log. The directory is created 0700 and the file 0600: logs are
    redacted, but still describe the user's activity.
    """
    folder = directory if directory is not None else log_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / LOG_FILE
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
