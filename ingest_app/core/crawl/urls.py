"""URL canonicalization: one spelling per job URL, so listings dedupe and jobs stay unique."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingest_app.core.crawl.types import CrawlError

_TRACKING_PARAMS = frozenset(
    {
        "gh_src",
        "gclid",
        "dclid",
        "fbclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "igshid",
        "yclid",
        "lever-source",
        "lever-source[]",
        "lever-origin",
        "lever-via",
        "ref_src",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048  # jobs.source_url
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
MAX_HOST_LENGTH = 253


def _valid_host(host: str) -> bool:
    """DNS-shaped: labels of 1-63 letters, digits, `_` or `-`, the first not starting with `-`."""
    if not host or len(host) > MAX_HOST_LENGTH or host[0] == "-":
        return False
    return all(0 < len(label) <= 63 and _LABEL_CHARS.issuperset(label) for label in host.split("."))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in _TRACKING_PARAMS


def canonicalize_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment, credentials and tracking
    parameters (`utm_*`, `gh_src`, click ids). Raises CrawlError("invalid_url") otherwise."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise CrawlError("invalid_url", f"not a valid URL: {exc}", url=text) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise CrawlError("invalid_url", "only http:// and https:// URLs can be crawled", url=text)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise CrawlError("invalid_url", "the URL has no host", url=text)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except UnicodeError:
            raise CrawlError("invalid_url", f"invalid host name {host!r}", url=text) from None
        if not _valid_host(host):
            raise CrawlError("invalid_url", f"invalid host name {host!r}", url=text)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = ""
    if parts.query:
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
        query = urlencode(pairs, doseq=False, safe="/:@,[]")
    canonical = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    if len(canonical) > MAX_URL_LENGTH:
        raise CrawlError("invalid_url", f"the URL is longer than {MAX_URL_LENGTH} characters", url=text[:200])
    return canonical


def host_key(url: str) -> str:
    """`scheme://host:port` of a URL: the unit for robots.txt and concurrency limits."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets, so the key is a valid URL authority
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"
