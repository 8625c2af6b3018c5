"""Hostile inputs at the size caps: every check applied to fetched content stays linear, and one
deadline per fetch holds even while a server trickles its headers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from ingest_app.core.crawl import CrawlError, canonicalize_url, hints_for_url, list_company_jobs
from ingest_app.core.crawl.charset import declared_charset, decode_body
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.robots import check_robots
from ingest_app.core.crawl.urls import host_key
from ingest_app.core.settings import get_settings
from tests.support.fixture_server import FixtureServer, TrickleServer, respond

pytestmark = pytest.mark.timeout(60)
FAST = 1.0  # seconds: each hostile case took seconds to hours before


def _cap() -> int:
    return get_settings().crawler_max_bytes


def _timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


# ----- A: regexes over fetched content -----------------------------------------------------------


def test_next_link_text_check_is_linear_at_the_page_cap(server) -> None:
    """`next` + spaces + a letter made the old next-page regex quadratic (1.8 s at 20 k chars)."""
    text = "next" + " " * (_cap() - 200) + "x"
    url = server.page("/careers/", f'<main><a href="/careers/?page=2">{text}</a></main>')
    jobs, took = _timed(list_company_jobs, f"careers:{url}")
    assert jobs == [] and took < FAST


def test_noise_attributes_do_not_multiply_with_links(server) -> None:
    """A huge class attribute on the ancestor of many links is read once, not once per link
    (before: 0.3 s per link and ancestor, so minutes for this page)."""
    links = "".join(f'<li><a href="/careers/role-{i}">Engineer {i}</a></li>' for i in range(1000))
    padding = "x" * (_cap() - len(links) - 200)
    url = server.page("/careers/", f'<main><div class="{padding}"><ul>{links}</ul></div></main>')
    jobs, took = _timed(list_company_jobs, f"careers:{url}")
    assert len(jobs) == 1000
    assert took < 2 * FAST


def test_job_links_per_company_are_capped(server, settings) -> None:
    """A 2.3 MB careers page gave 60,000 items; the listing keeps the first N and says so."""
    settings(CRAWLER_MAX_JOBS_PER_COMPANY=300)
    links = "".join(f'<li><a href="/careers/role-{i}">Engineer {i}</a></li>' for i in range(2000))
    url = server.page("/careers/", f"<main><ul>{links}</ul></main>")
    jobs = list_company_jobs(f"careers:{url}")
    assert [j.url for j in jobs] == [server.url(f"/careers/role-{i}") for i in range(300)]
    assert jobs.incomplete == "the careers page lists more than 300 job links; kept the first 300"


@pytest.mark.parametrize("length", [30, 64, 2000])
def test_host_check_is_linear(length: int) -> None:
    """The old host pattern backtracked exponentially: 0.2 s at 22 characters, hours at 40."""
    host = "a" * length + "!"
    (_, took) = _timed(lambda: pytest.raises(CrawlError, canonicalize_url, f"https://{host}/x"))
    assert took < FAST
    assert canonicalize_url("https://Jobs.Example.COM./a") == "https://jobs.example.com/a"
    for bad in ("https://-bad.example/", "https://a..b.example/", "https://" + "a" * 64 + ".example/"):
        with pytest.raises(CrawlError):
            canonicalize_url(bad)


def test_charset_checks_are_bounded() -> None:
    body = b"<meta" * (_cap() // 5)
    (_, took) = _timed(declared_charset, "text/html; " + "charset " * 50_000, body)
    assert took < FAST
    assert declared_charset("text/html; charset=UTF-8", b"") == "utf-8"
    assert declared_charset("", b'<meta http-equiv="content-type" content="text/html; charset=windows-1251">') == (
        "cp1251"
    )


@pytest.mark.parametrize("label", ["punycode", "utf-7", "rot13", "idna", "zlib", "base64", "uu", "hex"])
def test_only_html_charsets_are_used(label: str) -> None:
    """The punycode codec took 7.6 s on 400 KB (and utf-7 is a script-injection classic)."""
    body = ("é" * (_cap() // 2)).encode("utf-8")
    assert declared_charset(f"text/html; charset={label}", body) is None
    text, took = _timed(decode_body, body, f"text/html; charset={label}")
    assert took < FAST and text.startswith("éé")  # read as UTF-8, the way a browser does
    shaped = b"-" + b"ba" * (_cap() // 2 - 100)  # punycode deltas only: quadratic in the codec
    text, took = _timed(decode_body, shaped, f"text/html; charset={label}")
    assert took < FAST and text == shaped.decode("ascii")
    meta = f'<meta charset="{label}">'.encode() + b"a" * (_cap() - 100)
    text, took = _timed(decode_body, meta, "text/html")
    assert took < FAST and text.endswith("aaa")


def test_robots_txt_with_hostile_rules_at_its_cap(server) -> None:
    rules = "User-agent: *\n" + "".join(f"Disallow: /{'*a' * 40}*z{i}\n" for i in range(6000))
    server.page("/robots.txt", rules[: 512 * 1024], "text/plain")
    url = server.url("/careers/" + "a" * 1900)
    (_, took) = _timed(check_robots, url)
    assert took < 3 * FAST


def test_ats_url_patterns_on_long_urls() -> None:
    url = "https://boards.greenhouse.io/" + "a/" * 1000 + "jobs/1"
    (hints, took) = _timed(hints_for_url, url)
    assert hints == {} and took < FAST


# ----- B: one deadline per fetch -----------------------------------------------------------------


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    srv = TrickleServer(delay=0.2)
    yield srv
    srv.stop()


def test_trickled_headers_end_at_the_total_deadline(trickle, settings) -> None:
    """One header byte every 0.2 s never trips the 1 s read timeout: only the deadline ends it
    (before: 2,200 header bytes held the thread for over 7 minutes, times each retry)."""
    settings(CRAWLER_READ_TIMEOUT=1, CRAWLER_TOTAL_TIMEOUT=1.5, CRAWLER_MAX_RETRIES=3)
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(trickle.url("/careers"))
    took = time.monotonic() - started
    assert exc.value.kind == "timeout"
    assert took < 2.5  # one deadline for the fetch and all its retries


def test_robots_txt_shares_the_page_deadline(trickle, settings) -> None:
    settings(CRAWLER_READ_TIMEOUT=1, CRAWLER_TOTAL_TIMEOUT=1.5)
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(trickle.url("/careers"), robots=True)  # robots.txt trickles as well
    assert exc.value.kind == "timeout"
    assert time.monotonic() - started < 2.5


def test_redirect_hops_and_retries_share_one_deadline(server, settings) -> None:
    """Five hops of 0.4 s each under a 1 s deadline: the fetch ends at the deadline, not after 2 s
    per attempt times the retries."""
    settings(CRAWLER_READ_TIMEOUT=2, CRAWLER_TOTAL_TIMEOUT=1, CRAWLER_MAX_RETRIES=3)

    def hop(n: int):
        def route(h) -> None:
            time.sleep(0.4)
            h.send_body(302, b"", "text/plain", {"Location": f"/hop{n + 1}"})

        return route

    for n in range(6):
        server.add(f"/hop{n}", hop(n))
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/hop0"))
    assert exc.value.kind == "timeout"
    assert time.monotonic() - started < 1.8


def test_backoff_that_would_pass_the_deadline_is_not_slept(server, settings) -> None:
    settings(CRAWLER_TOTAL_TIMEOUT=1, CRAWLER_MAX_RETRY_AFTER=30, CRAWLER_MAX_RETRIES=3)
    server.page("/busy", "slow down", "text/plain", status=429, headers={"Retry-After": "20"})
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/busy"), accept=None)
    assert exc.value.kind == "http_429"
    assert time.monotonic() - started < FAST


# ----- D: IPv6 literals ---------------------------------------------------------------------------


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6_host_key_keeps_brackets() -> None:
    assert host_key("http://[::1]:8080/careers") == "http://[::1]:8080"
    assert host_key("https://[2606:4700::1111]/jobs") == "https://[2606:4700::1111]:443"


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_literal_careers_page_is_listed_with_its_robots_txt() -> None:
    """Before, the robots.txt URL of `http://[::1]:port/` lost its brackets, so every IPv6 careers
    page failed with invalid_url."""
    careers = b'<main><ul><li><a href="/careers/backend-engineer-42">Backend Engineer</a></li></ul></main>'
    httpd = FixtureServer(host="::1", fallback=respond(200, careers, "text/html"))
    httpd.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    try:
        port = httpd.port
        jobs = list_company_jobs(f"careers:http://[::1]:{port}/careers/")
        with pytest.raises(CrawlError) as exc:
            list_company_jobs(f"careers:http://[::1]:{port}/private/careers/")
    finally:
        httpd.stop()
    seen = [path for path, _ in httpd.requests]
    assert [j.url for j in jobs] == [f"http://[::1]:{port}/careers/backend-engineer-42"]
    assert seen[0] == "/robots.txt"
    assert exc.value.kind == "blocked_by_robots"


# ----- D: the address guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address,allowed",
    [
        ("fec0::1", False),  # site-local
        ("feff:ffff::1", False),
        ("3fff::1", False),  # documentation (RFC 9637)
        ("3fff:fff:ffff::1", False),
        ("5f00::1", False),  # SRv6 SIDs
        ("64:ff9b:1::a", False),  # local-use NAT64
        ("64:ff9b::5db8:d822", True),  # NAT64 of 93.184.216.34 (public)
        ("64:ff9b::102:304", True),  # NAT64 of 1.2.3.4
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::c0a8:101", False),  # NAT64 of 192.168.1.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::6440:1", False),  # NAT64 of 100.64.0.1 (CGNAT)
        ("2606:4700::1111", True),
    ],
)
def test_address_guard_ranges(address: str, allowed: bool) -> None:
    from ingest_app.core.crawl.netguard import address_allowed

    assert address_allowed(address) is allowed


@pytest.mark.parametrize("host", ["[fec0::1]", "[3fff::1]", "[64:ff9b::a00:1]"])
def test_refused_ipv6_addresses_are_never_connected(settings, host: str, monkeypatch) -> None:
    """The guard refuses before any socket is opened (nothing leaves this machine)."""
    settings(CRAWLER_ALLOW_PRIVATE_HOSTS=0)
    opened: list = []

    def no_socket(*args, **kwargs):
        opened.append(args)
        raise OSError("this test opens no socket")

    monkeypatch.setattr(socket, "socket", no_socket)
    with pytest.raises(CrawlError) as exc:
        fetch(f"http://{host}/careers", retries=0)
    assert exc.value.kind == "blocked_address"
    assert opened == []


# ----- C: JSON listings within a memory bound -------------------------------------------------------

_SIXTEEN_MIB = 16 * 1024 * 1024


@pytest.mark.parametrize(
    "name,body",
    [
        ("objects", b"[" + b"{}," * (_SIXTEEN_MIB // 3) + b"{}]"),
        ("arrays", b"[" + b"[]," * (_SIXTEEN_MIB // 3) + b"[]]"),
        ("strings", b"[" + b'"",' * (_SIXTEEN_MIB // 3) + b'""]'),
        ("members", b'{"jobs": [' + b'{"a":1,"b":2,"c":3,"d":4},' * (_SIXTEEN_MIB // 26) + b"1]}"),
        ("numbers", b"[" + b"1.5," * (_SIXTEEN_MIB // 4) + b"1]"),
    ],
)
def test_huge_json_listing_is_refused_within_a_memory_bound(server, name: str, body: bytes) -> None:
    """A 16 MiB JSON listing took 900 MB of memory; now it is refused having built little."""
    import tracemalloc

    from ingest_app.core.crawl.http import fetch_json

    url = server.page(f"/{name}.json", body, "application/json")
    tracemalloc.start()
    try:
        with pytest.raises(CrawlError) as exc:
            fetch_json(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exc.value.kind == "too_large" and "values" in exc.value.reason
    assert peak < 200 * 1024 * 1024  # the 16 MiB body itself, plus what was parsed before the stop


def test_large_legitimate_json_listing_still_parses(server) -> None:
    """Long descriptions full of commas, colons and quotes are not values: such a board reads."""
    import json

    from ingest_app.core.crawl.http import fetch_json

    job = {"id": 7, "title": "Engineer", "content": '<p>We build, "ship": and run things, [daily]</p>' * 400}
    body = json.dumps({"jobs": [job] * 900}).encode()
    assert len(body) > _SIXTEEN_MIB
    url = server.page("/board.json", body, "application/json")
    data = fetch_json(url)
    assert len(data["jobs"]) == 900 and data["jobs"][0]["content"].startswith("<p>We build")


def test_robots_txt_cut_short_by_a_callers_deadline_is_not_remembered(server) -> None:
    """A preview's deadline ending during robots.txt says nothing about the site: the next fetch
    asks again instead of refusing the site for the next 30 s."""
    from ingest_app.core.crawl import deadline
    from tests.support.fixture_server import slow

    server.sequence("/robots.txt", slow(0.8, respond(200, "", "text/plain")), respond(200, "", "text/plain"))
    page = server.page("/careers/", "<main>open roles</main>")
    with deadline.within(0.4), pytest.raises(CrawlError) as exc:
        fetch(page, robots=True)
    assert exc.value.kind == "timeout"
    assert fetch(page, robots=True).status == 200


def test_a_listing_has_one_deadline_over_all_its_pages(server, settings) -> None:
    """Twenty slow pages of 0.4 s each (every one inside the per-fetch limits) end at the listing
    deadline, not after 8 s."""
    settings(CRAWLER_LISTING_TIMEOUT=1, CRAWLER_MAX_PAGES=20)

    def route(h) -> None:
        time.sleep(0.4)
        n = int((h.path.split("page=") + ["1"])[1] or 1)
        body = (
            f'<main><a href="/careers/role-{n}">Engineer</a><a href="/careers/?page={n + 1}" rel="next">Next</a></main>'
        )
        h.send_body(200, body.encode())

    server.add("/careers/", route)
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(f"careers:{server.url('/careers/')}")
    assert exc.value.kind == "timeout"
    assert time.monotonic() - started < 2.0
