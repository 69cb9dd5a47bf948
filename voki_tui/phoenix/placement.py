"""Which socket carries which topics, under Phoenix's per-socket channel limit. Pure.

Phoenix (since 1.8.9) refuses the 101st channel on one socket (``max_channels_per_transport``,
default 100, reply ``{"reason": "too many channels joined"}``), so a client that watches more
topics than that needs more sockets. This module plans them: topics come in *groups* that must
share a socket (a department's ``queue:`` and ``presence:``, so that one lost socket costs
whole departments, never half of one), each socket holds at most ``limit`` topics, a new
group goes to the first socket with room (so one socket is used while one suffices), and a
socket is opened only when no open one has room. After groups leave, :meth:`compact` moves the
groups of the emptiest sockets into the others' room, so the count of sockets shrinks back.

A server configured below our limit says so by refusing a join: :meth:`learn_limit` lowers the
limit to what that socket held, never below the largest group (a group cannot be split).

Sockets are named by ``int`` ids that are never reused, so news from a closed socket can never
be taken for news from its successor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

#: Phoenix's ``max_channels_per_transport`` default (phoenix-protocol.md section 1.4).
MAX_CHANNELS_PER_SOCKET = 100


@dataclass(frozen=True, slots=True)
class Move:
    """``group`` leaves socket ``source`` and joins on socket ``target``."""

    group: str
    source: int
    target: int


@dataclass(slots=True)
class _Socket:
    ident: int
    groups: dict[str, int] = field(default_factory=dict)  # group -> its topic count

    @property
    def load(self) -> int:
        return sum(self.groups.values())


class Placement:
    """The plan: groups of topics on sockets, each socket under ``limit`` topics."""

    def __init__(self, limit: int = MAX_CHANNELS_PER_SOCKET) -> None:
        if limit < 1:
            raise ValueError("a socket must hold at least one topic")
        self.limit = limit
        self._sockets: dict[int, _Socket] = {}
        self._where: dict[str, int] = {}  # group -> socket id
        self._next_id = 0
        self._largest = 1  # the largest group placed so far: the floor of a learned limit
        self.version = 0  # moves on with every change of which group is on which socket

    # -- queries -----------------------------------------------------------------------------

    def socket_of(self, group: str) -> int | None:
        return self._where.get(group)

    def sockets(self) -> dict[int, int]:
        """Every open socket's id and how many topics it holds."""
        return {ident: socket.load for ident, socket in self._sockets.items()}

    def groups_on(self, socket: int) -> tuple[str, ...]:
        found = self._sockets.get(socket)
        return () if found is None else tuple(found.groups)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    # -- changes -----------------------------------------------------------------------------

    def place(self, group: str, size: int, *, avoid: int | None = None) -> int:
        """Put ``group`` (of ``size`` topics) on the first socket with room other than
        ``avoid`` (the one that just refused it), else on a new one; its socket id. A group
        already placed stays where it is."""
        if size < 1:
            raise ValueError("a group has at least one topic")
        where = self._where.get(group)
        if where is not None:
            return where
        self._largest = max(self._largest, size)
        target = self._first_fit(size, avoid)
        if target is None:
            target = self._open()
        self._sockets[target].groups[group] = size
        self._where[group] = target
        self.version += 1
        return target

    def remove(self, group: str) -> int | None:
        """Take ``group`` off its socket, closing the socket if that emptied it; the socket
        it was on (closed or not), or None if it was not placed."""
        where = self._where.pop(group, None)
        if where is None:
            return None
        socket = self._sockets[where]
        del socket.groups[group]
        if not socket.groups:
            del self._sockets[where]
        self.version += 1
        return where

    def learn_limit(self, held: int) -> bool:
        """A socket holding ``held`` topics was refused one more: that is the server's limit
        (never below the largest group). True if the limit went down."""
        learned = max(self._largest, held)
        if learned >= self.limit:
            return False
        self.limit = learned
        return True

    def compact(self) -> list[Move]:
        """Empty the least loaded sockets into the others' room while that closes one; the
        moves made (the emptied sockets are closed)."""
        moves: list[Move] = []
        while len(self._sockets) > 1:
            source = min(self._sockets.values(), key=lambda s: (s.load, -s.ident))
            trial = {s.ident: s.load for s in self._sockets.values() if s is not source}
            planned: list[Move] = []
            for group, size in sorted(source.groups.items(), key=lambda item: -item[1]):
                target = next((i for i in sorted(trial) if trial[i] + size <= self.limit), None)
                if target is None:
                    return moves
                trial[target] += size
                planned.append(Move(group, source.ident, target))
            for move in planned:
                size = source.groups.pop(move.group)
                self._sockets[move.target].groups[move.group] = size
                self._where[move.group] = move.target
            del self._sockets[source.ident]
            self.version += 1
            moves += planned
        return moves

    # -- internals ---------------------------------------------------------------------------

    def _first_fit(self, size: int, avoid: int | None) -> int | None:
        for ident in sorted(self._sockets):
            if ident != avoid and self._sockets[ident].load + size <= self.limit:
                return ident
        return None

    def _open(self) -> int:
        ident = self._next_id
        self._next_id += 1
        self._sockets[ident] = _Socket(ident)
        return ident
