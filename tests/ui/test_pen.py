"""The SGR pen model: what a sequence sets, and the shortest switch between two pens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voki_tui.ui.pen import DEFAULT, SLOTS, Pen, apply, difference, from_unknown, parse


def pen_of(params: str, start: Pen = DEFAULT) -> Pen:
    changes = parse(params)
    assert changes is not None, params
    return apply(start, changes)


def test_textual_style_after_a_reset() -> None:
    pen = pen_of("0;38;5;131;48;5;233;1")
    assert pen == ("38;5;131", "48;5;233", "1", *("",) * (len(SLOTS) - 3))
    assert pen_of("") == pen_of("0") == pen_of("0;39;49") == DEFAULT


def test_two_spellings_of_one_pen_are_one_pen() -> None:
    assert pen_of("1;38;5;131") == pen_of("38;5;131;1") == pen_of("0;38;5;0131;1")
    assert pen_of("38;2;10;20;30") == pen_of("38;2;010;20;30")


def test_normal_intensity_ends_bold_and_dim() -> None:
    assert pen_of("22", pen_of("1;2;3")) == pen_of("3")


def test_what_is_not_read_is_none() -> None:
    for params in ("21", "4:3", "38:5:131", "38;5", "38;5;256", "38;3;1", "38;2;1;2", "10", "x"):
        assert parse(params) is None, params


def test_only_the_changed_slot_is_sent() -> None:
    was = pen_of("0;38;5;253;48;5;233")
    assert difference(was, pen_of("0;38;5;131;48;5;233")) == "\x1b[38;5;131m"
    assert difference(was, pen_of("0;48;5;233")) == "\x1b[39m"


def test_bold_off_keeps_dim_by_setting_it_again() -> None:
    assert difference(pen_of("1;2;38;5;12"), pen_of("2;38;5;12")) == "\x1b[22;2m"


def test_a_reset_when_it_is_shorter() -> None:
    assert difference(pen_of("1;3;4;7;9"), DEFAULT) == "\x1b[0m"
    assert difference(pen_of("1;3;4;7"), pen_of("31")) == "\x1b[0;31m"


def test_blink_switches_kind_through_its_reset() -> None:
    assert difference(pen_of("5;31"), pen_of("6;31")) == "\x1b[25;6m"


values = st.sampled_from(
    [
        "",
        *("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "53"),
        *("22", "23", "24", "25", "27", "28", "29", "55", "39", "49", "59"),
        *("31", "97", "44", "107", "38;5;131", "48;5;0", "58;5;9", "38;2;1;2;3", "48;2;255;0;9"),
    ]
)
pens = st.lists(values, max_size=6).map(lambda fields: pen_of(";".join(f for f in fields if f)))


@settings(max_examples=1000)
@given(pens, pens)
def test_a_switch_gives_the_pen_wanted_and_never_costs_more_than_a_reset(
    real: Pen, want: Pen
) -> None:
    if want == real:
        return
    switch = difference(real, want)
    assert switch.startswith("\x1b[") and switch.endswith("m")
    assert pen_of(switch[2:-1], real) == want
    assert len(switch) <= len(from_unknown(want))
    assert pen_of(from_unknown(want)[2:-1], pen_of("1;2;5;38;5;1")) == want
