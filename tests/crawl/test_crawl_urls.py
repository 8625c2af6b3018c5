"""Canonical job URLs: one spelling per job, so listings dedupe and jobs stay unique."""

from __future__ import annotations

import pytest

from ingest_app.core.crawl import CrawlError, canonicalize_url, hints_for_url


@pytest.mark.parametrize(
    "raw,canonical",
    [
        (
            "HTTPS://Jobs.Example.COM:443/Careers/Backend?utm_source=x&utm_medium=y#apply",
            "https://jobs.example.com/Careers/Backend",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a?b=1&gh_src=abc&gclid=z&fbclid=q", "http://example.com:8080/a?b=1"),
        ("https://acme.example/careers?gh_jid=4012345&gh_src=linkedin", "https://acme.example/careers?gh_jid=4012345"),
        ("  https://user:secret@example.com/jobs/1  ", "https://example.com/jobs/1"),
        ("https://jobs.lever.co/x/1?lever-source=LinkedIn&lever-origin=applied", "https://jobs.lever.co/x/1"),
        ("https://b\u00fccher.example/jobs", "https://xn--bcher-kva.example/jobs"),
        ("http://[2001:DB8::1]:8000/x", "http://[2001:db8::1]:8000/x"),
        ("https://example.com/jobs?q=a%20b&page=2", "https://example.com/jobs?q=a+b&page=2"),
    ],
)
def test_canonical_spelling(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical
    assert canonicalize_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a url",
        "mailto:jobs@example.com",
        "javascript:alert(1)",
        "ftp://example.com/x",
        "http://",
        "http://exa mple.com/",
        "http://x:99999/",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_invalid_urls_are_typed(bad: str) -> None:
    with pytest.raises(CrawlError) as exc:
        canonicalize_url(bad)
    assert exc.value.kind == "invalid_url"


def test_well_known_ats_urls_carry_api_hints() -> None:
    assert hints_for_url("https://boards.greenhouse.io/acme/jobs/123") == {
        "source": "greenhouse",
        "token": "acme",
        "job_id": 123,
    }
    assert hints_for_url("https://job-boards.greenhouse.io/acme/jobs/123")["token"] == "acme"
    lever = "https://jobs.lever.co/stellar/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e"
    assert hints_for_url(lever) == {
        "source": "lever",
        "site": "stellar",
        "job_id": "0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e",
    }
    ashby = "https://jobs.ashbyhq.com/verdant/a1b2c3d4-0000-4000-8000-000000000001"
    assert hints_for_url(ashby)["org"] == "verdant"
    assert hints_for_url("https://example.com/jobs/123") == {}
