"""One family table: specs in every spelling, `match_url` for every family's public board and job
URL forms, job hints for `extract URL`, and POST through the safe fetcher."""

from __future__ import annotations

import json
import time

import pytest

from ingest_app.core.crawl import CrawlError, hints_for_url
from ingest_app.core.crawl.sources import FAMILIES, FAMILY_NAMES, get_family, match_url
from ingest_app.core.crawl.sources.common import post_json
from ingest_app.core.models import SOURCE_KINDS
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, parse_source_spec
from tests.support.fixture_server import respond


def test_the_family_table_is_the_one_list_of_source_kinds() -> None:
    assert FAMILY_NAMES == SOURCE_KINDS
    assert len(FAMILY_NAMES) == 14
    for family in FAMILIES:
        assert family.example.startswith(family.name + ":") and family.label and family.listing_carries
        assert callable(family.list_jobs)
        assert str(parse_source_spec(family.example)).startswith(family.name + ":")  # every example is valid
        if family.name != "careers":
            assert family.extract is not None and family.job_hints is not None
            assert family.match_url(family.value_example) in (None, str(parse_source_spec(family.example)))
    rich = {f.name for f in FAMILIES if f.listing_postings}
    assert rich == {
        "greenhouse", "lever", "ashby", "smartrecruiters", "workable", "recruitee", "personio", "teamtailor", "pinpoint"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("greenhouse:acme", "greenhouse:acme"),
        ("greenhouse:https://boards.greenhouse.io/acme", "greenhouse:acme"),
        ("greenhouse:https://job-boards.eu.greenhouse.io/acme/jobs/4012345", "greenhouse:acme"),
        ("greenhouse:https://boards.greenhouse.io/embed/job_board?for=acme", "greenhouse:acme"),
        ("lever:https://jobs.lever.co/acme/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e/apply", "lever:acme"),
        ("ashby:https://jobs.ashbyhq.com/acme", "ashby:acme"),
        (
            "Workday:https://acme.wd5.myworkdayjobs.com/en-US/External/",
            "workday:https://acme.wd5.myworkdayjobs.com/External",
        ),
        (
            "workday:https://acme.wd5.myworkdayjobs.com/External/job/Berlin/Engineer_R-1",
            "workday:https://acme.wd5.myworkdayjobs.com/External",
        ),
        (
            "workday:https://wd3.myworkdaysite.com/en-US/recruiting/acme/External",
            "workday:https://wd3.myworkdaysite.com/recruiting/acme/External",
        ),
        (
            "smartrecruiters:https://jobs.smartrecruiters.com/Acme",
            "smartrecruiters:https://jobs.smartrecruiters.com/Acme",
        ),
        ("smartrecruiters:Acme", "smartrecruiters:https://jobs.smartrecruiters.com/Acme"),
        (
            "smartrecruiters:https://careers.smartrecruiters.com/Acme/744000051234567-x",
            "smartrecruiters:https://jobs.smartrecruiters.com/Acme",
        ),
        ("workable:https://apply.workable.com/acme", "workable:https://apply.workable.com/acme/"),
        ("workable:https://acme.workable.com/", "workable:https://apply.workable.com/acme/"),
        ("recruitee:https://acme.recruitee.com/o/backend", "recruitee:https://acme.recruitee.com"),
        ("recruitee:https://careers.acme.example/", "recruitee:https://careers.acme.example"),
        ("personio:https://acme.jobs.personio.de/", "personio:https://acme.jobs.personio.de"),
        ("personio:https://acme.jobs.personio.com/job/12?language=en", "personio:https://acme.jobs.personio.com"),
        ("teamtailor:https://acme.teamtailor.com/jobs", "teamtailor:https://acme.teamtailor.com"),
        ("bamboohr:https://acme.bamboohr.com/careers", "bamboohr:https://acme.bamboohr.com"),
        ("pinpoint:https://acme.pinpointhq.com/", "pinpoint:https://acme.pinpointhq.com"),
        ("rippling:https://ats.rippling.com/acme/jobs", "rippling:https://ats.rippling.com/acme/jobs"),
        ("rippling:acme", "rippling:https://ats.rippling.com/acme/jobs"),
        ("breezy:https://acme.breezy.hr/", "breezy:https://acme.breezy.hr"),
        ("breezy:http://127.0.0.1:8001/breezy/acme/", "breezy:http://127.0.0.1:8001/breezy/acme"),
    ],
)
def test_specs_are_stored_normalized(text: str, spec: str) -> None:
    assert str(parse_source_spec(text)) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("icims:acme", "FAMILY:BOARD_URL"),
        ("workday:acme", "board URL"),
        ("workday:https://acme.wd5.myworkdayjobs.com/", "names its site"),
        ("workday:https://careers.acme.example/External", "/TENANT/SITE"),
        ("recruitee:", "needs a value"),
        ("recruitee:ftp://acme.recruitee.com/", "http"),
        ("workable:https://apply.workable.com/", "names the account"),
        ("greenhouse:https://example.com/acme", "boards.greenhouse.io/TOKEN"),
        ("bamboohr:https://" + "a" * 2100 + ".com/", "at most 2048"),
    ],
)
def test_bad_specs_say_how_to_write_them(text: str, message: str) -> None:
    with pytest.raises(InvalidSourceSpec, match=message):
        parse_source_spec(text)


