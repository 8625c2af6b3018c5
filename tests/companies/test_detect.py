"""Paste a URL, get a company: every family's board and job URL forms, embeds on a careers page,
a plain careers page, redirects, failed probes and nothing found, against the demo site's real
answer shapes on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from ingest_app.core.detect import Detection, detect, detect_async, probe

UUID = "0c8e7a2b-1111-4a5e-9d3e-5f1a2b3c4d5e"
WD = "workday:https://granite.wd5.myworkdayjobs.com/External"
# (pasted URL, the spec it is, the demo tenant's listed jobs)
FORMS = [
    ("https://boards.greenhouse.io/northwind", "greenhouse:northwind", 6),
    ("https://job-boards.greenhouse.io/northwind/jobs/4012345", "greenhouse:northwind", 6),
    ("https://job-boards.eu.greenhouse.io/northwind/jobs/4012345", "greenhouse:northwind", 6),
    ("https://boards.eu.greenhouse.io/northwind", "greenhouse:northwind", 6),
    ("https://boards.greenhouse.io/embed/job_board?for=northwind", "greenhouse:northwind", 6),
    ("https://jobs.lever.co/bluefin", "lever:bluefin", 7),
    (f"https://jobs.lever.co/bluefin/{UUID}/apply", "lever:bluefin", 7),
    (f"https://jobs.eu.lever.co/bluefin/{UUID}", "lever:bluefin", 7),
    ("https://jobs.ashbyhq.com/cobalt", "ashby:cobalt", 5),
    (f"https://jobs.ashbyhq.com/cobalt/{UUID}/application", "ashby:cobalt", 5),
    ("https://granite.wd5.myworkdayjobs.com/en-US/External/", WD, 6),
    ("https://granite.wd5.myworkdayjobs.com/External/job/Berlin/Engineer_R-1", WD, 6),
    (
        "https://wd3.myworkdaysite.com/en-US/recruiting/granite/External",
        "workday:https://wd3.myworkdaysite.com/recruiting/granite/External",
        6,
    ),
    ("https://jobs.smartrecruiters.com/lumen", "smartrecruiters:https://jobs.smartrecruiters.com/lumen", 5),
    (
        "https://careers.smartrecruiters.com/lumen/744000051234567-engineer",
        "smartrecruiters:https://jobs.smartrecruiters.com/lumen",
        5,
    ),
    ("https://apply.workable.com/tidewater/", "workable:https://apply.workable.com/tidewater/", 5),
    ("https://apply.workable.com/tidewater/j/AB12CD34EF/", "workable:https://apply.workable.com/tidewater/", 5),
    ("https://tidewater.workable.com/", "workable:https://apply.workable.com/tidewater/", 5),
    ("https://maple.recruitee.com/", "recruitee:https://maple.recruitee.com", 6),
    ("https://maple.recruitee.com/o/backend-engineer", "recruitee:https://maple.recruitee.com", 6),
    ("https://quartz.jobs.personio.de/", "personio:https://quartz.jobs.personio.de", 5),
    ("https://quartz.jobs.personio.com/job/12?language=en", "personio:https://quartz.jobs.personio.com", 5),
    ("https://harbor.teamtailor.com/jobs", "teamtailor:https://harbor.teamtailor.com", 6),
    ("https://harbor.teamtailor.com/jobs/123-engineer", "teamtailor:https://harbor.teamtailor.com", 6),
    ("https://aurora.bamboohr.com/careers", "bamboohr:https://aurora.bamboohr.com", 5),
    ("https://aurora.bamboohr.com/careers/42", "bamboohr:https://aurora.bamboohr.com", 5),
    ("https://cedar.pinpointhq.com/", "pinpoint:https://cedar.pinpointhq.com", 6),
    (f"https://cedar.pinpointhq.com/en/postings/{UUID}", "pinpoint:https://cedar.pinpointhq.com", 6),
    ("https://ats.rippling.com/pinnacle/jobs", "rippling:https://ats.rippling.com/pinnacle/jobs", 5),
    (f"https://ats.rippling.com/pinnacle/jobs/{UUID}", "rippling:https://ats.rippling.com/pinnacle/jobs", 5),
    ("https://orchid.breezy.hr/", "breezy:https://orchid.breezy.hr", 6),
    ("https://orchid.breezy.hr/p/a1b2c3d4e5f6-engineer", "breezy:https://orchid.breezy.hr", 6),
    ("jobs.lever.co/bluefin", "lever:bluefin", 7),  # pasted without a scheme
]


@pytest.mark.parametrize(("url", "spec", "count"), FORMS, ids=[f[0] for f in FORMS])
def test_every_family_board_and_job_url_is_proposed_after_a_live_probe(gateway, url, spec, count) -> None:
    found = detect(url, probe_fn=gateway)
    assert found.error is None and found.tried == []
    (proposal,) = found.proposals
    assert (proposal.source, proposal.family, proposal.jobs_listed) == (spec, spec.split(":")[0], count)
    assert proposal.name  # from the slug at least


def test_every_family_is_covered_by_the_url_forms() -> None:
    from ingest_app.core.crawl.sources import FAMILY_NAMES

    assert {spec.split(":")[0] for _, spec, _ in FORMS} == set(FAMILY_NAMES) - {"careers"}


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://boards.greenhouse.io/northwind", "Northwind Robotics"),
        ("https://jobs.smartrecruiters.com/lumen", "Lumen Energy"),
        ("https://ats.rippling.com/pinnacle/jobs", "Pinnacle Energy"),
    ],
)
def test_the_company_name_comes_from_the_board_answer(demo, url, name) -> None:
    (proposal,) = detect(url).proposals
    assert proposal.name == name


def test_without_a_name_in_the_answer_the_slug_names_the_company(demo) -> None:
    (proposal,) = detect("https://jobs.lever.co/bluefin").proposals
    assert proposal.name in ("Bluefin", "Bluefin Analytics")
    assert detect("https://boards.greenhouse.io/northwind", names=False).proposals[0].name == "Northwind"


def _careers_page(server, path: str, head: str = "", body: str = "", title: str = "Careers | Acme Robotics") -> str:
    html = f"<!doctype html><html><head><title>{title}</title>{head}</head><body><h1>Join us</h1>{body}</body></html>"
    server.page(path, html.encode())
    return server.url(path)


def test_a_greenhouse_embed_script_on_a_careers_page_is_found(demo, server) -> None:
    script = '<script src="https://boards.greenhouse.io/embed/job_board/js?for=northwind"></script>'
    url = _careers_page(server, "/careers", body='<div id="grnhse_app"></div>' + script)
    found = detect(url)
    assert [(p.source, p.jobs_listed, p.name) for p in found.proposals] == [
        ("greenhouse:northwind", 6, "Northwind Robotics")
    ]


def test_a_greenhouse_iframe_is_found(demo, server) -> None:
    frame = '<iframe src="https://job-boards.greenhouse.io/embed/job_board?for=northwind&amp;b=x"></iframe>'
    found = detect(_careers_page(server, "/jobs", body=frame))
    assert [p.source for p in found.proposals] == ["greenhouse:northwind"]


def test_lever_and_ashby_links_are_both_proposed(demo, server) -> None:
    links = (
        f'<a href="https://jobs.lever.co/bluefin/{UUID}">Backend Engineer</a>'
        '<a href="https://jobs.lever.co/bluefin">All openings</a>'
        '<a href="//jobs.ashbyhq.com/cobalt">Our other company</a>'
    )
    found = detect(_careers_page(server, "/careers", body=links))
    assert [(p.source, p.jobs_listed) for p in found.proposals] == [("lever:bluefin", 7), ("ashby:cobalt", 5)]


def test_a_workday_link_is_found(gateway, server) -> None:
    link = '<a href="https://granite.wd5.myworkdayjobs.com/en-US/External">Search our jobs</a>'
    found = detect(_careers_page(server, "/careers", body=link), probe_fn=gateway)
    assert [(p.source, p.jobs_listed) for p in found.proposals] == [(WD, 6)]
    assert found.proposals[0].name == "Acme Robotics"  # the page title names the company


def test_a_board_that_does_not_answer_is_tried_not_proposed(demo, server) -> None:
    links = (
        '<a href="https://boards.greenhouse.io/gone-company">Old board</a>'
        '<a href="https://boards.greenhouse.io/northwind">Jobs</a>'
    )
    found = detect(_careers_page(server, "/careers", body=links))
    assert [p.source for p in found.proposals] == ["greenhouse:northwind"]
    assert found.tried == ["greenhouse:gone-company: no greenhouse board named 'gone-company'"]


def test_a_careers_page_without_an_ats_is_a_careers_proposal(demo) -> None:
    url = demo.base_url + "/careers/juniper/"
    found = detect(url)
    (proposal,) = found.proposals
    assert (proposal.source, proposal.family, proposal.jobs_listed) == (f"careers:{url}", "careers", 8)
    assert proposal.name == "Juniper Health"  # "Careers at Juniper Health"


def test_a_page_with_no_board_and_no_jobs_finds_nothing(demo, server) -> None:
    url = _careers_page(server, "/about", body='<p>We make robots.</p><a href="/team">Team</a>')
    found = detect(url)
    assert found.proposals == [] and found.error == "no board found"
    assert found.tried == [f"careers:{url}: the page links to no job postings"]


def test_a_missing_page_finds_nothing_and_says_why(server) -> None:
    found = detect(server.url("/no-such-page"))
    assert found.error == "no board found (the page does not exist (HTTP 404))"
    assert found.tried == [f"{server.url('/no-such-page')}: the page does not exist (HTTP 404)"]


def test_a_board_that_is_not_there_finds_nothing(demo) -> None:
    found = detect("https://jobs.ashbyhq.com/nobody-here")
    assert found.proposals == [] and found.error == "no board found"
    assert len(found.tried) == 1 and found.tried[0].startswith("ashby:nobody-here: ")


def test_a_redirect_to_a_board_url_is_recognized_without_loading_the_board_page(demo, server) -> None:
    short = server.redirect("/go/jobs", "https://boards.greenhouse.io/northwind", status=301)
    found = detect(short)
    assert [(p.source, p.jobs_listed) for p in found.proposals] == [("greenhouse:northwind", 6)]
    assert server.hits["/go/jobs"] == 1  # one local hop; the public board page was never fetched


def test_a_redirected_careers_page_is_proposed_at_its_final_url(demo, server) -> None:
    target = demo.base_url + "/careers/juniper/"
    found = detect(server.redirect("/careers", target))
    assert [p.source for p in found.proposals] == [f"careers:{target}"]


def test_a_redirect_to_a_private_address_is_refused_when_private_hosts_are(settings, server) -> None:

    settings(CRAWLER_ALLOW_PRIVATE_HOSTS="0")
    found = detect(server.url("/anything"))
    assert found.proposals == [] and "refused to connect" in found.tried[0]
    assert server.hits["/anything"] == 0


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Paste a board, job or careers page URL"),
        ("ftp://example.com/jobs", "A URL must start with http:// or https:// and name a host"),
        ("https://" + "a" * 2100 + ".example", "A URL must be at most 2048 characters"),
        ("not a url", "A URL must start with http:// or https:// and name a host"),
    ],
)
def test_input_that_is_not_a_url_gets_a_clear_error(text, error) -> None:
    found = detect(text)
    assert found.error == error and found.proposals == [] and found.tried == []


def test_every_demo_source_probes_with_its_job_count(demo) -> None:
    for company in demo.company_sources():
        result = probe(company["source"])
        slug = next(c.slug for c in demo.site.companies.values() if c.name == company["name"])
        assert result.ok and result.error is None, result
        assert result.jobs_listed == len(demo.site.jobs(slug))


def test_a_bad_or_missing_source_probes_not_ok_with_the_reason(demo) -> None:
    assert probe("greenhouse:nobody").error == "no greenhouse board named 'nobody'"
    bad = probe("monster:acme")
    assert not bad.ok and bad.jobs_listed == 0 and bad.error.startswith("Source must look like")


def test_a_slow_board_is_cut_by_the_detection_deadline(demo, settings) -> None:

    settings(DETECT_TIMEOUT="0.5")
    demo.site.set_latency(3.0, "/lever/")
    found = detect("https://jobs.lever.co/bluefin")
    assert found.proposals == [] and found.error == "no board found"
    assert "did not answer in time" in found.tried[0] or "took" in found.tried[0]


def test_detect_async_runs_in_the_listing_pool(demo) -> None:
    found = asyncio.run(detect_async(1, "https://jobs.ashbyhq.com/cobalt"))
    assert isinstance(found, Detection) and found.proposals[0].source == "ashby:cobalt"


def test_probe_async_runs_in_the_listing_pool(demo) -> None:
    from ingest_app.core.detect import probe_async

    result = asyncio.run(probe_async(1, "lever:bluefin"))
    assert (result.ok, result.jobs_listed) == (True, 7)


@pytest.mark.parametrize(
    ("slug", "kind", "count"),
    [
        ("granite", "workday", 6),
        ("maple", "recruitee", 6),
        ("quartz", "personio", 5),
        ("harbor", "teamtailor", 6),
        ("aurora", "bamboohr", 5),
        ("cedar", "pinpoint", 6),
        ("orchid", "breezy", 6),
    ],
)
def test_a_board_on_its_own_domain_is_its_family_not_a_careers_page(demo, slug, kind, count) -> None:
    from devtools.demo.data import source_for

    spec = source_for(kind, slug, demo.base_url)
    found = detect(spec.split(":", 1)[1])
    assert [(p.source, p.jobs_listed) for p in found.proposals] == [(spec, count)]
    assert found.proposals[0].name == demo.site.companies[slug].name  # from the board's own answer


def test_a_page_that_only_mentions_a_vendor_is_still_a_careers_page(demo) -> None:
    demo.site.add_company("Wordy Robotics", "careers", slug="wordy", jobs=2)
    demo.site.companies["wordy"].jobs[0].title = "Payroll Analyst (Workday, Personio)"
    url = demo.base_url + "/careers/wordy/"
    found = detect(url)
    assert [(p.source, p.jobs_listed) for p in found.proposals] == [(f"careers:{url}", 2)]
    assert [t.split(":", 1)[0] for t in found.tried] == ["personio"]  # guessed from the words, tried, refused


def test_a_users_detections_beyond_the_per_user_limit_are_refused_at_once(demo, settings) -> None:
    from ingest_app.core import listing_pool
    from ingest_app.core.listing_pool import PreviewBusy

    settings(PREVIEW_PER_USER_LIMIT="1")
    listing_pool.reset_pool()
    demo.site.set_latency(0.5, "/lever/")

    async def both():
        return await asyncio.gather(
            detect_async(7, "https://jobs.lever.co/bluefin"),
            detect_async(7, "https://jobs.ashbyhq.com/cobalt"),
            detect_async(8, "https://jobs.ashbyhq.com/cobalt"),  # another user has a slot of their own
            return_exceptions=True,
        )

    first, second, other = asyncio.run(both())
    assert first.proposals[0].source == "lever:bluefin"
    assert isinstance(second, PreviewBusy) and "already have 1 previews running" in str(second)
    assert other.proposals[0].source == "ashby:cobalt"
