"""Decoding fetched pages: charset from the Content-Type header, else `<meta charset>`, else UTF-8
when the bytes are valid UTF-8, else windows-1252 (what browsers do)."""

from __future__ import annotations

import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# WHATWG: these labels mean windows-1252 in browsers.
# WHATWG: these labels mean windows-1252 in browsers.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "windows-1252": "cp1252", "x-sjis": "shift_jis"}


def _normalize_charset(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        import codecs

        return codecs.lookup(name).name
    except LookupError:
        return None


def detect_charset(content_type: str, body: bytes) -> str:
    """Charset from the Content-Type header, else `<meta charset>`, else UTF-8 (when it decodes),
    else windows-1252."""
    match = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    if match and (name := _normalize_charset(match.group(1))):
        return name
    if body:
        meta = _META_CHARSET.search(body[:4096])
        if meta and (name := _normalize_charset(meta.group(1).decode("ascii", "ignore"))):
            return name
        try:
            body.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def decode_body(body: bytes, content_type: str = "") -> str:
    header = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    meta = None if header else _META_CHARSET.search(body[:4096])
    if header or meta:
        charset = detect_charset(content_type, body)
    else:
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            charset = "cp1252"
    if charset == "utf-8" and body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    return body.decode(charset, errors="replace")
