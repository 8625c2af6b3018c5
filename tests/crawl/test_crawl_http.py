"""The safe fetcher against a local server: address guard, redirects, caps, charsets, retries."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from ingest_app.core.crawl import CrawlError, extract_job, netguard
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.netguard import address_allowed
from ingest_app.core.crawl.robots import clear_robots_cache
from ingest_app.core.settings import get_settings
from tests.support.fixture_server import FixtureServer, respond, slow


@pytest.fixture
def private_hosts_refused(settings) -> None:
    settings(CRAWLER_ALLOW_PRIVATE_HOSTS="0")
    assert get_settings().crawler_allow_private_hosts is False


@pytest.fixture
def loopback_counts_as_public(monkeypatch: pytest.MonkeyPatch, private_hosts_refused):
    """Treat 127.0.0.1 as if it were a public address, so a local server can play a public site
    whose redirects point at private addresses."""
    real = netguard.address_allowed
    monkeypatch.setattr(netguard, "address_allowed", lambda a: a == "127.0.0.1" or real(a))


@pytest.mark.parametrize(
    "address,allowed",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("2002:7f00:1::", False),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),
        ("::ffff:93.184.216.34", True),
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
    ],
)
def test_only_global_addresses_are_allowed(address: str, allowed: bool) -> None:
    assert address_allowed(address) is allowed


def test_private_address_refused_by_default(server, private_hosts_refused) -> None:
    url = server.page("/job", "<h1>hi</h1>")
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "blocked_address"
    assert "127.0.0.1" in exc.value.reason
    assert server.hits["/job"] == 0  # refused before connecting


def test_private_hosts_setting_lifts_the_guard(server) -> None:
    url = server.page("/job", "<h1>hi</h1>")
    assert fetch(url).content == b"<h1>hi</h1>"


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/admin",
        "http://[::1]:9/",
        "http://127.0.0.2:{port}/secret",
    ],
)
def test_every_redirect_hop_is_checked(server, loopback_counts_as_public, target: str) -> None:
    server.page("/secret", "secret")
    url = server.redirect("/start", target.format(port=server.port))
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "blocked_address"
    assert server.hits["/start"] == 1
    assert server.hits["/secret"] == 0


def test_connects_to_the_checked_address_keeping_the_host_header(
    server, loopback_counts_as_public, monkeypatch
) -> None:
    real = netguard.socket.getaddrinfo
    calls = []

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        return real("127.0.0.1" if host == "jobs.pelican.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(netguard.socket, "getaddrinfo", resolve)
    server.add("/echo", lambda h: h.send_body(200, h.headers["Host"].encode(), "text/html"))
    result = fetch(f"http://jobs.pelican.example:{server.port}/echo")
    assert result.content == f"jobs.pelican.example:{server.port}".encode()
    # the name is resolved once; the connection goes to the checked IP literal (no second lookup)
    assert [c for c in calls if not c[0].isdigit()] == ["jobs.pelican.example"]
    assert "127.0.0.1" in calls


def test_non_http_schemes_are_refused(server) -> None:
    url = server.redirect("/to-file", "file:///etc/passwd")
    for bad in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x"):
        with pytest.raises(CrawlError) as exc:
            fetch(bad)
        assert exc.value.kind == "invalid_url"
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "invalid_url"


def test_redirect_chain_is_followed_up_to_five_hops(server) -> None:
    server.page("/final", "<h1>done</h1>")
    for i in range(1, 6):
        server.redirect(f"/r{i}", "/final" if i == 1 else f"/r{i - 1}", status=301 if i % 2 else 307)
    result = fetch(server.url("/r5"))
    assert result.url == server.url("/final")
    assert result.content == b"<h1>done</h1>"
    server.redirect("/r6", "/r5")
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/r6"))
    assert exc.value.kind == "http_error"
    assert "redirects" in exc.value.reason


def test_redirect_loop_ends_with_an_error(server) -> None:
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/a"))
    assert exc.value.kind == "http_error"


def test_huge_page_is_cut_off_not_loaded(server) -> None:
    sent = {"bytes": 0}

    def huge(h) -> None:  # 50 MB, no Content-Length: only counting can stop it
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        for _ in range(50 * 16):
            h.wfile.write(chunk)
            sent["bytes"] += len(chunk)
        h.close_connection = True

    url = server.add("/huge", huge)
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "too_large"
    assert time.monotonic() - started < 10


def test_declared_huge_length_is_refused_before_reading(server) -> None:
    def declared(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(50 * 1024 * 1024))
        h.end_headers()
        h.wfile.write(b"<p>" * 1000)
        h.close_connection = True

    with pytest.raises(CrawlError) as exc:
        fetch(server.add("/declared", declared))
    assert exc.value.kind == "too_large"


def test_compression_bomb_counts_decompressed_bytes(server) -> None:
    bomb = gzip.compress(b" " * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024
    url = server.page("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "too_large"


def test_gzip_page_is_decompressed(server) -> None:
    url = server.page("/gz", gzip.compress(b"<h1>zipped</h1>"), headers={"Content-Encoding": "gzip"})
    assert fetch(url).content == b"<h1>zipped</h1>"


def test_content_type_check(server) -> None:
    url = server.page("/doc.pdf", b"%PDF-1.4 ...", "application/pdf")
    with pytest.raises(CrawlError) as exc:
        extract_job(url)
    assert exc.value.kind == "not_a_job_page"
    assert "application/pdf" in exc.value.reason


def test_windows_1252_from_header_and_from_meta(server) -> None:
    text = "<h1>Caf\u00e9 \u201cna\u00efve\u201d \u2013 \u20ac5</h1>"
    body = text.encode("cp1252")
    header_url = server.page("/h", body, "text/html; charset=windows-1252")
    meta_url = server.page("/m", b'<meta charset="windows-1252">' + body, "text/html")
    latin_url = server.page("/l", body, "text/html; charset=ISO-8859-1")  # browsers read it as cp1252
    for url in (header_url, meta_url, latin_url):
        assert text in fetch(url).text
    utf8_url = server.page("/u", text.encode("utf-8"), "text/html")
    assert text in fetch(utf8_url).text


def test_429_honors_retry_after_then_succeeds(server) -> None:
    url = server.sequence("/busy", respond(429, "slow down", headers={"Retry-After": "1"}), respond(200, "<h1>ok</h1>"))
    started = time.monotonic()
    assert fetch(url).content == b"<h1>ok</h1>"
    assert time.monotonic() - started >= 0.95
    assert server.hits["/busy"] == 2


def test_429_retries_are_bounded_and_typed(server) -> None:
    url = server.page("/always-busy", "no", status=429, headers={"Retry-After": "0"})
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "http_429" and exc.value.transient
    assert server.hits["/always-busy"] == 3  # 1 + CRAWLER_MAX_RETRIES (2)


def test_retry_after_is_capped_by_settings(server, settings) -> None:
    settings(CRAWLER_MAX_RETRY_AFTER="0.2")
    url = server.sequence("/capped", respond(503, "", headers={"Retry-After": "3600"}), respond(200, "<p>ok</p>"))
    started = time.monotonic()
    assert fetch(url).content == b"<p>ok</p>"
    assert time.monotonic() - started < 2


def test_500_is_retried_then_reported(server) -> None:
    url = server.page("/broken", "oops", status=500)
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "http_5xx" and exc.value.status == 500
    assert server.hits["/broken"] == 3
    flaky = server.sequence("/flaky", respond(502), respond(200, "<p>back</p>"))
    assert fetch(flaky).content == b"<p>back</p>"


@pytest.mark.parametrize("status,kind", [(404, "not_found"), (410, "gone"), (403, "http_error")])
def test_client_errors_are_final(server, status: int, kind: str) -> None:
    url = server.page(f"/s{status}", "x", status=status)
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == kind and not exc.value.transient
    assert server.hits[f"/s{status}"] == 1


def test_slow_response_times_out(server, settings) -> None:
    settings(CRAWLER_MAX_RETRIES="0", CRAWLER_READ_TIMEOUT="0.3")
    url = server.add("/slow", slow(2.0, respond(200, "<p>late</p>")))
    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(url)
    assert exc.value.kind == "timeout" and exc.value.transient
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_typed(server) -> None:
    port = server.port
    server.stop()
    with pytest.raises(CrawlError) as exc:
        fetch(f"http://127.0.0.1:{port}/gone", retries=0)
    assert exc.value.kind == "connection_error"


def test_user_agent_names_the_product(server) -> None:
    fetch(server.page("/ua", "<p>x</p>"))
    agent = dict((k.lower(), v) for k, v in server.requests[-1][1].items())["user-agent"]
    assert agent.startswith("JobIngestBot/") and get_settings().crawler_contact_url in agent


def test_per_host_concurrency_limit(server, settings) -> None:
    settings(CRAWLER_PER_HOST_CONCURRENCY="2")
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def counted(h) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        h.send_body(200, b"<p>x</p>")

    url = server.add("/limited", counted)
    threads = [threading.Thread(target=fetch, args=(url,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.hits["/limited"] == 6
    assert state["max"] == 2


def test_robots_txt_is_respected_for_pages_and_cached(server) -> None:
    server.page(
        "/robots.txt",
        "User-agent: *\nDisallow: /private/\n\nUser-agent: JobIngestBot\nDisallow: /nobots/\n",
        "text/plain",
    )
    server.page("/private/job", "<h1>x</h1>")
    server.page("/nobots/job", "<h1>x</h1>")
    open_url = server.fixture("/jobs/open", "job_graph.html")
    assert extract_job(open_url).title
    for path in ("/nobots/job",):
        with pytest.raises(CrawlError) as exc:
            extract_job(server.url(path))
        assert exc.value.kind == "blocked_by_robots"
    assert server.hits["/nobots/job"] == 0
    assert server.hits["/robots.txt"] == 1  # cached per host
    # an agent with its own group follows that group only, so /private/ is open to it
    assert fetch(server.url("/private/job"), robots=True).content == b"<h1>x</h1>"
    assert server.hits["/robots.txt"] == 1


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _self_signed(tmp_path, name: str):
    """A certificate and key for `name` (self-signed, valid one day)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@needs_openssl
