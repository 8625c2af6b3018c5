"""Company sources against fixture files in the real ATS response shapes, and careers pages."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest_app.core.crawl import CrawlError, extract_job, list_company_jobs
from tests.support.fixture_server import FIXTURES


@pytest.fixture
def ats(server, settings):
    settings({f"{name}_API_BASE": server.url(f"/{name.lower()}") for name in ("GREENHOUSE", "LEVER", "ASHBY")})
    return server


def test_greenhouse_lists_canonical_deduped_urls(ats) -> None:
    ats.json_fixture("/greenhouse/v1/boards/acmerockets/jobs", "greenhouse_board.json")
    jobs = list_company_jobs("greenhouse:acmerockets")
    assert [j.url for j in jobs] == [
        "https://boards.greenhouse.io/acmerockets/jobs/4012345",
        "https://boards.greenhouse.io/acmerockets/jobs/4012346",
    ]
    assert jobs[0].title == "Senior Rocket Software Engineer"
    assert jobs[0].hints == {"source": "greenhouse", "token": "acmerockets", "job_id": 4012345}
    assert len(json.dumps(jobs[0].hints)) < 200


def test_greenhouse_extract_from_api_decodes_twice_and_sanitizes(ats) -> None:
    ats.json_fixture("/greenhouse/v1/boards/acmerockets/jobs/4012345", "greenhouse_job.json")
    url = "https://boards.greenhouse.io/acmerockets/jobs/4012345"
    posting = extract_job(url, {"source": "greenhouse", "token": "acmerockets", "job_id": 4012345})
    assert posting.source_url == url
    assert posting.title == "Senior Rocket Software Engineer"
    assert posting.company == "Acme Rockets"
    assert posting.location == "Lisbon, Portugal"
    assert posting.department == "Flight Software"
    assert posting.employment_type == "full_time" and posting.workplace_type == "hybrid"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (90000, 120000, "EUR")
    assert posting.posted_at == date(2026, 2, 20)
    assert posting.external_id == "4012345"
    assert posting.description == (
        'Build flight software at Acme Rockets & ship it.\n\nYou will\n\n- Write Rust\n- Test "everything"'
    )
    # without hints, a greenhouse URL still goes to the API
    assert extract_job(url).title == posting.title


def test_unknown_greenhouse_board_is_not_found(ats) -> None:
    with pytest.raises(CrawlError) as exc:
        list_company_jobs("greenhouse:nobody")
    assert exc.value.kind == "not_found" and "nobody" in exc.value.reason


def test_lever_lists_and_extracts(ats) -> None:
    ats.json_fixture("/lever/v0/postings/stellarcargo", "lever_postings.json")
    jobs = list_company_jobs("lever:stellarcargo")
    assert [j.url for j in jobs] == [
        "https://jobs.lever.co/stellarcargo/0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e",
        "https://jobs.lever.co/stellarcargo/1d9f8b3c-2222-4b6f-8e4f-6a2b3c4d5e6f",
    ]
    first = json.loads((FIXTURES / "lever_postings.json").read_text())[0]
    ats.page(f"/lever/v0/postings/stellarcargo/{first['id']}", json.dumps(first), "application/json")
    posting = extract_job(jobs[0].url, jobs[0].hints | {"company": "Stellar Cargo"})
    assert posting.title == "Orbital Mechanics Analyst"
    assert posting.company == "Stellar Cargo"
    assert posting.location == "Toronto, ON; Montreal, QC"
    assert posting.department == "Mission Design"
    assert posting.employment_type == "part_time" and posting.workplace_type == "hybrid"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (85000, 105000, "CAD")
    assert posting.posted_at == date(2026, 1, 1)
    assert posting.description == (
        "Plan orbits for fictional satellites.\n\nRequirements\n\n- Physics degree\n"
        "- Python\n\nWe offer a telescope budget."
    )
    assert posting.apply_url.endswith("/apply")


def _lever_board(count: int, honour_skip: bool):
    postings = [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "text": f"Role {i}",
            "hostedUrl": f"https://jobs.lever.co/big/00000000-0000-4000-8000-{i:012d}",
            "categories": {},
        }
        for i in range(count)
    ]

    def route(h) -> None:
        q = parse_qs(urlsplit(h.path).query)
        skip = int(q.get("skip", ["0"])[0]) if honour_skip else 0
        limit = int(q.get("limit", ["100"])[0])
        h.send_body(200, json.dumps(postings[skip : skip + limit]).encode(), "application/json")

    return route


def test_lever_pages_until_a_short_page(ats) -> None:
    ats.add("/lever/v0/postings/big", _lever_board(250, honour_skip=True))
    jobs = list_company_jobs("lever:big")
    assert len(jobs) == 250 and len({j.url for j in jobs}) == 250
    assert ats.hits["/lever/v0/postings/big"] == 3


def test_lever_board_ignoring_skip_does_not_loop(ats) -> None:
    ats.add("/lever/v0/postings/stuck", _lever_board(100, honour_skip=False))
    jobs = list_company_jobs("lever:stuck")
    assert len(jobs) == 100
    assert ats.hits["/lever/v0/postings/stuck"] == 2


def test_ashby_skips_unlisted_and_uses_workplace_type(ats) -> None:
    ats.json_fixture("/ashby/posting-api/job-board/verdantfarms", "ashby_board.json")
    jobs = list_company_jobs("ashby:verdantfarms")
    assert [j.title for j in jobs] == ["Hydroponics Lead", "Remote Agronomist"]
    assert jobs[1].url == "https://jobs.ashbyhq.com/verdantfarms/a1b2c3d4-0000-4000-8000-000000000003"
    posting = extract_job(jobs[0].url, jobs[0].hints)
    assert posting.workplace_type == "hybrid"  # isRemote is true, but the job is hybrid
    assert posting.location == "Austin, TX; Denver, CO"
    assert posting.employment_type == "full_time"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (95000, 120000, "USD")
    assert posting.description == "Grow lettuce indoors.\n\n- Own the nutrient plan"
    remote = extract_job(jobs[1].url, jobs[1].hints)
    assert remote.workplace_type == "remote" and remote.employment_type == "contract"
    assert ats.hits["/ashby/posting-api/job-board/verdantfarms"] == 1  # the board is cached per process


def test_ashby_job_gone_from_board_is_not_found(ats) -> None:
    ats.json_fixture("/ashby/posting-api/job-board/verdantfarms", "ashby_board.json")
    with pytest.raises(CrawlError) as exc:
        extract_job(
            "https://jobs.ashbyhq.com/verdantfarms/x",
            {"source": "ashby", "org": "verdantfarms", "job_id": "no-such-id"},
        )
    assert exc.value.kind == "not_found"


def _careers_route(server):
    pages = {
        p: (FIXTURES / f"careers_page{p}.html").read_bytes().replace(b"{{BASE}}", server.base_url.encode())
        for p in (1, 2)
    }

    def route(h) -> None:
        page = int(parse_qs(urlsplit(h.path).query).get("page", ["1"])[0])
        h.send_body(200, pages.get(page, pages[1]))

    return route


def test_careers_page_finds_jobs_among_noise_and_follows_pagination(server) -> None:
    server.add("/careers/", _careers_route(server))
    jobs = list_company_jobs(f"careers:{server.url('/careers/')}")
    assert [j.url for j in jobs] == [
        server.url("/careers/dispatcher-1021"),
        server.url("/careers/warehouse-associate-1022"),
        "https://boards.greenhouse.io/pelicanfreight/jobs/7788001",
        server.url("/careers/forklift-driver-1023"),
    ]
    assert jobs[0].title == "Dispatcher"
    assert jobs[2].hints == {"source": "greenhouse", "token": "pelicanfreight", "job_id": 7788001}
    assert server.hits["/careers/"] == 2  # page 2 once, no loop back to page 1


def test_careers_page_with_jsonld_itemlist(server) -> None:
    url = server.fixture("/jobs", "careers_itemlist.html")
    jobs = list_company_jobs(f"careers:{url}")
    assert [j.url for j in jobs] == [server.url("/positions/alpha"), server.url("/positions/beta")]


def test_careers_page_with_zero_jobs_lists_nothing(server) -> None:
    url = server.fixture("/careers/", "careers_empty.html")
    assert list_company_jobs(f"careers:{url}") == []


def test_careers_page_errors_are_typed(server) -> None:
    server.page("/robots.txt", "User-agent: *\nDisallow: /hidden/\n", "text/plain")
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(f"careers:{server.url('/hidden/careers')}")
    assert exc.value.kind == "blocked_by_robots"
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(f"careers:{server.url('/missing')}")
    assert exc.value.kind == "not_found"
    with pytest.raises(CrawlError) as exc:
        list_company_jobs("careers:ftp://example.com/jobs")
    assert exc.value.kind == "invalid_url"


def test_careers_listing_fails_when_a_later_page_fails(server) -> None:
    """An incomplete listing must not look complete: stage 3 would archive the missing jobs."""
    page1 = '<main><a href="/careers/a-1">A</a><a href="/careers/?page=2" rel="next">Next</a></main>'

    def route(h) -> None:
        if "page=2" in h.path:
            h.send_body(503, b"down", "text/plain")
        else:
            h.send_body(200, page1.encode())

    server.add("/careers/", route)
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(f"careers:{server.url('/careers/')}")
    assert exc.value.kind == "http_5xx"


def test_careers_listing_skips_a_missing_later_page(server) -> None:
    page1 = '<main><a href="/careers/a-1">A</a><a href="/careers/?page=2" rel="next">Next</a></main>'

    def route(h) -> None:
        if "page=2" in h.path:
            h.send_body(404, b"no such page", "text/html")
        else:
            h.send_body(200, page1.encode())

    server.add("/careers/", route)
    jobs = list_company_jobs(f"careers:{server.url('/careers/')}")
    assert [j.url for j in jobs] == [server.url("/careers/a-1")]


def test_job_cards_with_their_own_header_are_kept(server) -> None:
    page = (
        '<header class="site-header"><a href="/careers/logo-link-role">Logo</a></header><main>'
        '<article class="card"><header><h3><a href="/careers/card-role-1">Card role</a></h3></header></article>'
        '<section><ul><li><footer><a href="/careers/card-role-2">Second</a></footer></li></ul></section>'
        '</main><footer><a href="/careers/footer-role">Footer</a></footer>'
    )
    url = server.page("/careers/", page)
    jobs = list_company_jobs(f"careers:{url}")
    assert [j.url for j in jobs] == [server.url("/careers/card-role-1"), server.url("/careers/card-role-2")]


def test_careers_listing_cut_at_the_page_limit_says_it_is_incomplete(settings, server) -> None:
    server.add("/careers/", _careers_route(server))
    complete = list_company_jobs(f"careers:{server.url('/careers/')}")
    assert complete.incomplete is None
    settings(CRAWLER_MAX_PAGES="1")
    cut = list_company_jobs(f"careers:{server.url('/careers/')}")
    assert len(cut) < len(complete)
    assert "more than 1 pages" in cut.incomplete
