"""The demo/fixture site: every source kind crawls end to end, and the site changes on demand."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from devtools.demo.data import ALL_KINDS
from devtools.demo.site import DemoSite, demo_company_sources, start_demo_server
from ingest_app.core.crawl import CrawlError, extract_job, list_company_jobs

# What each family's answers say about a job (the demo data holds everything; an API may not).
CARRIES_PAY = {"greenhouse", "lever", "ashby", "careers", "recruitee", "pinpoint", "rippling", "breezy"}


def _employment(kind: str, data) -> str:
    if kind == "workday":  # Workday's timeType is only "Full time" or "Part time"
        return "part_time" if data.employment_type == "part_time" else "full_time"
    return data.employment_type


def test_every_demo_company_lists_and_extracts(demo) -> None:
    sources = demo.company_sources()
    assert [s["source"].split(":", 1)[0] for s in sources] == list(ALL_KINDS)
    assert sources == demo_company_sources(demo.base_url)
    for entry, company in zip(sources, demo.site.companies.values(), strict=True):
        jobs = list_company_jobs(entry["source"])
        assert [j.url for j in jobs] == demo.site.listed_urls(company.slug)
        assert 5 <= len(jobs) <= 8
        for listed, data in zip(jobs, demo.site.jobs(company.slug), strict=True):
            posting = extract_job(listed.url, listed.hints)
            assert posting.source_url == listed.url
            assert posting.title == data.title
            pay = (data.salary_min, data.salary_max, data.currency) if company.kind in CARRIES_PAY else (None,) * 3
            assert (posting.salary_min, posting.salary_max, posting.salary_currency) == pay, company.kind
            assert posting.employment_type == _employment(company.kind, data), company.kind
            assert posting.posted_at == data.posted_at, company.kind
            assert posting.description and "fictional company" in posting.description
            assert len(json.dumps(listed.hints)) < 300


def test_the_company_list_is_published_as_the_csv_the_import_reads(demo) -> None:
    from ingest_app.core.company_import import fetch_rows

    rows = fetch_rows(f"{demo.base_url}/companies.csv")

    assert [{"name": r.name, "source": r.input} for r in rows] == demo.company_sources()
    assert not [r for r in rows if r.error]


def test_listings_that_carry_postings_match_what_extraction_returns(demo) -> None:
    from ingest_app.core.crawl.sources import get_family

    for entry in demo.company_sources():
        family = get_family(entry["source"].split(":", 1)[0])
        if family.listing_postings is None:
            continue
        listing, postings = family.listing_postings(entry["source"].split(":", 1)[1])
        # The listing is list_jobs' own; only the jobs whose answer carried a posting have one.
        jobs = list_company_jobs(entry["source"])
        assert [(j.url, j.hints) for j in listing] == [(j.url, j.hints) for j in jobs], family.name
        assert listing.incomplete == jobs.incomplete and set(postings) <= {j.url for j in jobs}
        if family.name in ("smartrecruiters", "workable"):
            assert postings == {}, family.name  # partial postings (no description) in their listing
            continue
        pairs = [(job, postings[job.url]) for job in listing]
        assert pairs, family.name
        for job, posting in pairs:
            listed, extracted = posting.to_dict(), extract_job(job.url, job.hints).to_dict()
            if family.name == "greenhouse":  # the pay range only comes from the single-job answer
                pay = ("salary_min", "salary_max", "salary_currency", "salary_period")
                assert extracted["salary_min"] is not None and listed["salary_min"] is None
                listed = {k: v for k, v in listed.items() if k not in pay}
                extracted = {k: v for k, v in extracted.items() if k not in pay}
            assert listed == extracted, family.name


def test_demo_job_pages_carry_jsonld(demo) -> None:
    site = demo.site
    for company in site.companies.values():
        job = site.jobs(company.slug)[0]
        posting = extract_job(site.job_url(company.slug, job.id))  # the page, not the API
        assert posting.title == job.title
        assert posting.company == company.name
        assert posting.department == job.department
        assert posting.external_id == job.id


def test_site_drops_two_jobs_and_adds_one(demo) -> None:
    site = demo.site
    source = demo.company_sources()[0]["source"]
    before = [j.url for j in list_company_jobs(source)]
    slug = next(iter(site.companies))
    gone = site.jobs(slug)[:2]
    for job in gone:
        site.remove_job(slug, job.id)
    added = site.add_job(slug, title="Brand New Role")
    after = list_company_jobs(source)
    assert [j.url for j in after] == before[2:] + [site.job_url(slug, added.id)]
    assert after[-1].title == "Brand New Role"
    with pytest.raises(CrawlError) as exc:
        extract_job(before[0], {"source": "greenhouse", "token": slug, "job_id": int(gone[0].id)})
    assert exc.value.kind == "not_found"
    with pytest.raises(CrawlError) as exc:
        extract_job(before[0])
    assert exc.value.kind == "not_found"


def test_rotating_listing_swaps_one_posting_after_the_first_listing(settings) -> None:
    site = DemoSite.default(rotate=True)
    site.rotate_min_interval = 0
    with start_demo_server(site) as srv:
        settings(srv.settings_env())
        for entry in srv.company_sources():
            first = [j.url for j in list_company_jobs(entry["source"])]
            second = list_company_jobs(entry["source"])
            urls = [j.url for j in second]
            assert urls[:-1] == first[1:] and urls[-1] not in first, entry
            if entry["source"].startswith("ashby:"):
                ashby_hints = {
                    "source": "ashby",
                    "org": entry["source"].split(":")[1],
                    "job_id": first[0].rsplit("/", 1)[1],
                }
                assert extract_job(first[0], ashby_hints).title  # rotated out, still readable by id


def test_latency_and_failure_injection(demo) -> None:
    site = demo.site
    slug = next(iter(site.companies))
    job = site.jobs(slug)[0]
    url = site.job_url(slug, job.id)
    site.set_latency(0.3, "/jobs/")
    started = time.monotonic()
    assert extract_job(url).title == job.title
    assert time.monotonic() - started >= 0.3
    site.set_latency(0.0, "/jobs/")
    site.inject_failure("/greenhouse/", 503, times=1)
    assert list_company_jobs(f"greenhouse:{slug}")  # retried past one 503
    site.inject_failure("/jobs/", 429, retry_after=0)
    with pytest.raises(CrawlError) as exc:
        extract_job(url)
    assert exc.value.kind == "http_429"
    site.clear_failures()
    assert extract_job(url).title == job.title


def test_generated_site_serves_big_jsonld_pages_with_pagination(settings) -> None:
    site = DemoSite.generate(companies=4, jobs_per_company=12, page_kb=50, page_size=5)
    with start_demo_server(site) as srv:
        settings(srv.settings_env())
        careers = srv.company_sources()[3]
        assert careers["source"].startswith("careers:")
        jobs = list_company_jobs(careers["source"])
        assert len(jobs) == 12  # 3 pages of 5
        page = httpx.get(jobs[0].url)
        assert 45_000 <= len(page.content) <= 56_000
        assert page.text.count("<a ") >= 200 and "application/ld+json" in page.text
        assert extract_job(jobs[0].url).salary_min is not None
        assert sum(len(site.jobs(c)) for c in site.companies) == 48


def test_stop_closes_the_listener_and_keepalive_connections() -> None:
    srv = start_demo_server()
    with httpx.Client() as client:
        assert client.get(srv.base_url + "/").status_code == 200
        assert "Demo data — fictional companies" in client.get(srv.base_url + "/").text
        srv.stop()
        with pytest.raises(httpx.TransportError):
            client.get(srv.base_url + "/")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1)


def test_demo_site_command_serves_until_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest_app", "demo-site", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.getcwd(),
    )
    try:
        lines = []
        while not lines or lines[-1] != "}\n":
            line = proc.stdout.readline()
            assert line, "the command exited before printing its address"
            lines.append(line)
        info = json.loads("".join(lines))
        assert info["base_url"].startswith("http://127.0.0.1:")
        assert [c["name"] for c in info["companies"]][0] == "Northwind Robotics"
        assert httpx.get(info["base_url"] + "/robots.txt").status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_extract_job_is_thread_safe(demo) -> None:
    from concurrent.futures import ThreadPoolExecutor

    listed = [job for entry in demo.company_sources() for job in list_company_jobs(entry["source"])]
    with ThreadPoolExecutor(8) as pool:
        postings = list(pool.map(lambda j: extract_job(j.url, j.hints), listed * 3))
    assert [p.source_url for p in postings] == [j.url for j in listed * 3]
    assert all(p.title for p in postings)
