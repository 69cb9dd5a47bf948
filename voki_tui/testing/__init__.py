"""Fakes and harnesses shared by the tests, ``scripts/`` and ``benchmarks/``: one importable home.

- ``fakes``: stand-ins for the app's ports (``FakeAuth``, ``FakeFeed``), a ``FrozenClock`` and
  builders of realistic feed state, so a screen can be driven without I/O;
- ``headless``: the real ``voki-tui snapshot``/``watch --json`` run against voki-sim and
  compared with its ground truth;
- ``figures``: how the tests, scripts and benchmarks summarise what they measured;
- ``recorded``: a ``--record`` session without a network (scripted events and REST answers),
  and what the feed published meanwhile, for the replay's tests and screenshot.

voki-sim's own (``running_sim``, ``SimProcess``) stay in ``voki_tui.sim.testing``. Nothing in
the client imports this package (an import contract in pyproject.toml says so).
"""
