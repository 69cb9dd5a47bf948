"""Phoenix Channels client: V2 frames, a sans-I/O core, Presence sync, an asyncio transport.

The live feed uses :class:`PhoenixClient` (transport) and the event types of ``core``;
``presence`` turns ``presence_state``/``presence_diff`` messages into state.

The names below are imported on first use (``voki_tui.lazy``): ``import voki_tui.phoenix.core``
must not load ``websockets`` or asyncio, which only the transport needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voki_tui.lazy import lazy_exports

if TYPE_CHECKING:
    from voki_tui.phoenix.core import (
        AuthFailed,
        ChannelClosed,
        ChannelErrored,
        ChannelJoined,
        Client,
        Connected,
        Disconnected,
        Event,
        JoinFailed,
        Message,
        ProtocolViolation,
        PushTimeout,
        ReconnectScheduled,
        Reply,
        Settings,
    )
    from voki_tui.phoenix.presence import PresenceChange, PresenceTracker
    from voki_tui.phoenix.transport import PhoenixClient, redact_url, socket_url

__all__ = [
    "AuthFailed",
    "ChannelClosed",
    "ChannelErrored",
    "ChannelJoined",
    "Client",
    "Connected",
    "Disconnected",
    "Event",
    "JoinFailed",
    "Message",
    "PhoenixClient",
    "PresenceChange",
    "PresenceTracker",
    "ProtocolViolation",
    "PushTimeout",
    "ReconnectScheduled",
    "Reply",
    "Settings",
    "redact_url",
    "socket_url",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "core": (
            "AuthFailed",
            "ChannelClosed",
            "ChannelErrored",
            "ChannelJoined",
            "Client",
            "Connected",
            "Disconnected",
            "Event",
            "JoinFailed",
            "Message",
            "ProtocolViolation",
            "PushTimeout",
            "ReconnectScheduled",
            "Reply",
            "Settings",
        ),
        "presence": ("PresenceChange", "PresenceTracker"),
        "transport": ("PhoenixClient", "redact_url", "socket_url"),
    },
)
