"""The JSON document: what a department that is unread, refused or complete says, and that
the schema shipped beside it accepts what it prints and refuses what it must not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from voki_tui.live.book import DepartmentBook
from voki_tui.live.document import access, snapshot_document
from voki_tui.live.state import (
    Connection,
    Department,
    DepartmentView,
    FeedSnapshot,
    LinkState,
    Source,
    SourceState,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "voki_tui" / "live" / "snapshot.schema.json").read_text()
)
SYNCED = Source(SourceState.SYNCED, T0)


def view(queue: Source, presence: Source, history: Source, ident: str = "d1") -> DepartmentView:
    book = DepartmentBook(Department(ident, "Suporte"))
    full = book.view(T0, queue_source=queue, presence_source=presence, history_source=history)
    known = queue.as_of is not None and presence.as_of is not None
    return (
        full
        if known
        else DepartmentView(
            department=full.department, queue=queue, presence=presence, history=history
        )
    )


def document(*views: DepartmentView) -> dict[str, object]:
    snapshot = FeedSnapshot(
        version=1,
        taken_at=T0,
        server="http://voki.test",
        tenant="demo",
        user=None,
        connection=Connection(LinkState.LIVE, since=T0),
        departments=views,
        links=1,
    )
    return snapshot_document(snapshot)


def test_a_department_not_read_yet_is_pending_with_no_figures() -> None:
    pending = view(Source(), Source(), Source())
    assert access(pending) == "pending"
    [shown] = document(pending)["departments"]  # type: ignore[misc]
    assert (shown["complete"], shown["metrics"]) == (False, {})


def test_a_refused_department_says_so_and_has_no_figures() -> None:
    refused = view(Source(SourceState.UNAUTHORIZED, detail="unauthorized"), Source(), Source())
    assert refused.refused and not refused.complete
    doc = document(refused)
    [shown] = doc["departments"]  # type: ignore[misc]
    assert (shown["access"], shown["metrics"], doc["complete"]) == ("refused", {}, False)
    assert shown["sources"]["queue"]["detail"] == "unauthorized"


def test_complete_only_with_the_history_in() -> None:
    without = view(SYNCED, SYNCED, Source())
    assert access(without) == "granted" and not without.complete
    assert without.metrics is not None  # figures of what was seen, marked incomplete
    done = view(SYNCED, SYNCED, SYNCED)
    assert document(without, done)["complete"] is False
    assert document(done)["complete"] is True


@pytest.mark.parametrize(
    "sources",
    [(Source(), Source(), Source()), (SYNCED, SYNCED, SYNCED), (SYNCED, SYNCED, Source())],
)
def test_the_schema_accepts_what_is_printed(sources: tuple[Source, Source, Source]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document(view(*sources)))


def test_the_schema_refuses_a_document_without_its_marks() -> None:
    printed = document(view(SYNCED, SYNCED, SYNCED))
    del printed["departments"][0]["access"]  # type: ignore[index]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(printed)