def test_https_by_checked_ip_keeps_the_hostname_for_sni(tmp_path, loopback_counts_as_public, monkeypatch) -> None:
    cert, key = _self_signed(tmp_path, "jobs.pelican.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_one() -> None:
        conn, _ = listener.accept()
        with conn:
            try:
                context.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                pass  # the client refuses our self-signed certificate

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    real = netguard.socket.getaddrinfo
    monkeypatch.setattr(
        netguard.socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "jobs.pelican.example" else host, *a, **k),
    )
    try:
        with pytest.raises(CrawlError) as exc:
            fetch(f"https://jobs.pelican.example:{port}/careers", retries=0)
    finally:
        thread.join(timeout=5)
        listener.close()
    assert names == ["jobs.pelican.example"]  # connected to 127.0.0.1, SNI still names the host
    assert exc.value.kind == "connection_error" and "CERTIFICATE_VERIFY_FAILED" in exc.value.reason


@needs_openssl
def test_https_pages_are_fetched_over_one_kept_connection(tmp_path, loopback_counts_as_public, monkeypatch) -> None:
    from ingest_app.core.crawl import transport

    cert, key = _self_signed(tmp_path, "jobs.pelican.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    tls = FixtureServer(tls=server_context)
    trusting = ssl.create_default_context(cafile=str(cert))  # the crawler trusts this one certificate
    monkeypatch.setattr(transport, "_tls_context", trusting)
    real = netguard.socket.getaddrinfo
    monkeypatch.setattr(
        netguard.socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "jobs.pelican.example" else host, *a, **k),
    )
    tls.page("/careers", "<h1>Careers</h1>")
    tls.page("/jobs/1", "<h1>Job</h1>")
    try:
        first = fetch(f"https://jobs.pelican.example:{tls.port}/careers", retries=0)
        second = fetch(f"https://jobs.pelican.example:{tls.port}/jobs/1", retries=0)
    finally:
        tls.stop()
    assert (first.status, first.content, second.content) == (200, b"<h1>Careers</h1>", b"<h1>Job</h1>")
    assert len(tls.sockets) == 1  # the second request reused the TLS connection


