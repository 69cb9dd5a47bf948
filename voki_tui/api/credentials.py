"""Where an unattended box gets its password when the session has to start over.

A wall monitor must log in again by itself when its refresh token is refused (the server lost
its sessions, an admin revoked them, the box was off longer than the token lives). Three
sources, by the conventions of tools that already do this:

- ``VOKI_PASSWORD`` in the environment (a systemd unit's ``Environment=`` or ``LoadCredential``);
- ``--password-file PATH``: the first line of a file that only its owner can read; refused,
  as ssh refuses a private key, when group or others have any access to it;
- ``--password-command CMD``: the first line of what a shell command prints (mbsync's
  ``PassCmd``, neomutt's and aerc's password commands), e.g. ``pass show voki/wall``.

The password is read when a login needs it and handed straight to that request: it is never
stored, cached, logged or put in an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from pathlib import Path
from typing import Protocol

from voki_tui.logs import redact

COMMAND_TIMEOUT_S = 30.0
MAX_READ = 64 * 1024


class CredentialError(Exception):
    """The source could not give a password; the message says why and names the source."""


class PasswordSource(Protocol):
    """Gives the password when a login needs one."""

    @property
    def label(self) -> str:
        """How the source is named to the user (``--password-file /etc/…``), never the secret."""
        ...

    async def read(self) -> str:
        """The password, or ``CredentialError``."""
        ...


def _first_line(data: bytes, label: str) -> str:
    text = data.decode("utf-8", errors="strict").splitlines()
    password = text[0] if text else ""
    if not password:
        raise CredentialError(f"{label} gave an empty password")
    return password


class FixedPassword:
    """A password given to the process (``VOKI_PASSWORD``)."""

    def __init__(self, password: str, label: str = "VOKI_PASSWORD") -> None:
        self._password = password
        self._label = label

    def __repr__(self) -> str:
        return f"FixedPassword({self._label})"

    @property
    def label(self) -> str:
        return self._label

    async def read(self) -> str:
        return self._password


class PasswordFile:
    """The first line of a file readable by its owner only."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"PasswordFile({str(self.path)!r})"

    @property
    def label(self) -> str:
        return f"--password-file {self.path}"

    async def read(self) -> str:
        return self.read_now()

    def read_now(self) -> str:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise CredentialError(f"{self.label}: {exc.strerror or type(exc).__name__}") from None
        with contextlib.closing(os.fdopen(fd, "rb")) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CredentialError(f"{self.label}: not a regular file")
            if info.st_mode & 0o077:
                raise CredentialError(
                    f"{self.label}: permissions {stat.S_IMODE(info.st_mode):04o} are too open "
                    "(group or others can read it); run: chmod 600 on it"
                )
            if info.st_uid not in (os.geteuid(), 0):
                raise CredentialError(f"{self.label}: owned by another user")
            data = handle.read(MAX_READ)
        try:
            return _first_line(data, self.label)
        except UnicodeDecodeError:
            raise CredentialError(f"{self.label}: not UTF-8 text") from None


class PasswordCommand:
    """The first line printed by a shell command."""

    def __init__(self, command: str, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        self.command = command
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return "PasswordCommand(<command>)"

    @property
    def label(self) -> str:
        return "--password-command"

    async def read(self) -> str:
        try:
            process = await asyncio.create_subprocess_shell(
                self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise CredentialError(f"{self.label}: cannot run it ({exc.strerror})") from None
        try:
            async with asyncio.timeout(self.timeout_s):
                out, err = await process.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise CredentialError(f"{self.label}: no answer within {self.timeout_s:g} s") from None
        if process.returncode != 0:
            lines = err.decode("utf-8", errors="replace").strip().splitlines()
            said = f": {redact(lines[0])[:200]}" if lines else ""
            raise CredentialError(f"{self.label} exited with status {process.returncode}{said}")
        try:
            return _first_line(out[:MAX_READ], self.label)
        except UnicodeDecodeError:
            raise CredentialError(f"{self.label}: its output is not UTF-8 text") from None
