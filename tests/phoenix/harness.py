"""A fake-clock driver for the sans-I/O core: the server side of the wire, scripted by tests."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from typing import Any

from voki_tui.phoenix.core import (
    Client,
    CloseConnection,
    OpenConnection,
    Output,
    SendText,
    Settings,
)


def exact(**changes: Any) -> Settings:
    """Core settings without jitter (tests that check exact times), with ``changes``."""
    unjittered = {
        name: replace(getattr(Settings(), name), jitter=0.0)
        for name in ("reconnect", "rejoin", "refused")
    }
    return Settings(**{**unjittered, **changes})


@dataclass
class Harness:
    settings: Settings = field(default_factory=exact)
    seed: int = 1
    now: float = 1000.0
    client: Client = field(init=False)
    sent: list[list[Any]] = field(default_factory=list)  # frames the client wrote, decoded
    events: list[Output] = field(default_factory=list)  # everything but SendText
    opens: int = 0
    closes: list[CloseConnection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = Client(self.settings, random.Random(self.seed))

    def pump(self) -> list[Output]:
        """Drain the core's outputs; returns the non-send outputs of this batch."""
        batch: list[Output] = []
        for out in self.client.drain():
            if isinstance(out, SendText):
                self.sent.append(json.loads(out.text))
            else:
                if isinstance(out, OpenConnection):
                    self.opens += 1
                elif isinstance(out, CloseConnection):
                    self.closes.append(out)
                batch.append(out)
        self.events.extend(batch)
        return batch

    def connect(self) -> None:
        self.client.connect()
        self.client.on_open(self.now)
        self.pump()

    def advance(self, seconds: float) -> list[Output]:
        """Let ``seconds`` pass, ticking at every deadline on the way like a punctual driver."""
        return self.run_until(self.now + seconds)

    def jump(self, seconds: float) -> list[Output]:
        """The clock leaps (suspend/resume): one late tick, no ticks in between."""
        self.now += seconds
        self.client.tick(self.now)
        return self.pump()

    def run_until(self, until: float) -> list[Output]:
        """Tick at every deadline up to ``until`` (as a driver would)."""
        batch: list[Output] = []
        while True:
            deadline = self.client.next_deadline()
            if deadline is None or deadline > until:
                break
            self.now = max(self.now, deadline)
            self.client.tick(self.now)
            batch.extend(self.pump())
        self.now = until
        self.client.tick(self.now)
        batch.extend(self.pump())
        return batch

    def receive(self, frame: list[Any] | str) -> list[Output]:
        text = frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))
        self.client.on_text(self.now, text)
        return self.pump()

    def last_sent(self) -> list[Any]:
        return self.sent[-1]

    def sent_events(self, event: str) -> list[list[Any]]:
        return [f for f in self.sent if f[3] == event]

    def join(self, topic: str, params: dict[str, Any] | None = None) -> str:
        """Join and answer ok; returns the join_ref."""
        self.client.join(topic, params, now=self.now)
        self.pump()
        frame = self.last_sent()
        assert frame[3] == "phx_join" and frame[2] == topic
        self.reply(frame, "ok", {})
        return str(frame[0])

    def reply(self, request: list[Any], status: str, response: Any) -> list[Output]:
        payload = {"status": status, "response": response}
        return self.receive([request[0], request[1], request[2], "phx_reply", payload])

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
