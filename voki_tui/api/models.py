"""Pydantic models of the Voki payloads voki-tui reads, tolerant by design.

Much of what the dashboard reads is undocumented (voki-api.md marks it ASSUMED), so every model
ignores unknown fields, gives optional fields a ``None`` default, and degrades a bad optional
value to ``None`` instead of rejecting the whole item: one odd timestamp must not hide a
customer from the queue. Ids are normalized to ``str`` (the server may send ints or strings,
and ids are only unique within a tenant anyway). Timestamps become timezone-aware UTC
``datetime`` values. Secrets (tokens, access-link URLs) are kept out of ``repr``.

``Call`` serves two sources: a ``GET /api/v1/calls`` item (``id``, ``inserted_at``, customer
fields flat or nested under ``customer``) and the ``customer_joined`` payload of a ``queue:``
channel (``call_id``, ``queued_at``, ``position``, ``estimated_wait_time``). Both parse into the
same fields; see ``Call``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

log = logging.getLogger(__name__)


def _to_id(value: object) -> object:
    """Ints (and int-valued floats) become strings; strings are stripped; anything else fails."""
    if isinstance(value, bool):
        return value  # let pydantic reject it: a boolean is never an id
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return value


def _to_optional_id(value: object) -> object:
    if value is None or value == "":
        return None
    converted = _to_id(value)
    return converted if isinstance(converted, str) else None


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z`` or an offset) or epoch seconds.

    Naive times are taken as UTC (the API's timestamps are UTC). Anything else gives ``None``.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _lenient_timestamp(value: object) -> datetime | None:
    parsed = parse_timestamp(value)
    if parsed is None and value not in (None, ""):
        log.warning("unparseable timestamp %.60r ignored", value)
    return parsed


def _lenient_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        log.warning("non-numeric value %.60r ignored", value)
        return None


def _lenient_float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        log.warning("non-numeric value %.60r ignored", value)
        return None
    return number if number == number else None  # NaN is no rating


def _lenient_str(value: object) -> str | None:
    """Text fields shown to the user: scalars become text, structures are dropped."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    log.warning("non-text value of type %s ignored", type(value).__name__)
    return None


def _lenient_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    return None


Id = Annotated[str, BeforeValidator(_to_id), Field(min_length=1)]
OptId = Annotated[str | None, BeforeValidator(_to_optional_id)]
OptTime = Annotated[datetime | None, BeforeValidator(_lenient_timestamp)]
OptInt = Annotated[int | None, BeforeValidator(_lenient_int)]
OptFloat = Annotated[float | None, BeforeValidator(_lenient_float)]
OptStr = Annotated[str | None, BeforeValidator(_lenient_str)]
OptBool = Annotated[bool | None, BeforeValidator(_lenient_bool)]


class VokiModel(BaseModel):
    """Base: unknown fields ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class DepartmentRef(VokiModel):
    """A department named on ``/users/me`` (ASSUMED, optional): an id, or an object with one."""

    id: Id
    name: OptStr = None

    @model_validator(mode="before")
    @classmethod
    def _from_bare_id(cls, data: Any) -> Any:
        if isinstance(data, int | str) and not isinstance(data, bool):
            return {"id": data}
        return data


def _valid_refs(value: object) -> list[DepartmentRef] | None:
    """Keep the department refs that parse; a list of garbage is an empty list, not an error."""
    if value is None:
        return None
    if not isinstance(value, list):
        log.warning("user departments is a %s, not a list; ignored", type(value).__name__)
        return None
    refs: list[DepartmentRef] = []
    for item in value:
        try:
            refs.append(DepartmentRef.model_validate(item))
        except ValueError:
            log.warning("unusable department reference ignored")
    return refs


class User(VokiModel):
    """``/users/me``, the ``user`` of a login, or a department member."""

    id: Id
    name: OptStr = None
    email: OptStr = None
    role: OptStr = None  # attendant | supervisor | manager; others kept verbatim
    active: OptBool = None
    avatar_url: OptStr = None
    mfa_enabled: OptBool = None
    locale: OptStr = None
    departments: Annotated[list[DepartmentRef] | None, BeforeValidator(_valid_refs)] = None
    inserted_at: OptTime = None
    updated_at: OptTime = None


def _optional_user(value: object) -> User | None:
    """A login's user object is a convenience (``/users/me`` has it too): bad means absent."""
    if value is None:
        return None
    try:
        return User.model_validate(value)
    except ValueError:
        log.warning("unusable user object in a login answer ignored")
        return None


