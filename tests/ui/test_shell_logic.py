"""Pure logic of the shell: safe text, formats, alert policies, status wording, themes."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from voki_tui.live.figures import Level, department_level
from voki_tui.live.state import LinkState
from voki_tui.testing.fakes import DEPARTMENTS, HOSTILE, T0, connection, customer, view
from voki_tui.ui import themes
from voki_tui.ui.alerts import BellPolicy, RateLimiter
from voki_tui.ui.signals import terminal_alive
from voki_tui.ui.text import clean, content, format_age, format_percent, literal
from voki_tui.ui.widgets.status_bar import describe_age, describe_link, is_stale

DANGEROUS = {chr(c) for c in range(0x20)} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)}
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@given(st.text(max_size=300))
def test_clean_never_lets_controls_or_bidi_through(raw: str) -> None:
    safe = clean(raw)
    assert not (set(safe) & (DANGEROUS | BIDI))
    assert len(safe) <= 120
    safe.encode("utf-8")  # no lone surrogates left


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100))
def test_printable_ascii_is_kept_verbatim(raw: str) -> None:
    assert clean(raw) == raw
    assert literal(raw).plain == raw
    assert content(raw).plain == raw


def test_hostile_name_is_visible_and_markup_free() -> None:
    shown = literal(HOSTILE)
    assert shown.plain == "[@click=app.quit]x[/] ␛]0;pwned␇ \ufffd"
    assert shown.spans == []
    assert content(HOSTILE).spans == []


def test_long_text_is_cut_with_an_ellipsis() -> None:
    assert clean("x" * 500, 10) == "x" * 9 + "…"
    assert isinstance(literal("a"), Text)


def test_zero_width_characters_are_removed_and_newlines_become_spaces() -> None:
    assert clean("a\u200bb\ufeffc\nd\te") == "abc d e"


def test_format_age_and_percent() -> None:
    assert format_age(None) == "—"
    assert format_age(0) == "0:00"
    assert format_age(65.9) == "1:05"
    assert format_age(3725) == "1:02:05"
    assert format_age(-3) == "0:00"
    assert format_percent(None) == "—"
    assert format_percent(0.6923) == "69%"


def test_status_wording_per_state() -> None:
    assert describe_link(connection(LinkState.LIVE), T0) == "● live"
    reconnecting = connection(LinkState.RECONNECTING, retry_in_s=7, attempt=2)
    assert describe_link(reconnecting, T0) == "↻ reconnecting in 7 s (attempt 2)"
    assert describe_link(reconnecting, T0 + timedelta(seconds=30)).startswith(
        "↻ reconnecting in 0 s"
    )
    assert "session ended — press Enter to log in" in describe_link(
        connection(LinkState.AUTH_FAILED), T0
    )
    assert describe_age(connection(LinkState.LIVE), T0) == ""
    assert describe_age(connection(LinkState.SYNCING, data_age_s=75), T0) == "data 1:15 old"


def test_stale_rule() -> None:
    assert not is_stale(connection(LinkState.LIVE), T0, 10)
    assert is_stale(connection(LinkState.RECONNECTING, data_age_s=1), T0, 10)
    assert not is_stale(connection(LinkState.SYNCING, data_age_s=5), T0, 10)
    assert is_stale(connection(LinkState.SYNCING, data_age_s=11), T0, 10)


def test_bell_rings_on_crossing_only_and_rate_limited() -> None:
    sales = DEPARTMENTS[0]  # max_wait_time 120
    calm = (view(sales, [customer("c", "A", 30)]),)
    hot = (view(sales, [customer("c", "A", 130)]),)
    assert department_level(calm[0], T0) is not Level.ALERT
    assert department_level(hot[0], T0) is Level.ALERT
    policy = BellPolicy(min_gap=timedelta(seconds=30))
    assert not policy.should_ring(calm, T0)
    assert policy.should_ring(hot, T0)
    assert not policy.should_ring(hot, T0 + timedelta(seconds=1)), "still over: no new crossing"
    assert not policy.should_ring(calm, T0 + timedelta(seconds=2))
    assert not policy.should_ring(hot, T0 + timedelta(seconds=3)), "crossed again too soon"
    policy.should_ring(calm, T0 + timedelta(seconds=40))
    assert policy.should_ring(hot, T0 + timedelta(seconds=41))


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(limit=2, window=timedelta(seconds=10))
    assert [limiter.allow(T0 + timedelta(seconds=s)) for s in (0, 1, 2, 9, 10, 11)] == [
        True,
        True,
        False,
        False,
        True,
        True,
    ]
    assert limiter.dropped == 2


def test_theme_names() -> None:
    assert themes.resolve(None) == "textual-dark"
    assert themes.resolve("high-contrast") == "voki-high-contrast"
    assert themes.resolve("nord") == "nord"


def test_terminal_alive_is_false_for_a_pipe() -> None:
    read_end, write_end = os.pipe()
    try:
        assert not terminal_alive(read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    closed = os.open(os.devnull, os.O_RDONLY)
    os.close(closed)
    assert not terminal_alive(closed)


def test_an_exit_whose_shutdown_hangs_still_ends_the_process() -> None:
    """Textual's shutdown can wait for ever on a dead terminal's output thread; the exit
    deadline ends the process anyway, with the code it was leaving with."""
    import subprocess
    import sys

    script = (
        "import time\n"
        "from voki_tui.ui.signals import exit_soon\n"
        "class Stuck:\n"
        "    is_headless = False\n"
        "    def exit(self, return_code=0):\n"
        "        pass  # a shutdown that never completes\n"
        "exit_soon(Stuck(), 129, deadline_s=0.2)\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=10, check=False)
    assert done.returncode == 129


def test_no_exit_deadline_without_a_terminal() -> None:
    """Headless (tests, ``run_test``): exiting must never end the hosting process."""
    from voki_tui.ui import signals

    class Headless:
        is_headless = True
        codes: list[int] = []

        def exit(self, return_code: int = 0) -> None:
            self.codes.append(return_code)

    app = Headless()
    signals.exit_soon(app, 143, deadline_s=0.01)  # type: ignore[arg-type]
    assert signals._deadline is None
    assert app.codes == [143]


def test_the_too_small_notice_wraps_between_words() -> None:
    from voki_tui.ui.screens.too_small import too_small_lines

    for width in range(12, 80):
        lines = too_small_lines(width, 10)
        assert all(len(line) <= width for line in lines)
        words = " ".join(lines).split()
        assert "reduce" in words and "size." in words, width  # never half a word