def test_a_path_with_spaces_and_accents_is_sent_percent_encoded(server) -> None:
    server.page("/jobs/Ing%C3%A9nieur%20dev", "<h1>x</h1>")

    result = fetch(server.url("/jobs/Ingénieur dev"))

    assert result.content == b"<h1>x</h1>"
    assert server.hits["/jobs/Ing%C3%A9nieur%20dev"] == 1


def test_a_chunked_answer_with_a_header_in_utf8_is_read_whole(server) -> None:
    def chunked(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for part in (b"<h1>Ing", "énieur".encode(), b"</h1>"):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        h.wfile.write(b"0\r\n\r\n")

    url = server.add("/chunked", chunked)

    result = fetch(url)

    assert result.text == "<h1>Ingénieur</h1>"

    def raw_header(h) -> None:  # a header value in UTF-8, as some servers send
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Note: caf\xc3\xa9\r\n")
        h.wfile.write(b"Content-Length: 9\r\n\r\n<p>ok</p>")

    result = fetch(server.add("/utf8-header", raw_header))

    assert result.content == b"<p>ok</p>" and result.headers["x-note"] == "café"


def test_kept_connections_stay_within_their_bounds(monkeypatch) -> None:
    from ingest_app.core.crawl import transport

    monkeypatch.setattr(transport, "_MAX_IDLE", 3)
    monkeypatch.setattr(transport, "_IDLE_PER_ORIGIN", 2)
    pool = transport.Transport()
    servers = [FixtureServer() for _ in range(3)]
    try:
        for srv in servers:
            srv.page("/", "<p>ok</p>")
        timeouts = transport.Timeouts(connect=5, read=5, write=5)
        for srv in servers:
            answers = [pool.request("GET", srv.url("/"), {}, None, timeouts) for _ in range(3)]  # 3 at once
            for answer in answers:
                assert b"".join(answer.iter_raw()) == b"<p>ok</p>"
                answer.close()
        kept = {origin[2]: len(conns) for origin, conns in pool._idle.items()}
    finally:
        pool.close()
        for srv in servers:
            srv.stop()
    # At most 2 kept per origin and 3 in all: the least recently used origin's went first.
    assert kept == {servers[1].port: 1, servers[2].port: 2}


def test_trickling_response_hits_the_total_deadline(server, settings) -> None:
    settings(CRAWLER_MAX_RETRIES="0", CRAWLER_TOTAL_TIMEOUT="1")

    def trickle(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(40):
            h.wfile.write(b"<p>" * 40)
            h.wfile.flush()
            time.sleep(0.1)

    started = time.monotonic()
    with pytest.raises(CrawlError) as exc:
        fetch(server.add("/trickle", trickle))
    assert exc.value.kind == "timeout"
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("encoding", ["deflate-zlib", "deflate-raw"])
def test_deflate_bodies_in_both_spellings(server, encoding: str) -> None:
    import zlib

    raw = b"<h1>deflated</h1>"
    if encoding == "deflate-zlib":
        body = zlib.compress(raw)
    else:
        packer = zlib.compressobj(wbits=-15)
        body = packer.compress(raw) + packer.flush()
    url = server.page("/deflate", body, headers={"Content-Encoding": "deflate"})
    assert fetch(url).content == raw


def test_malformed_urls_are_typed(server) -> None:
    for bad in ("http://", "http://exa mple.com/x", "not a url", ""):
        with pytest.raises(CrawlError) as exc:
            extract_job(bad)
        assert exc.value.kind == "invalid_url", bad


def test_unknown_host_is_final(monkeypatch) -> None:
    def nxdomain(*args, **kwargs):
        raise netguard.socket.gaierror(netguard.socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard.socket, "getaddrinfo", nxdomain)
    with pytest.raises(CrawlError) as exc:
        fetch("http://no-such-host.example/jobs")
    assert exc.value.kind == "not_found" and not exc.value.transient


def test_redirect_to_a_malformed_url_is_typed(server) -> None:
    for i, location in enumerate(("http://[bad", "http://example.com:99999/", "javascript:alert(1)")):
        url = server.redirect(f"/bad{i}", location)
        with pytest.raises(CrawlError) as exc:
            fetch(url)
        assert exc.value.kind == "invalid_url", location


def test_a_robots_txt_answering_5xx_means_crawl_nothing_for_now(server, settings) -> None:
    settings(CRAWLER_MAX_RETRIES="0")
    server.add("/robots.txt", lambda h: h.send_body(503, b"busy"))
    server.page("/jobs/1", "<h1>x</h1>")
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/jobs/1"), robots=True)
    assert exc.value.kind == "http_5xx" and "robots.txt could not be read" in exc.value.reason
    assert server.hits["/jobs/1"] == 0
    # A missing robots.txt (404) allows everything.
    clear_robots_cache()
    server.add("/robots.txt", lambda h: h.send_body(404, b"none"))
    assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
