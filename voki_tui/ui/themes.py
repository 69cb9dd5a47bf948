"""The three looks voki-tui offers: dark, light and a high-contrast one for wall monitors.

Dark and light are Textual's own; high-contrast is ours (pure black, white and saturated
signal colours, for washed-out projectors and low vision). State never rests on colour alone:
every screen also shows a glyph, so ``NO_COLOR`` and monochrome links lose nothing.
"""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="voki-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff00ff",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#202020",
    boost="#303030",
    warning="#ffd000",
    error="#ff3030",
    success="#00ff00",
    dark=True,
)

ALIASES = {
    "dark": "textual-dark",
    "light": "textual-light",
    "high-contrast": HIGH_CONTRAST.name,
}
ORDER = ("dark", "light", "high-contrast")


def resolve(name: str | None) -> str:
    """The Textual theme name for a ``--theme`` value (``dark`` when unset)."""
    if not name:
        return ALIASES["dark"]
    return ALIASES.get(name, name)