class LoginTokens(VokiModel):
    """A successful login, MFA verification or refresh (``user`` only on the first two)."""

    access_token: str = Field(min_length=1, repr=False)
    refresh_token: str = Field(min_length=1, repr=False)
    user: Annotated[User | None, BeforeValidator(_optional_user)] = None


class MFAChallenge(VokiModel):
    """A login that needs a TOTP code: ``{"mfa_required": true, "mfa_token": "..."}``."""

    mfa_required: bool
    mfa_token: str = Field(min_length=1, repr=False)


class Department(VokiModel):
    id: Id
    name: OptStr = None
    identifier: OptStr = None
    description: OptStr = None
    active: OptBool = None
    sector_id: OptId = None
    max_queue_size: OptInt = None
    max_wait_time: OptInt = None  # seconds
    user_count: OptInt = None
    inserted_at: OptTime = None
    updated_at: OptTime = None


_CUSTOMER_FIELDS = (
    ("name", "customer_name"),
    ("email", "customer_email"),
    ("phone", "customer_phone"),
)
_QUEUED_AT_SOURCES = ("queued_at", "inserted_at", "joined_at")


class Call(VokiModel):
    """A call: a REST list item, or a ``customer_joined`` / join-snapshot channel payload.

    Accepted variations (voki-api.md sections 4 and 5):

    - ``call_id`` or ``id`` (``call_id`` wins when both are present);
    - customer fields flat (``customer_name``…) or nested as ``customer: {name, email, phone}``
      (flat fields win);
    - the queue time as ``queued_at`` (channel), ``inserted_at`` (REST) or ``joined_at``; the
      first one that parses is ``queued_at``;
    - any unknown ``status`` or ``reason`` kept verbatim.
    """

    call_id: Id
    status: OptStr = None
    department_id: OptId = None
    department_name: OptStr = None
    user_id: OptId = None
    user_name: OptStr = None
    customer_name: OptStr = None
    customer_email: OptStr = None
    customer_phone: OptStr = None
    reason: OptStr = None
    queued_at: OptTime = None
    assigned_at: OptTime = None
    started_at: OptTime = None
    completed_at: OptTime = None
    wait_time: OptInt = None  # seconds
    duration: OptInt = None  # seconds
    rating: OptFloat = None
    position: OptInt = None  # channel payloads only
    estimated_wait_time: OptInt = None  # channel payloads only, seconds

    @model_validator(mode="before")
    @classmethod
    def _normalize_shapes(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        if merged.get("call_id") in (None, "") and merged.get("id") not in (None, ""):
            merged["call_id"] = merged["id"]
        customer = merged.get("customer")
        if isinstance(customer, dict):
            for nested, flat in _CUSTOMER_FIELDS:
                if merged.get(flat) in (None, "") and customer.get(nested) is not None:
                    merged[flat] = customer[nested]
        merged["queued_at"] = next(
            (
                parsed
                for key in _QUEUED_AT_SOURCES
                if (parsed := parse_timestamp(merged.get(key))) is not None
            ),
            None,
        )
        return merged


class AccessLink(VokiModel):
    """A widget access link; ``token`` and ``url`` let anyone join a queue, so no repr."""

    id: Id
    token: OptStr = Field(default=None, repr=False)
    url: OptStr = Field(default=None, repr=False)
    status: OptStr = None
    department_id: OptId = None
    department_name: OptStr = None
    expires_at: OptTime = None


class PageMeta(VokiModel):
    current_page: OptInt = None
    page_size: OptInt = None
    total_pages: OptInt = None
    total_count: OptInt = None
