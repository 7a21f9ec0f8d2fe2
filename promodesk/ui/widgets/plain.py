"""Data shown as written, never as markup (Qt reads any text that looks like HTML as HTML)."""

from __future__ import annotations


def plain_tooltip(text: str) -> str:
    """Tooltip text shown as written. Qt renders a tooltip as rich text whenever it looks like
    markup, so data such as "<font size=7 color=red>" is escaped inside an explicit rich-text
    wrapper (escaped without the wrapper, it would show as "&lt;font")."""
    if not text:
        return text
    import html  # not at start-up: it loads the table of every HTML entity

    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
