"""The Voki REST API as voki-tui uses it: client, session, token store, models, errors.

Typical use::

    client = VokiClient(server, tenant, insecure=False)
    session = Session(client, email, store=TokenStore())
    user = await session.restore() or await session.login(password)  # may raise MFARequired
    calls = await client.calls(status="queued", department_id="3")
    ws_token = await session.access_token()  # also the websocket URL's token source

The names below are imported on first use (``voki_tui.lazy``), so reaching the models
(``voki_tui.api.models``, as the live feed's parsers do) loads neither httpx nor PyJWT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voki_tui.lazy import lazy_exports

if TYPE_CHECKING:
    from voki_tui.api.client import TokenSource, VokiClient
    from voki_tui.api.models import (
        AccessLink,
        Call,
        Department,
        DepartmentRef,
        LoginTokens,
        MFAChallenge,
        PageMeta,
        User,
        parse_timestamp,
    )
    from voki_tui.api.ratelimit import AuthRateGuard, shared_guard
    from voki_tui.api.session import Session
    from voki_tui.api.tokens import Identity, StoredTokens, TokenStore

__all__ = [
    "AccessLink",
    "AuthRateGuard",
    "Call",
    "Department",
    "DepartmentRef",
    "Identity",
    "LoginTokens",
    "MFAChallenge",
    "PageMeta",
    "Session",
    "StoredTokens",
    "TokenSource",
    "TokenStore",
    "User",
    "VokiClient",
    "parse_timestamp",
    "shared_guard",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "client": ("TokenSource", "VokiClient"),
        "models": (
            "AccessLink",
            "Call",
            "Department",
            "DepartmentRef",
            "LoginTokens",
            "MFAChallenge",
            "PageMeta",
            "User",
            "parse_timestamp",
        ),
        "ratelimit": ("AuthRateGuard", "shared_guard"),
        "session": ("Session",),
        "tokens": ("Identity", "StoredTokens", "TokenStore"),
    },
)
