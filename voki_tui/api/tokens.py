"""Refresh tokens on disk: one 0600 JSON file per (server, tenant, email), never a password.

Why so careful: a refresh token is a 7-day login. The file is created with mode 0600 from its
first byte (``os.open`` with ``O_CREAT | O_EXCL`` on a temporary name in the same directory,
written, fsynced, then ``os.replace``d over the real name), so no other user can ever open it
and no reader ever sees half a file. The directory is 0700.

A token belongs to the server and tenant that issued it: the file name is a hash of the
normalized (server, tenant, email), and ``load`` also checks the identity recorded inside the
file, so a token saved for one (server, tenant) is never handed out for another, even if files
were copied or renamed.

The last server/tenant/email (not secret) are remembered separately to pre-fill the login form.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voki_tui.paths import state_dir

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_server(server: str) -> str:
    """``scheme://host[:port]`` in lower case, default port and trailing slash dropped."""
    parts = urlsplit(server.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token belongs to. Normalized so equal logins compare equal."""

    server: str
    tenant: str
    email: str

    @classmethod
    def of(cls, server: str, tenant: str, email: str) -> Identity:
        return cls(normalize_server(server), tenant.strip(), email.strip().lower())

    def file_key(self) -> str:
        raw = json.dumps([self.server, self.tenant, self.email]).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """What is kept for one identity: the refresh token, and the access token that goes with it
    (so a cron job that starts every minute need not spend a refresh each time)."""

    identity: Identity
    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    #: When the pair was received from the server (this box's clock, like every process
    #: sharing the file): another process times the access token from it, whatever the skew
    #: between this box and the server.
    saved_at: float | None = None
    #: The label language this session chose at login (``voki_tui.language``), so a restored
    #: session speaks as the login did.
    language: str | None = None


def _write_private(path: Path, payload: dict[str, Any]) -> None:
    """Atomically replace ``path`` with ``payload`` as JSON, mode 0600 from creation."""
    data = json.dumps(payload, indent=1).encode()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            log.warning("%s was readable by others; restricting it to its owner", path.name)
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path.name, type(exc).__name__)
        return None
    return loaded if isinstance(loaded, dict) else None


class TokenStore:
    """Refresh tokens per identity under ``directory`` (default: the user state dir)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else state_dir()

    def _ensure_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory.chmod(stat.S_IRWXU)

    def path_for(self, identity: Identity) -> Path:
        return self.directory / f"token-{identity.file_key()}.json"

    def load(self, identity: Identity) -> StoredTokens | None:
        """The tokens saved for exactly this identity, or None."""
        raw = _read_json(self.path_for(identity))
        if raw is None:
            return None
        recorded = raw.get("identity")
        if not isinstance(recorded, dict) or _identity_from(recorded) != identity:
            log.warning("token file does not belong to this server/tenant/email; ignored")
            return None
        refresh = raw.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            return None
        access = raw.get("access_token")
        saved_at = raw.get("saved_at")
        language = raw.get("language")
        return StoredTokens(
            identity=identity,
            refresh_token=refresh,
            access_token=access if isinstance(access, str) and access else None,
            saved_at=float(saved_at) if isinstance(saved_at, int | float) else None,
            language=language if isinstance(language, str) and language else None,
        )

    def save(self, tokens: StoredTokens) -> None:
        self._ensure_dir()
        _write_private(self.path_for(tokens.identity), asdict(tokens))

    def remove(self, identity: Identity) -> bool:
        """Forget the tokens of ``identity``; True if a file was removed."""
        try:
            self.path_for(identity).unlink()
        except FileNotFoundError:
            return False
        return True

    def lock(self, identity: Identity) -> StoreLock:
        """The advisory lock that serialises refreshes of ``identity`` across processes."""
        return StoreLock(self.directory / f"token-{identity.file_key()}.lock", self._ensure_dir)

    def remember_last(self, server: str, tenant: str, email: str) -> None:
        """Remember the last login's server/tenant/email for the login form (no secret)."""
        self._ensure_dir()
        _write_private(
            self.directory / "last-login.json", asdict(Identity.of(server, tenant, email))
        )

    def last(self) -> Identity | None:
        raw = _read_json(self.directory / "last-login.json")
        if raw is None:
            return None
        return _identity_from(raw)


class StoreLock:
    """An exclusive ``flock`` on a lock file beside the token file, taken without blocking.

    A wallboard, a ``watch`` and a cron ``snapshot`` of one login share one token file, and a
    refresh token can be spent only once: two processes refreshing at the same moment would
    log each other out. So a refresh happens under this lock, after re-reading the file. The
    lock is advisory (only voki-tui honours it) and dies with its process, so a crashed holder
    never wedges the others.
    """

    def __init__(self, path: Path, make_dir: Callable[[], None]) -> None:
        self.path = path
        self._make_dir = make_dir
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when taken (or when locking is impossible,
        e.g. a read-only state directory: there is no shared file to protect then)."""
        if self._fd is not None:
            return True
        try:
            self._make_dir()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            log.warning("cannot lock the token store (%s); refreshing without it", exc.strerror)
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _strs(raw: dict[str, Any]) -> dict[str, str]:
    """The string-valued entries of a loaded JSON object (a hand-edited file may hold others)."""
    return {key: value for key, value in raw.items() if isinstance(value, str)}


def _identity_from(raw: dict[str, Any]) -> Identity | None:
    fields = _strs(raw)
    try:
        return Identity(fields["server"], fields["tenant"], fields["email"])
    except KeyError:
        return None
