"""Making text from files and paths safe to show: no terminal escapes, no rich markup.

A drawing's TEXT entity, a PDF's metadata or a file name is data written by someone
else. Printed raw it can clear the screen (``ESC [2J``), set the window title (OSC 0),
plant a hyperlink (OSC 8), or, through rich, become markup (``[link=…]``) or crash the
renderer (``MarkupError`` on an unbalanced ``[/x]``). Everything that came from a file
or a path goes through :func:`clean` before a view, a log line or a CSV cell shows it;
the JSON outputs keep the raw value.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape as _escape_markup
from rich.text import Text

# C0 controls except TAB and LF, DEL, and the C1 range (U+0080-U+009F: 0x9B is a one-byte
# CSI on terminals that honour 8-bit controls). An ESC starting a sequence is removed
# together with the sequence, so no stray "[2J" is left behind.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC ... BEL or ST (titles, OSC 8 links)
    | \x1b[P^_X][^\x1b]*(?:\x1b\\)?         # DCS / PM / APC / SOS strings
    | \x1b\[[0-?]*[ -/]*[@-~]?              # CSI: cursor moves, colours, screen clear
    | \x9b[0-?]*[ -/]*[@-~]?                # 8-bit CSI
    | \x1b[ -/]*[0-~]?                      # any other escape (charset, keypad, RIS)
    """,
    re.VERBOSE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_WITH_LAYOUT = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences and control characters; undecodable bytes shown as \\xNN.

    Tabs and (with ``keep_newlines``) newlines survive; otherwise every line break
    becomes a space, so one file name or error stays one line.
    """
    text = shown_surrogates(text)
    text = _ESCAPE_SEQUENCE.sub("", text)
    if keep_newlines:
        return _CONTROL.sub("", text)
    return _CONTROL_WITH_LAYOUT.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)


def clean(value: Any, *, keep_newlines: bool = False) -> str:
    """A value from a file or path, ready to pass to rich as markup: controls gone, ``[`` escaped."""
    return _escape_markup(printable(str(value), keep_newlines=keep_newlines))


def shown_surrogates(text: str) -> str:
    r"""Non-UTF-8 bytes of a file name (surrogate escapes, \udcff) written as \xff.

    Such a string cannot be encoded for a terminal or a database at all; this form can.
    """
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "surrogatepass")
    return raw.decode("utf-8", "backslashreplace")


def _only_escapes(text: str) -> bool:
    return all(not ("\ud800" <= ch <= "\udfff") or "\udc80" <= ch <= "\udcff" for ch in text)


def has_undecodable(text: str) -> bool:
    """True when ``text`` holds surrogates, i.e. came from bytes that are not UTF-8."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def safe_text(value: Any, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A rich ``Text`` of a value from a file or path, controls gone (``Text`` never parses markup)."""
    return Text(printable(str(value), keep_newlines=keep_newlines), style=style)
