"""Decoding fetched pages: charset from the Content-Type header, else `<meta charset>`, else UTF-8
when the bytes are valid UTF-8, else windows-1252 (what browsers do)."""

from __future__ import annotations

import codecs
import re

_HEADER_CHARSET = re.compile(r"charset\s*=\s*([^\s;]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# WHATWG: browsers read these labels as windows-1252.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-sjis": "shift_jis",
}


def _codec(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    try:
        return codecs.lookup(_ALIASES.get(name, name)).name
    except LookupError:
        return None


def declared_charset(content_type: str, body: bytes) -> str | None:
    """The charset the header declares, else the one a `<meta>` in the first 4 KB declares."""
    match = _HEADER_CHARSET.search(content_type or "")
    if match and (name := _codec(match.group(1))):
        return name
    meta = _META_CHARSET.search(body[:4096])
    if meta and (name := _codec(meta.group(1).decode("ascii", "ignore"))):
        return name
    return None


def decode_body(body: bytes, content_type: str = "") -> str:
    charset = declared_charset(content_type, body)
    if charset is None:
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            charset = "cp1252"
    if charset == "utf-8":
        body = body.removeprefix(b"\xef\xbb\xbf")
    return body.decode(charset, errors="replace")
