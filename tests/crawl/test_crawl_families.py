"""The board-URL families against a local server answering in their endpoints' real shapes:
listing (with pagination), detail, an empty board, a missing board, a malformed answer."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest_app.core.crawl import CrawlError, extract_job, extract_job_for_source, list_company_jobs
from ingest_app.core.crawl.sources import get_family, recruitee, smartrecruiters
from tests.support.fixture_server import FIXTURES

F = FIXTURES / "families"


@pytest.fixture
def ats(server, settings):
    settings(
        SMARTRECRUITERS_API_BASE=server.url("/sr-api"),
        WORKABLE_API_BASE=server.url("/wk-api"),
        RIPPLING_API_BASE=server.url("/rp-api"),
    )
    yield server  # the crawl conftest clears every board cache around each test


def _text(name: str, server) -> bytes:
    return (F / name).read_bytes().replace(b"{{BASE}}", server.base_url.encode())


def _json_route(server, path: str, name: str) -> None:
    server.page(path, _text(name, server), "application/json")


def _query(h) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(h.path).query).items()}


# ----- Workday ------------------------------------------------------------------------------------

WD = "/recruiting/acmefreight/External"
WD_API = "/wday/cxs/acmefreight/External"


def _wd_posting(n: int, city: str = "Berlin") -> dict:
    return {
        "title": f"Parcel Handler {n}",
        "externalPath": f"/job/{city}/Parcel-Handler-{n}_R-{20000 + n}",
        "locationsText": f"{city}, Germany",
        "postedOn": "Posted 30+ Days Ago",
        "bulletFields": [f"R-{20000 + n}"],
    }


def _workday_route(postings: list[dict], *, total: int | None = None, facets=None, by_facet=None):
    def route(h) -> None:
        body = json.loads(h.body)
        offset, limit, applied = body["offset"], body["limit"], body["appliedFacets"]
        chosen = postings
        if applied:
            ((name, values),) = applied.items()
            chosen = by_facet[values[0]]
        page = chosen[offset : offset + limit]
        data = {"total": (total if total is not None and not applied else len(chosen)) if offset == 0 else 0}
        data["jobPostings"] = page
        if offset == 0 and not applied:
            data["facets"] = facets or []
        h.send_body(200, json.dumps(data).encode(), "application/json")

    return route


def test_workday_pages_by_twenty_with_the_total_from_the_first_page(ats) -> None:
    postings = [_wd_posting(n) for n in range(45)]
    ats.add(WD_API + "/jobs", _workday_route(postings))
    board = ats.url(WD)
    jobs = list_company_jobs(f"workday:{board}")
    assert [j.url for j in jobs] == [board + p["externalPath"] for p in postings]
    bodies = [json.loads(body) for path, body in ats.posts]
    assert [b["offset"] for b in bodies] == [0, 20, 40]
    assert all(b["limit"] == 20 and b["appliedFacets"] == {} and b["searchText"] == "" for b in bodies)
    assert jobs[0].hints == {"source": "workday", "board": board, "path": postings[0]["externalPath"]}
    assert jobs[0].title == "Parcel Handler 0" and jobs[0].external_id == "R-20000"
    assert not getattr(jobs, "incomplete", None)


def test_workday_board_on_its_public_host_shape(ats) -> None:
    ats.add(WD_API + "/jobs", lambda h: h.send_body(200, _text("workday_jobs.json", ats), JSON))
    board = ats.url(WD)
    jobs = list_company_jobs(f"workday:{board}/")
    assert [(j.url, j.title, j.external_id) for j in jobs] == [
        (board + "/job/Berlin/Senior-Payments-Engineer_R-10442", "Senior Payments Engineer", "R-10442"),
        (board + "/job/Hamburg-Hafen/Lagerist--m-w-d-_R-10450-1", "Lagerist (m/w/d)", "R-10450"),
    ]
    assert len(ats.posts) == 1  # the total (2) fits in the first page


def test_workday_detail_is_one_normalized_posting(ats) -> None:
    path = "/job/Berlin/Senior-Payments-Engineer_R-10442"
    _json_route(ats, WD_API + path, "workday_job.json")
    url = ats.url(WD + path)
    posting = extract_job(url, {"source": "workday", "board": ats.url(WD), "path": path})
    assert posting.title == "Senior Payments Engineer"
    assert posting.company == "Acme Freight SE"
    assert posting.location == "Berlin, Germany; Remote, Germany"
    assert (posting.employment_type, posting.workplace_type) == ("full_time", "hybrid")
    assert posting.posted_at == date(2026, 3, 2)
    assert posting.external_id == "R-10442"
    assert (
        posting.description == "Acme Freight moves fictional parcels.\n\n- Build payment rails\n- Keep them & us honest"
    )
    # the same job through `extract --source SPEC URL`, with no hints
    assert extract_job_for_source(f"workday:{ats.url(WD)}", url).title == posting.title


def test_workday_splits_a_query_past_the_cap_by_one_facet(ats) -> None:
    first = [_wd_posting(n) for n in range(20)]
    by_facet = {
        "berlin": [_wd_posting(n) for n in range(3)] + [_wd_posting(900, "Berlin")],
        "bonn": [_wd_posting(901, "Bonn")],
    }
    facets = [
        {
            "facetParameter": "jobFamilyGroup",
            "descriptor": "Job Category",
            "values": [{"descriptor": "All", "id": "x", "count": 2500}],
        },
        {
            "facetParameter": "locations",
            "descriptor": "Locations",
            "values": [
                {"descriptor": "Berlin", "id": "berlin", "count": 1600},
                {"descriptor": "Bonn", "id": "bonn", "count": 900},
            ],
        },
    ]
    ats.add(WD_API + "/jobs", _workday_route(first, total=2500, facets=facets, by_facet=by_facet))
    jobs = list_company_jobs(f"workday:{ats.url(WD)}")
    applied = [json.loads(body)["appliedFacets"] for _, body in ats.posts]
    assert {"locations": ["berlin"]} in applied and {"locations": ["bonn"]} in applied
    assert len(jobs) == 22 and {j.title for j in jobs} >= {"Parcel Handler 900", "Parcel Handler 901"}
    assert not jobs.incomplete


def test_workday_cap_without_a_facet_to_split_by_is_an_incomplete_listing(ats) -> None:
    facets = [{"facetParameter": "locations", "values": [{"descriptor": "Everywhere", "id": "all", "count": 2400}]}]
    ats.add(WD_API + "/jobs", _workday_route([_wd_posting(n) for n in range(20)], total=2400, facets=facets))
    jobs = list_company_jobs(f"workday:{ats.url(WD)}")
    assert len(jobs) == 20 and "at most 2000" in jobs.incomplete  # an incomplete listing never archives


def test_workday_403_on_detail_reads_the_job_page_or_is_gone(ats) -> None:
    path = "/job/Berlin/Delisted_R-1"
    ats.page(WD_API + path, '{"errorCode":"S22","httpStatus":403}', "application/json", status=403)
    hints = {"source": "workday", "board": ats.url(WD), "path": path}
    with pytest.raises(CrawlError) as exc:
        extract_job(ats.url(WD + path), hints)
    assert exc.value.kind == "gone" and "403" in exc.value.reason
    ats.fixture(WD + path, "job_graph.html")  # a tenant that blocks detail calls but serves the page
    assert extract_job(ats.url(WD + path), hints).title


# ----- SmartRecruiters ------------------------------------------------------------------------------


def test_smartrecruiters_pages_by_what_each_answer_holds_and_reads_job_ad_sections(ats) -> None:
    pages = {"0": "smartrecruiters_page1.json", "2": "smartrecruiters_page2.json"}
    ats.add(
        "/sr-api/v1/companies/AcmeFreight/postings",
        lambda h: h.send_body(200, _text(pages[_query(h)["offset"]], ats), "application/json"),
    )
    jobs = list_company_jobs("smartrecruiters:https://jobs.smartrecruiters.com/AcmeFreight/")
    assert [j.url for j in jobs] == [
        "https://jobs.smartrecruiters.com/AcmeFreight/744000051234567",
        "https://jobs.smartrecruiters.com/AcmeFreight/744000051234568",
        "https://jobs.smartrecruiters.com/AcmeFreight/744000051234569",
    ]
    assert [r[0] for r in ats.requests if r[0].startswith("/sr-api")] == [
        "/sr-api/v1/companies/AcmeFreight/postings"
    ] * 2
    listing, postings = get_family("smartrecruiters").listing_postings("https://jobs.smartrecruiters.com/AcmeFreight")
    assert [j.url for j in listing] == [j.url for j in jobs] and postings == {}  # no posting is complete
    partial = smartrecruiters.partial_postings("https://jobs.smartrecruiters.com/AcmeFreight")
    assert [(p.title, p.workplace_type, p.employment_type) for _, p in partial] == [
        ("Warehouse Robotics Technician", "onsite", "full_time"),
        ("Fleet Data Analyst", "remote", "part_time"),
        ("Customs Specialist", "hybrid", "contract"),
    ]
    assert all(p.description is None for _, p in partial)  # the listing has no description

    _json_route(ats, "/sr-api/v1/companies/AcmeFreight/postings/744000051234567", "smartrecruiters_posting.json")
    posting = extract_job(jobs[0].url)  # a public job URL: the API, no hints needed
    assert posting.title == "Warehouse Robotics Technician" and posting.company == "Acme Freight"
    assert posting.location == "Rotterdam, ZH, Netherlands" and posting.department == "Automation"
    assert posting.posted_at == date(2026, 2, 11)
    assert posting.description == (
        "Job Description\n\nKeep our robots rolling.\n\nQualifications\n\n- Mechatronics\n- Night shifts\n\n"
        "Additional Information\n\nFree coffee."
    )
    assert posting.apply_url.endswith("?oga=true")


# ----- Workable ------------------------------------------------------------------------------------


def test_workable_pages_by_next_page_and_reads_the_v2_detail(ats) -> None:
    def route(h) -> None:
        token = json.loads(h.body).get("token")
        name = "workable_v3_page2.json" if token == "WyJGNkc3SDhKOUswIl0=" else "workable_v3_page1.json"
        h.send_body(200, _text(name, ats), "application/json")

    ats.add("/wk-api/api/v3/accounts/acmefreight/jobs", route)
    jobs = list_company_jobs("workable:https://apply.workable.com/acmefreight/j/A1B2C3D4E5/")
    assert [j.url for j in jobs] == [
        "https://apply.workable.com/acmefreight/j/A1B2C3D4E5/",
        "https://apply.workable.com/acmefreight/j/F6G7H8J9K0/",
        "https://apply.workable.com/acmefreight/j/L1M2N3P4Q5/",
    ]
    assert [json.loads(b).get("token") for _, b in ats.posts] == [None, "WyJGNkc3SDhKOUswIl0="]
    _json_route(ats, "/wk-api/api/v2/accounts/acmefreight/jobs/A1B2C3D4E5", "workable_v2_job.json")
    posting = extract_job(jobs[0].url)
    assert (posting.title, posting.location, posting.department) == (
        "Route Planner",
        "Athens, Attica, Greece",
        "Operations",
    )
    assert (posting.employment_type, posting.workplace_type, posting.posted_at) == (
        "full_time",
        "onsite",
        date(2026, 1, 20),
    )
    assert posting.description == "Plan fictional routes across the Aegean.\n\n- Maps\n- Patience\n\nFerry pass."


def test_workable_refusing_its_api_is_read_from_the_widget_feed(ats) -> None:
    ats.page("/wk-api/api/v3/accounts/acmefreight/jobs", '{"error":"Unauthorized"}', "application/json", status=401)
    _json_route(ats, "/wk-api/api/v1/widget/accounts/acmefreight", "workable_widget.json")
    jobs = list_company_jobs("workable:acmefreight")
    assert [j.url for j in jobs] == ["https://apply.workable.com/acmefreight/j/A1B2C3D4E5/"]
    assert jobs[0].hints["widget"] is True
    posting = extract_job(jobs[0].url, jobs[0].hints)  # from the cached widget feed: no new request
    assert posting.description == "Plan fictional routes across the Aegean." and posting.posted_at == date(2026, 1, 20)
    assert ats.hits["/wk-api/api/v1/widget/accounts/acmefreight"] == 1
    assert "/wk-api/api/v2/accounts/acmefreight/jobs/A1B2C3D4E5" not in ats.hits

    listing, postings = get_family("workable").listing_postings("https://apply.workable.com/acmefreight/")
    assert [(j.url, j.hints) for j in listing] == [(j.url, j.hints) for j in jobs]  # the widget's full postings
    assert postings[jobs[0].url].to_dict() == posting.to_dict()
    assert ats.hits["/wk-api/api/v1/widget/accounts/acmefreight"] == 2


# ----- Recruitee, Pinpoint (full postings in the listing) ------------------------------------------


def test_recruitee_listing_carries_full_postings(ats) -> None:
    _json_route(ats, "/rc/api/offers/", "recruitee_offers.json")
    board = ats.url("/rc")
    jobs = list_company_jobs(f"recruitee:{board}/")
    assert [j.url for j in jobs] == [
        "https://acmefreight.recruitee.com/o/backend-developer-berlin",
        "https://acmefreight.recruitee.com/o/werkstudent-marketing",
    ]  # the archived offer is not listed
    listing, postings = get_family("recruitee").listing_postings(board)
    assert [j.url for j in listing] == [j.url for j in jobs] and set(postings) == {j.url for j in jobs}
    pairs = [(job, postings[job.url]) for job in listing]
    first = pairs[0][1]
    assert (first.salary_min, first.salary_max, first.salary_currency) == (62000, 78000, "EUR")
    assert (first.workplace_type, first.employment_type, first.posted_at) == ("hybrid", "full_time", date(2026, 3, 4))
    assert first.description == "Build the fictional booking engine.\n\n- Elixir\n- SQL"
    assert pairs[1][1].employment_type == "part_time" and pairs[1][1].salary_min is None

    offer = json.loads((F / "recruitee_offers.json").read_text())["offers"][0]
    requests = len(ats.requests)
    assert extract_job(jobs[0].url, jobs[0].hints | {"entry": offer}).to_dict() == first.to_dict()
    assert len(ats.requests) == requests  # a listing entry in the hints needs no request
    assert extract_job(jobs[0].url, jobs[0].hints).to_dict() == first.to_dict()  # from the cached board
    assert ats.hits["/rc/api/offers/"] == 2  # the listing, listing_postings; extraction asked nothing new

    recruitee.clear_cache()
    ats.page("/rc/api/offers/", '{"offers": []}', "application/json")  # no longer listed...
    ats.page("/rc/api/offers/backend-developer-berlin", json.dumps({"offer": offer}), "application/json")
    assert extract_job(jobs[0].url, jobs[0].hints).to_dict() == first.to_dict()  # ...but still published
    with pytest.raises(CrawlError) as exc:
        extract_job(jobs[1].url, jobs[1].hints)
    assert exc.value.kind == "not_found"


def test_pinpoint_listing_carries_postings_and_hides_invisible_pay(ats) -> None:
    _json_route(ats, "/pp/postings.json", "pinpoint_postings.json")
    board = ats.url("/pp")
    jobs = list_company_jobs(f"pinpoint:{board}")
    assert len(jobs) == 2 and jobs[0].url.endswith("/en/postings/9d3a5f0c-2b1e-4c8d-9f7a-6e5d4c3b2a10")
    posting = extract_job(jobs[0].url, jobs[0].hints)  # re-reads the cached board
    assert ats.hits["/pp/postings.json"] == 1
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (28000, 32000, "GBP")
    assert (posting.department, posting.workplace_type, posting.location) == ("Analytics", "hybrid", "Manchester, UK")
    assert posting.description.startswith("Join our fictional graduate scheme.")
    hidden = extract_job(jobs[1].url, jobs[1].hints)
    assert (hidden.salary_min, hidden.employment_type) == (None, "contract")


# ----- Personio and Teamtailor (XML through defusedxml) ---------------------------------------------


def test_personio_feed_lists_and_extracts_without_a_second_fetch(ats) -> None:
    ats.fixture("/ps/xml", "families/personio.xml", "application/xml")
    board = ats.url("/ps")
    jobs = list_company_jobs(f"personio:{board}")
    assert [j.url for j in jobs] == [f"{board}/job/1204567", f"{board}/job/1204568"]
    posting = extract_job(jobs[0].url, jobs[0].hints)
    assert ats.hits["/ps/xml"] == 1
    assert (posting.title, posting.company, posting.location) == (
        "Dispatcher (m/w/d)",
        "Acme Freight GmbH",
        "Munich; Vienna",
    )
    assert (posting.employment_type, posting.posted_at) == ("full_time", date(2026, 2, 20))
    assert posting.description == (
        "Your tasks\n\n- Plan tours\n- Talk to drivers\n\nYour profile\n\nCalm under pressure & good with maps."
    )
    assert extract_job(jobs[1].url, jobs[1].hints).employment_type == "internship"

    listing, postings = get_family("personio").listing_postings(board)
    assert [(j.url, j.hints) for j in listing] == [(j.url, j.hints) for j in jobs]
    assert postings[jobs[0].url].to_dict() == posting.to_dict() and set(postings) == {j.url for j in jobs}
    assert ats.hits["/ps/xml"] == 2  # one request for the listing with its postings


def test_personio_without_a_feed_falls_back_to_its_job_pages(ats) -> None:
    ats.fixture("/ps/", "families/personio_board.html")
    ats.fixture("/ps/job/88001", "families/personio_job.html")
    jobs = list_company_jobs(f"personio:{ats.url('/ps')}")
    assert [j.url for j in jobs] == [ats.url("/ps/job/88001?language=en"), ats.url("/ps/job/88002?language=en")]
    assert jobs[0].hints["page"] is True
    assert extract_job(jobs[0].url, jobs[0].hints).title == "Dispatcher (m/w/d)"
    listing, postings = get_family("personio").listing_postings(ats.url("/ps"))
    assert [(j.url, j.hints) for j in listing] == [(j.url, j.hints) for j in jobs]  # the same job pages...
    assert postings == {}  # ...which carry no posting: each is read per job


def test_personio_feed_with_a_dtd_is_refused_not_expanded(ats) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<workzag-jobs>&b;</workzag-jobs>"
    )
    ats.page("/ps/xml", bomb, "application/xml")
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(f"personio:{ats.url('/ps')}")
    assert exc.value.kind == "parse_error" and "forbidden XML" in exc.value.reason


def test_teamtailor_rss_pages_by_offset_with_the_tt_namespace(ats) -> None:
    pages = {"": "teamtailor_page1.rss", "2": "teamtailor_page2.rss", "3": "teamtailor_empty.rss"}
    ats.add(
        "/tt/jobs.rss",
        lambda h: h.send_body(200, _text(pages[_query(h).get("offset", "")], ats), "application/rss+xml"),
    )
    board = ats.url("/tt")
    jobs = list_company_jobs(f"teamtailor:{board}")
    assert [j.url for j in jobs] == [
        f"{board}/jobs/5512001-driver-coordinator",
        f"{board}/jobs/5512002-warehouse-lead",
        f"{board}/jobs/5512003-remote-dispatcher",
    ]
    assert ats.hits["/tt/jobs.rss"] == 3
    posting = extract_job(jobs[0].url, jobs[0].hints)
    assert (posting.location, posting.department, posting.workplace_type) == (
        "Stockholm; Gothenburg",
        "Operations",
        "hybrid",
    )
    assert posting.posted_at == date(2026, 3, 2) and posting.description.startswith("Coordinate our fictional drivers.")
    assert [extract_job(j.url, j.hints).workplace_type for j in jobs[1:]] == ["onsite", "remote"]
    listing, postings = get_family("teamtailor").listing_postings(board)
    assert [(j.url, j.hints) for j in listing] == [(j.url, j.hints) for j in jobs] and listing.incomplete is None
    assert [postings[j.url].to_dict() for j in jobs] == [extract_job(j.url, j.hints).to_dict() for j in jobs]


def test_a_teamtailor_feed_longer_than_its_page_cap_lists_incomplete_with_its_postings(ats, monkeypatch) -> None:
    from ingest_app.core.crawl.sources import teamtailor

    pages = {"": "teamtailor_page1.rss", "2": "teamtailor_page2.rss", "3": "teamtailor_empty.rss"}
    ats.add(
        "/tt/jobs.rss",
        lambda h: h.send_body(200, _text(pages[_query(h).get("offset", "")], ats), "application/rss+xml"),
    )
    monkeypatch.setattr(teamtailor, "MAX_PAGES", 1)
    board = ats.url("/tt")
    jobs = list_company_jobs(f"teamtailor:{board}")
    listing, postings = get_family("teamtailor").listing_postings(board)
    assert listing.incomplete and listing.incomplete == jobs.incomplete  # never archives, like list_jobs
    assert [j.url for j in listing] == [j.url for j in jobs] and set(postings) == {j.url for j in jobs}


# ----- BambooHR, Rippling, Breezy (detail per job) ------------------------------------------------------


def test_bamboohr_lists_then_reads_each_detail(ats) -> None:
    _json_route(ats, "/bh/careers/list", "bamboohr_list.json")
    _json_route(ats, "/bh/careers/41/detail", "bamboohr_detail.json")
    board = ats.url("/bh")
    jobs = list_company_jobs(f"bamboohr:{board}/")
    assert [j.url for j in jobs] == [f"{board}/careers/41", f"{board}/careers/42"]
    posting = extract_job(jobs[0].url, jobs[0].hints)
    assert (posting.title, posting.department, posting.workplace_type) == ("Office Manager", "People", "onsite")
    assert posting.location == "Salt Lake City, Utah" and posting.posted_at == date(2026, 2, 27)
    assert posting.description == "Run a fictional office.\n\nSnacks & plants."
    assert extract_job_for_source(f"bamboohr:{board}", f"{board}/careers/41").title == "Office Manager"


def test_rippling_lists_then_reads_each_detail(ats) -> None:
    _json_route(ats, "/rp-api/platform/api/ats/v1/board/acme-freight/jobs", "rippling_jobs.json")
    _json_route(
        ats,
        "/rp-api/platform/api/ats/v1/board/acme-freight/jobs/3f2b1a09-8c7d-4e6f-a5b4-c3d2e1f0a9b8",
        "rippling_job.json",
    )
    jobs = list_company_jobs("rippling:https://ats.rippling.com/acme-freight/jobs")
    assert [j.url for j in jobs] == [
        "https://ats.rippling.com/acme-freight/jobs/3f2b1a09-8c7d-4e6f-a5b4-c3d2e1f0a9b8",
        "https://ats.rippling.com/acme-freight/jobs/4a3c2b10-9d8e-4f70-b6c5-d4e3f2a1b0c9",
    ]
    posting = extract_job(jobs[0].url)
    assert (posting.title, posting.company, posting.location) == (
        "Platform Engineer",
        "Acme Freight Inc.",
        "Remote (US)",
    )
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (150000, 185000, "USD")
    assert (posting.workplace_type, posting.employment_type, posting.posted_at) == (
        "remote",
        "full_time",
        date(2026, 1, 15),
    )
    assert posting.description == "Run our platform.\n\n- Kubernetes\n\nAcme Freight is fictional."


def test_breezy_lists_then_reads_the_job_page_json_ld(ats) -> None:
    ats.page("/bz/json", _text("breezy_positions.json", ats), "application/json")
    ats.fixture("/bz/p/7c1d2e3f4a5b-forklift-operator", "families/breezy_job.html")
    board = ats.url("/bz")
    jobs = list_company_jobs(f"breezy:{board}")
    assert [j.url for j in jobs] == [
        f"{board}/p/7c1d2e3f4a5b-forklift-operator",
        f"{board}/p/8d2e3f4a5b6c-remote-recruiter",
    ]
    posting = extract_job(jobs[0].url, jobs[0].hints)
    assert (posting.title, posting.company, posting.salary_min, posting.salary_currency) == (
        "Forklift Operator",
        "Acme Freight",
        18,
        "USD",
    )
    assert posting.external_id == "7c1d2e3f4a5b" and posting.description == "Move fictional pallets safely."


# ----- every family: an empty board, a missing board, a malformed answer -------------------------------

JSON = "application/json"
XML = "application/xml"
CASES = [
    ("workday", "/recruiting/acmefreight/External", WD_API + "/jobs", '{"total":0,"jobPostings":[],"facets":[]}', JSON),
    (
        "smartrecruiters",
        "https://jobs.smartrecruiters.com/AcmeFreight",
        "/sr-api/v1/companies/AcmeFreight/postings",
        '{"offset":0,"limit":100,"totalFound":0,"content":[]}',
        JSON,
    ),
    (
        "workable",
        "https://apply.workable.com/acmefreight/",
        "/wk-api/api/v3/accounts/acmefreight/jobs",
        '{"total":0,"results":[]}',
        JSON,
    ),
    ("recruitee", "/rc", "/rc/api/offers/", '{"offers":[]}', JSON),
    ("personio", "/ps", "/ps/xml", '<?xml version="1.0" encoding="UTF-8"?><workzag-jobs/>', XML),
    ("teamtailor", "/tt", "/tt/jobs.rss", '<rss version="2.0"><channel><title>x</title></channel></rss>', XML),
    ("bamboohr", "/bh", "/bh/careers/list", '{"meta":{"totalCount":0},"result":[]}', JSON),
    ("pinpoint", "/pp", "/pp/postings.json", '{"data":[]}', JSON),
    (
        "rippling",
        "https://ats.rippling.com/acme-freight/jobs",
        "/rp-api/platform/api/ats/v1/board/acme-freight/jobs",
        "[]",
        JSON,
    ),
    ("breezy", "/bz", "/bz/json", "[]", JSON),
]


def _spec(ats, family: str, board: str) -> str:
    return f"{family}:{ats.url(board) if board.startswith('/') else board}"


@pytest.mark.parametrize(("family", "board", "path", "empty", "ctype"), CASES, ids=[c[0] for c in CASES])
def test_an_empty_board_lists_nothing(ats, family, board, path, empty, ctype) -> None:
    ats.page(path, empty, ctype)
    assert list_company_jobs(_spec(ats, family, board)) == []
    assert ats.hits[path] == 1


@pytest.mark.parametrize(("family", "board", "path", "empty", "ctype"), CASES, ids=[c[0] for c in CASES])
def test_a_missing_board_is_not_found(ats, family, board, path, empty, ctype) -> None:
    with pytest.raises(CrawlError) as exc:  # no route: the server answers 404
        list_company_jobs(_spec(ats, family, board))
    assert exc.value.kind == "not_found" and family in exc.value.reason


@pytest.mark.parametrize(("family", "board", "path", "empty", "ctype"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("body", ["wrong-shape", "truncated"])
def test_a_malformed_answer_is_a_parse_error(ats, family, board, path, empty, ctype, body) -> None:
    if body == "truncated":
        answer = empty[: len(empty) // 2]
    else:
        answer = '{"unexpected": []}' if ctype == JSON and not empty.startswith("{") else '["unexpected"]'
        if ctype == XML:
            answer = "<html><body>Maintenance</body></html>"
    ats.page(path, answer, ctype)
    with pytest.raises(CrawlError) as exc:
        list_company_jobs(_spec(ats, family, board))
    assert exc.value.kind == "parse_error"
