"""Decoding fetched pages: charset from the Content-Type header, else `<meta charset>`, else UTF-8
when the bytes are valid UTF-8, else windows-1252 (what browsers do).

Only the encodings the HTML standard (WHATWG Encoding) lets a page declare are used: a label
naming any other Python codec (punycode, utf-7, rot13, idna, the zlib/base64 "codecs") is
ignored, as a browser ignores it. Some of those are slow (punycode is quadratic) or unsafe.
Headers and `<meta>` are read with string scans, not regexes."""

from __future__ import annotations

import codecs

META_SCAN_BYTES = 4096
# WHATWG labels -> the Python codec that decodes them as a browser does.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gbk",
    "gb_2312-80": "gbk",
    "x-gbk": "gbk",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# The Python names of the encodings above and the rest of the WHATWG list.
_HTML_CODECS = frozenset(
    {
        "utf-8",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "cp866",
        "iso8859-2",
        "iso8859-3",
        "iso8859-4",
        "iso8859-5",
        "iso8859-6",
        "iso8859-7",
        "iso8859-8",
        "iso8859-10",
        "iso8859-13",
        "iso8859-14",
        "iso8859-15",
        "iso8859-16",
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "cp874",
        "cp1250",
        "cp1251",
        "cp1252",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "gbk",
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
    }
)
_MAX_LABEL = 40


def html_codec(label: str) -> str | None:
    """The Python codec for a charset label a web page may use, else None."""
    name = label.strip().strip("\"'").strip().lower()
    if not name or len(name) > _MAX_LABEL:
        return None
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return codec if codec in _HTML_CODECS else None


def _header_label(content_type: str) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        key, sep, value = param.partition("=")
        if sep and key.strip().lower() == "charset":
            return value.split(",", 1)[0]
    return None


def _meta_label(head: bytes) -> str | None:
    """The charset of the first `<meta ... charset=...>` within `head` (already bounded)."""
    lowered = head.lower()
    pos = 0
    while (start := lowered.find(b"<meta", pos)) != -1:
        end = lowered.find(b">", start)
        tag = lowered[start : end if end != -1 else len(lowered)]
        pos = start + 5
        at = tag.find(b"charset")
        if at == -1:
            continue
        rest = tag[at + 7 :].lstrip()
        if not rest.startswith(b"="):
            continue
        rest = rest[1:].lstrip().lstrip(b"\"'").lstrip()
        label = bytearray()
        for byte in rest[:_MAX_LABEL]:
            if not (chr(byte).isalnum() or byte in b"_.:-"):
                break
            label.append(byte)
        return label.decode("ascii", "ignore")
    return None


def declared_charset(content_type: str, body: bytes) -> str | None:
    """The charset the header declares, else the one a `<meta>` in the first 4 KB declares."""
    label = _header_label(content_type)
    if label and (name := html_codec(label)):
        return name
    label = _meta_label(body[:META_SCAN_BYTES])
    if label and (name := html_codec(label)):
        # A page cannot declare UTF-16 in its own ASCII-compatible bytes (WHATWG: read as UTF-8).
        return "utf-8" if name.startswith("utf-16") else name
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
