"""Names the feed does not carry, asked over REST once each, for the presence screens.

An agent in a call shows the call's customer, but the feed names only the customers waiting in
the queues it watches; a supervisor also sees a department's members who are offline. A
presence screen is made with the app's ``Lookups`` and states what it misses
(:meth:`Lookups.want_names`, :meth:`Lookups.want_members`) with the callback that shows an
answer: what is known is answered at once (so a screen's first frame has it), the rest is asked
through the ``Authenticator`` in one worker the app runs, each call and each department once,
and told to every screen that waits for it. The screen never awaits the network itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from voki_tui.ports import Authenticator, Member

CALL_NAMES_KEPT = 2000
"""How many looked-up customers' names (by call id) are kept at most."""

NameReply = Callable[[str, str], None]
"""Shows a customer's name: (call id, name)."""

MembersReply = Callable[[tuple[Member, ...]], None]
"""Shows a department's members."""

Run = Callable[[Coroutine[Any, Any, None]], object]
"""Runs a lookup in the background (the app's worker, cancelled when the app ends)."""


class Lookups:
    """The customers of calls and the members of departments, each asked once."""

    def __init__(self, auth: Authenticator, run: Run, *, kept: int = CALL_NAMES_KEPT) -> None:
        self._auth = auth
        self._run = run
        self._kept = kept
        self._names: OrderedDict[str, str | None] = OrderedDict()  # None: the server had none
        self._name_waiters: dict[str, list[NameReply]] = {}  # asked, in order; not answered
        self._asking_names = False
        self._members: dict[str, tuple[Member, ...] | None] = {}  # None: not allowed, or none
        self._member_waiters: dict[str, list[MembersReply]] = {}

    def want_names(self, call_ids: Iterable[str], reply: NameReply) -> None:
        """Tell ``reply`` the customer of each call: the known ones now, the others when the
        server answers (a call the server cannot name is not told, and not asked again)."""
        for call_id in call_ids:
            if call_id in self._names:
                name = self._names[call_id]
                if name:
                    reply(call_id, name)
                continue
            waiters = self._name_waiters.setdefault(call_id, [])
            if reply not in waiters:
                waiters.append(reply)
        if self._name_waiters and not self._asking_names:
            self._asking_names = True
            self._run(self._ask_names())

    async def _ask_names(self) -> None:
        """One call at a time, oldest request first, until none waits. A lookup that fails
        unexpectedly stays queued: the next request starts the worker again."""
        try:
            while self._name_waiters:
                call_id = next(iter(self._name_waiters))
                name = await self._auth.customer_of(call_id)
                self._names[call_id] = name
                while len(self._names) > self._kept:
                    self._names.popitem(last=False)
                for reply in self._name_waiters.pop(call_id, ()):
                    if name:
                        reply(call_id, name)
        finally:
            self._asking_names = False

    def want_members(self, department_id: str, reply: MembersReply) -> None:
        """Tell ``reply`` the department's members, asked once per department."""
        if department_id in self._members:
            members = self._members[department_id]
            if members:
                reply(members)
            return
        waiters = self._member_waiters.get(department_id)
        if waiters is not None:  # being asked
            waiters.append(reply)
            return
        self._member_waiters[department_id] = [reply]
        self._run(self._ask_members(department_id))

    async def _ask_members(self, department_id: str) -> None:
        try:
            members = await self._auth.members(department_id)
        except BaseException:
            self._member_waiters.pop(department_id, None)  # the next screen asks again
            raise
        self._members[department_id] = members
        for reply in self._member_waiters.pop(department_id, ()):
            if members:
                reply(members)
