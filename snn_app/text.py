"""User text inside Markdown: Streamlit renders every message, caption and notice as Markdown, so text that came
from a link, a file name or an error quoting one goes through ``escape_markdown`` and reads as itself."""
from __future__ import annotations

import re

NOTICE_LENGTH = 600           # characters of one notice as shown (a value can be a whole URL's worth)
MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+.!|~$:&@")   # what Markdown, GFM or Streamlit give a meaning
BLOCK_START = frozenset("-+=")    # a list item or heading underline only at the start of a line
# GFM turns bare http://, www. and e-mail addresses into links after escapes are resolved (on the text itself),
# so a backslash cannot stop it: an invisible zero-width space inside each pattern does.
AUTOLINKS = re.compile(r"(?i)(https?:/)(/)|(www)(\.)|(@)()")
ZERO_WIDTH_SPACE = "\u200b"


def escape_markdown(text: str, limit: int = NOTICE_LENGTH) -> str:
    """``text`` as Markdown that shows exactly that text, on one line: cut to ``limit`` characters (with "…"),
    line breaks as spaces, and backslash-escaped (CommonMark's escape of ASCII punctuation) wherever a character
    could mean something: ``[ ] ( ) !`` (links, images), ``* _ ` ~`` (emphasis, code), ``< > &`` (HTML, entities),
    ``# | +`` (headings, tables, lists), ``\\``, ``:`` and ``.`` (``:red[...]`` directives, ``http://`` and
    ``www.`` autolinks), ``@``, ``{ }`` and ``$`` (maths); ``-`` ``+`` ``=`` only at the start. Bare ``http://``,
    ``www.`` and ``@`` get a zero-width space inside (``AUTOLINKS``). Other characters (``'``, ``=``, ``,``,
    ``/``) stay as they are, so a notice's source still reads as its text. Streamlit renders messages as
    Markdown: a link's text put in a notice unescaped could show a working link, or an image the browser
    fetches."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[:max(limit - 1, 0)] + "…"
    flat = AUTOLINKS.sub(lambda m: ZERO_WIDTH_SPACE.join(part for part in m.groups() if part is not None), flat)
    escaped = "".join("\\" + char if char in MARKDOWN_SPECIAL else char for char in flat)
    return "\\" + escaped if escaped[:1] in BLOCK_START else escaped
