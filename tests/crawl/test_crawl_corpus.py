"""The extraction corpus: every case through the real `extract_job` (local HTTP server and ATS API
answers), every class of page covered by at least two fixtures."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from ingest_app.cli import main
from ingest_app.core.crawl import extract_job
from tests.crawl.corpus import field_matches, load_cases, serve

CASES = load_cases()


@pytest.fixture
def corpus(server, settings):
    cases, env = serve(server)
    settings(env)
    return {case.name: case for case in cases}


def test_every_class_has_at_least_two_fixtures() -> None:
    files: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        for cls in case.classes:
            files[cls].add(f"{case.file}#{case.url}")
    assert len(files) >= 20
    assert {cls: len(f) for cls, f in files.items() if len(f) < 2} == {}


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_corpus_case_extracts_its_answer(corpus, name) -> None:
    case = corpus[name]
    posting = extract_job(case.url, case.hints).to_dict()
    wrong = {
        field: (expected, posting.get(field))
        for field, expected in case.expect.items()
        if not field_matches(expected, posting.get(field))
    }
    assert wrong == {}


def test_extract_url_of_a_lever_job_names_the_company(corpus, capsys) -> None:
    """What a user types: `extract URL` with nothing but the job's address."""
    case = corpus["lever_permanent_extract_url"]
    assert main(["extract", case.url]) == 0
    posting = json.loads(capsys.readouterr().out)
    assert posting["company"] == "Aurora Freight"
    assert (posting["salary_min"], posting["salary_max"], posting["salary_period"]) == (90000, 110000, "year")


def test_a_listed_lever_job_does_not_fetch_the_hosted_page(corpus, server) -> None:
    """In a run the company is known from the user's list: no extra request per job."""
    case = corpus["lever_permanent_extract_url"]
    site, job_id = case.url.rstrip("/").split("/")[-2:]
    posting = extract_job(case.url, {"source": "lever", "site": site, "job_id": job_id})
    assert posting.company is None and posting.title == "Platform Engineer"
    assert server.hits["/hosted/lever/4a2c3b5e"] == 0


def test_company_stays_empty_when_the_hosted_page_is_gone(corpus, server) -> None:
    case = corpus["lever_permanent_extract_url"]
    server.page("/hosted/lever/4a2c3b5e", "gone", status=404)
    posting = extract_job(case.url)
    assert posting.company is None and posting.title == "Platform Engineer"
