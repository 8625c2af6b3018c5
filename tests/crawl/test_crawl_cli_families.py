"""`extract --source SPEC URL` reads a job of that board from its ATS API whatever the URL's host;
`dry-run` lists every family's demo board."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from devtools.demo.data import BOARD_KINDS
from ingest_app.cli import main

# Families whose extraction never reads the job page (Breezy's detail is the job page's JSON-LD).
API_KINDS = [k for k in BOARD_KINDS if k != "breezy"]


@pytest.mark.parametrize("kind", API_KINDS)
def test_extract_with_source_reads_the_ats_api_not_the_page(demo, capsys, kind) -> None:
    company = next(c for c in demo.site.companies.values() if c.kind == kind)
    source = next(s["source"] for s in demo.company_sources() if s["name"] == company.name)
    job = demo.site.jobs(company.slug)[0]
    url = demo.site.job_url(company.slug, job.id)
    demo.site.inject_failure(urlsplit(url).path, status=500, exact=True)  # the job page itself is down

    assert main(["extract", "--source", source, url]) == 0
    posting = json.loads(capsys.readouterr().out)
    assert posting["title"] == job.title and posting["source_url"] == url
    assert posting["posted_at"] == job.posted_at.isoformat()

    assert main(["extract", url]) == 1  # without the board, a local URL is just a page, and it is down
    assert json.loads(capsys.readouterr().out)["error"] == "http_5xx"


def test_dry_run_lists_each_new_familys_board(demo, capsys) -> None:
    for entry, company in zip(demo.company_sources(), demo.site.companies.values(), strict=True):
        if company.kind not in BOARD_KINDS:
            continue
        assert main(["dry-run", "--source", entry["source"]]) == 0
        assert json.loads(capsys.readouterr().out) == demo.site.listed_urls(company.slug)


def test_extract_with_a_source_that_does_not_own_the_url_is_refused(demo, capsys) -> None:
    source = next(s["source"] for s in demo.company_sources() if s["source"].startswith("recruitee:"))
    assert main(["extract", "--source", source, demo.base_url + "/somewhere/else"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["error"] == "invalid_url" and "not a job URL of recruitee:" in out["reason"]
    assert main(["extract", "--source", "monster:x", demo.base_url + "/x"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "invalid_url"
    assert main(["extract", "--source", source, "--hints", "{}", demo.base_url + "/x"]) == 1
    assert "not both" in json.loads(capsys.readouterr().out)["reason"]


def test_extract_a_public_job_url_reads_the_ats_api(server, settings, capsys) -> None:
    from tests.support.fixture_server import FIXTURES

    settings(SMARTRECRUITERS_API_BASE=server.url("/sr-api"))
    body = (FIXTURES / "families" / "smartrecruiters_posting.json").read_bytes()
    server.page("/sr-api/v1/companies/AcmeFreight/postings/744000051234567", body, "application/json")
    url = "https://jobs.smartrecruiters.com/AcmeFreight/744000051234567-warehouse-robotics-technician"
    assert main(["extract", url]) == 0
    posting = json.loads(capsys.readouterr().out)
    assert posting["title"] == "Warehouse Robotics Technician" and posting["source_url"] == url
    assert server.hits["/sr-api/v1/companies/AcmeFreight/postings/744000051234567"] == 1
