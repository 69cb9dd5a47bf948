"""Steps and the feed's whole state as JSON, for ``--record`` and ``voki-tui replay``.

A recording holds every step the feed applied (``voki_tui.live.steps``) and, at the start of
each of its files, the whole ``FeedMachine`` those steps apply to (a checkpoint: the older
files of a recording may be gone, rotated out by its size cap). Both are written with
:func:`encode` and read back with :func:`decode`, which give back equal values: the same steps
on the same state give the same board.

Only the types listed in ``TYPES`` are written or read, by name; anything else is refused
(``CodecError``). Reading a recording therefore creates nothing but these plain values: a
recording someone sends you cannot run code, as a pickle could. JSON keeps what it can hold
as it is (strings, numbers, lists, string-keyed objects); the rest is tagged with a ``"$"``
key: tuples, sets, deques, objects with other keys, times (whole microseconds since the epoch,
UTC, exact), enums, and the listed classes with their attributes.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from voki_tui.api.models import Call
from voki_tui.live import agents, book, events, history, machine, queue, rules, state, window
from voki_tui.live.steps import STEP_TYPES
from voki_tui.phoenix import core, presence

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: Every class a step or a checkpoint may hold.
TYPES: tuple[type, ...] = (
    *STEP_TYPES,
    # what the sockets say
    core.Connected,
    core.Disconnected,
    core.ReconnectScheduled,
    core.AuthFailed,
    core.ChannelJoined,
    core.JoinFailed,
    core.ChannelErrored,
    core.ChannelClosed,
    core.Message,
    core.Reply,
    core.PushTimeout,
    core.ProtocolViolation,
    # the state
    machine.FeedMachine,
    machine.DepartmentState,
    machine.Link,
    machine.Outside,
    book.DepartmentBook,
    queue.QueueReducer,
    queue._Finished,
    window.OutcomeWindow,
    window.Outcome,
    history.WaitingHistory,
    agents.AgentRoster,
    presence.PresenceTracker,
    events.CustomerJoined,
    events.CustomerLeft,
    events.CallAssigned,
    events.CallRecord,
    state.UserInfo,
    state.Department,
    state.Source,
    state.SourceState,
    state.Connection,
    state.LinkState,
    state.Counters,
    state.WaitingCustomer,
    state.Agent,
    rules.Rules,
    rules.Limit,
    rules.Origin,
)
_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in TYPES}
assert len(_BY_NAME) == len(TYPES), "two listed classes share a name"
_TAGS = frozenset({"t", "d", "s", "fs", "q", "dt", "td", "e", "Call"})
assert not _TAGS & set(_BY_NAME), "a listed class is named like a tag"


class CodecError(ValueError):
    """What was read is not a value this version can hold (the message says what)."""


def micros(moment: datetime) -> int:
    """``moment`` (aware) as whole microseconds since the epoch: exact, unlike a float."""
    if moment.tzinfo is None:
        raise CodecError("a time without a time zone")
    return (moment - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _attributes(obj: object) -> list[str]:
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    names = list(getattr(obj, "__dict__", ()))
    for cls in type(obj).__mro__:
        names += [name for name in getattr(cls, "__slots__", ()) if name not in names]
    return names


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data (see the module docstring for what may be in it)."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is list:
        return [encode(item) for item in value]
    if kind is dict:
        if "$" not in value and all(type(key) is str for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$": "d", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is tuple:
        return {"$": "t", "v": [encode(item) for item in value]}
    if kind is datetime:
        return {"$": "dt", "v": micros(value)}
    if kind is timedelta:
        return {"$": "td", "v": value // _MICROSECOND}
    if kind is deque:
        return {"$": "q", "v": [encode(item) for item in value], "n": value.maxlen}
    if kind is set or kind is frozenset:
        return {"$": "s" if kind is set else "fs", "v": [encode(item) for item in value]}
    if kind is Call:
        return {"$": "Call", "v": value.model_dump(mode="json", exclude_none=True)}
    name = kind.__name__
    if _BY_NAME.get(name) is not kind:
        # Another library's flavour of a plain value (websockets' CloseCode is an IntEnum):
        # the value itself, which compares and prints the same.
        for plain in (bool, int, float, str):
            if isinstance(value, plain):
                return plain(value)
        raise CodecError(f"cannot write a {kind.__module__}.{kind.__qualname__}")
    if isinstance(value, Enum):
        return {"$": "e", "c": name, "v": value.value}
    shown = {"$": name}
    for attribute in _attributes(value):
        shown[attribute] = encode(getattr(value, attribute))
    return shown


def decode(data: Any) -> Any:
    """The value :func:`encode` made ``data`` from; ``CodecError`` for anything else."""
    kind = type(data)
    if data is None or kind in (str, int, float, bool):
        return data
    if kind is list:
        return [decode(item) for item in data]
    if kind is not dict:
        raise CodecError(f"unexpected {kind.__name__}")
    tag = data.get("$")
    if tag is None:
        return {key: decode(item) for key, item in data.items()}
    try:
        return _tagged(tag, data)
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        raise CodecError(f"a bad {tag!r}: {exc}") from None


def _tagged(tag: Any, data: dict[str, Any]) -> Any:
    match tag:
        case "t":
            return tuple(decode(item) for item in data["v"])
        case "d":
            return {_key(decode(k)): decode(v) for k, v in data["v"]}
        case "s":
            return {_key(decode(item)) for item in data["v"]}
        case "fs":
            return frozenset(_key(decode(item)) for item in data["v"])
        case "q":
            return deque((decode(item) for item in data["v"]), maxlen=data["n"])
        case "dt":
            return from_micros(_int(data["v"]))
        case "td":
            return timedelta(microseconds=_int(data["v"]))
        case "Call":
            return Call.model_validate(data["v"])
        case "e":
            cls = _class(data["c"])
            if not issubclass(cls, Enum):
                raise CodecError(f"{data['c']} is not an enum")
            return cls(data["v"])
    cls = _class(tag)
    attributes = {name: decode(value) for name, value in data.items() if name != "$"}
    if dataclasses.is_dataclass(cls):
        return cls(**attributes)
    obj: object = object.__new__(cls)
    slots = set(_attributes(obj))
    for name, value in attributes.items():
        # Data only: never a name the class itself has (a method, a property, a dunder).
        if name not in slots and (name.startswith("__") or hasattr(cls, name)):
            raise CodecError(f"{tag} cannot have an attribute {name!r}")
        object.__setattr__(obj, name, value)
    return obj


def _class(name: Any) -> type:
    cls = _BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        raise CodecError(f"unknown type {name!r}")
    return cls


def _int(value: Any) -> int:
    if type(value) is not int:
        raise CodecError("a time that is not a whole number of microseconds")
    return value


def _key(value: Any) -> Any:
    """A dict key or set item must be hashable (a list read back from JSON is not)."""
    try:
        hash(value)
    except TypeError:
        raise CodecError("an unhashable key") from None
    return value