@pytest.mark.parametrize(
    ("url", "spec", "hints"),
    [
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Berlin/Engineer_R-1",
            "workday:https://acme.wd5.myworkdayjobs.com/External",
            {"board": "https://acme.wd5.myworkdayjobs.com/External", "path": "/job/Berlin/Engineer_R-1"},
        ),
        (
            "https://wd3.myworkdaysite.com/recruiting/acme/External/job/Remote/Analyst_R-2",
            "workday:https://wd3.myworkdaysite.com/recruiting/acme/External",
            {"path": "/job/Remote/Analyst_R-2"},
        ),
        (
            "https://jobs.smartrecruiters.com/Acme/744000051234567-warehouse-robotics-technician",
            "smartrecruiters:https://jobs.smartrecruiters.com/Acme",
            {"job_id": "744000051234567"},
        ),
        (
            "https://apply.workable.com/acme/j/A1B2C3D4E5/",
            "workable:https://apply.workable.com/acme/",
            {"job_id": "A1B2C3D4E5"},
        ),
        (
            "https://acme.recruitee.com/o/backend-developer",
            "recruitee:https://acme.recruitee.com",
            {"job_id": "backend-developer"},
        ),
        (
            "https://acme.jobs.personio.de/job/1204567?language=en",
            "personio:https://acme.jobs.personio.de",
            {"job_id": "1204567"},
        ),
        (
            "https://acme.teamtailor.com/jobs/5512001-driver",
            "teamtailor:https://acme.teamtailor.com",
            {"job_id": "5512001"},
        ),
        ("https://acme.bamboohr.com/careers/41", "bamboohr:https://acme.bamboohr.com", {"job_id": "41"}),
        ("https://acme.bamboohr.com/jobs/view.php?id=41", "bamboohr:https://acme.bamboohr.com", {"job_id": "41"}),
        (
            "https://acme.pinpointhq.com/en/postings/9d3a5f0c-2b1e-4c8d-9f7a-6e5d4c3b2a10",
            "pinpoint:https://acme.pinpointhq.com",
            {"job_id": "9d3a5f0c-2b1e-4c8d-9f7a-6e5d4c3b2a10"},
        ),
        (
            "https://ats.rippling.com/acme/jobs/3f2b1a09-8c7d-4e6f-a5b4-c3d2e1f0a9b8",
            "rippling:https://ats.rippling.com/acme/jobs",
            {"job_id": "3f2b1a09-8c7d-4e6f-a5b4-c3d2e1f0a9b8"},
        ),
        (
            "https://acme.breezy.hr/p/7c1d2e3f4a5b-forklift-operator",
            "breezy:https://acme.breezy.hr",
            {"job_id": "7c1d2e3f4a5b"},
        ),
    ],
)
def test_public_job_urls_are_recognized_and_carry_hints(url: str, spec: str, hints: dict) -> None:
    assert match_url(url) == spec
    found = hints_for_url(url)
    assert found["source"] == spec.split(":", 1)[0]
    assert found.items() >= hints.items()


@pytest.mark.parametrize(
    ("url", "spec"),
    [
        ("https://boards.greenhouse.io/acme", "greenhouse:acme"),
        ("https://job-boards.greenhouse.io/acme/jobs/123", "greenhouse:acme"),
        ("https://jobs.eu.lever.co/acme", "lever:acme"),
        ("https://jobs.ashbyhq.com/acme/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e", "ashby:acme"),
        ("https://acme.wd1.myworkdayjobs.com/Careers", "workday:https://acme.wd1.myworkdayjobs.com/Careers"),
        ("https://www.bamboohr.com/pricing", None),
        ("https://www.teamtailor.com/en/", None),
        ("https://recruitee.com/", None),
        ("https://a.b.recruitee.com/", None),
        ("https://example.com/careers", None),
        ("not a url", None),
        ("https://[::1", None),
    ],
)
def test_board_urls_belong_to_their_family_only(url: str, spec: str | None) -> None:
    assert match_url(url) == spec


def test_a_job_url_outside_the_board_has_no_hints() -> None:
    board = "http://127.0.0.1:9/recruitee/acme"
    assert get_family("recruitee").job_hints(board, "http://127.0.0.1:9/recruitee/other/o/x") is None
    assert get_family("recruitee").job_hints(board, board + "/o/x") == {
        "source": "recruitee",
        "board": board,
        "job_id": "x",
    }
    assert hints_for_url("https://acme.recruitee.com/about") == {}
    assert hints_for_url("https://acme.recruitee.com/o/" + "x" * 3000) == {}


def test_long_hostile_urls_match_quickly() -> None:
    started = time.monotonic()
    for url in (
        "https://" + "a." * 120 + "myworkdayjobs.com/" + "en-US/" * 300,
        "https://acme.wd5.myworkdayjobs.com/" + "a" * 5000,
        "https://jobs.smartrecruiters.com/" + "-" * 5000,
        "https://acme.recruitee.com/o/" + "%2F" * 3000,
    ):
        match_url(url)
        hints_for_url(url)
    assert time.monotonic() - started < 1.0


# ----- POST through the safe fetcher -------------------------------------------------------------------


def test_post_sends_the_json_body_with_the_fetchers_headers(server) -> None:
    url = server.page("/api", '{"ok": true}', "application/json")
    assert post_json(url, {"offset": 20}) == {"ok": True}
    path, body = server.posts[0]
    assert (path, json.loads(body)) == ("/api", {"offset": 20})
    headers = server.requests[0][1]
    assert headers["Content-Type"] == "application/json" and get_settings().user_agent == headers["User-Agent"]


def test_post_to_a_private_address_is_refused_before_connecting(server, settings) -> None:
    settings(CRAWLER_ALLOW_PRIVATE_HOSTS="0")
    url = server.page("/api", "{}", "application/json")
    with pytest.raises(CrawlError) as exc:
        post_json(url, {})
    assert exc.value.kind == "blocked_address" and server.posts == []


def test_post_retries_429_after_retry_after_and_never_follows_a_redirect(server) -> None:
    url = server.sequence(
        "/busy", respond(429, "", headers={"Retry-After": "0"}), respond(200, "[1]", "application/json")
    )
    assert post_json(url, {}) == [1] and len(server.posts) == 2
    moved = server.redirect("/moved", server.url("/elsewhere"), 307)
    with pytest.raises(CrawlError) as exc:
        post_json(moved, {})
    assert exc.value.kind == "http_error" and "redirected" in exc.value.reason
    assert server.hits["/elsewhere"] == 0


def test_post_answer_size_is_capped(server, settings) -> None:
    settings(CRAWLER_MAX_API_BYTES="1000")
    url = server.page("/big", json.dumps(["x" * 5000]), "application/json")
    with pytest.raises(CrawlError) as exc:
        post_json(url, {})
    assert exc.value.kind == "too_large"


@pytest.mark.parametrize(
    ("spec", "url", "hints"),
    [
        (
            "greenhouse:acme",
            "https://careers.acme.example/open-roles?gh_jid=4012345",
            {"token": "acme", "job_id": 4012345},
        ),
        ("greenhouse:acme", "https://careers.acme.example/jobs/4012345", {"token": "acme", "job_id": 4012345}),
        (
            "lever:acme",
            "https://careers.acme.example/o/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e",
            {"site": "acme", "job_id": "0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e"},
        ),
        (
            "ashby:acme",
            "https://acme.example/careers/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e/application",
            {"org": "acme"},
        ),
        ("recruitee:https://careers.acme.example/", "https://careers.acme.example/o/backend", {"job_id": "backend"}),
        (
            "workday:https://jobs.acme.example/recruiting/acme/External",
            "https://jobs.acme.example/recruiting/acme/External/job/Berlin/X_R-1",
            {"path": "/job/Berlin/X_R-1"},
        ),
    ],
)
def test_a_job_of_a_given_board_is_recognized_on_any_host(spec: str, url: str, hints: dict) -> None:
    from ingest_app.core.crawl.service import source_hints

    found = source_hints(spec, url)
    assert found["source"] == spec.split(":", 1)[0] and found.items() >= hints.items()
    with pytest.raises(CrawlError) as exc:
        source_hints(spec, "https://elsewhere.example/about")
    assert exc.value.kind == "invalid_url"
