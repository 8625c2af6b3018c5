"""Page extraction: JSON-LD in its many shapes, microdata, HTML fallback, hostile content."""

from __future__ import annotations

from datetime import date

import pytest

from ingest_app.core.crawl import CrawlError, extract_job
from ingest_app.core.crawl.normalize import employment_type, html_to_text, number, workplace_type


def test_jsonld_in_graph_among_several_scripts_after_an_invalid_one(server) -> None:
    url = server.fixture("/jobs/propulsion", "job_graph.html")
    posting = extract_job(url + "?utm_source=newsletter#top")
    assert posting.source_url == url
    assert posting.title == "Propulsion Engineer & Test Lead"
    assert posting.company == "Nimbus Aero"
    assert posting.location == "Toulouse, Occitanie, FR; Hamburg, DE"
    assert posting.employment_type == "full_time"
    assert posting.salary_min == 65000 and posting.salary_max == 82000 and posting.salary_currency == "EUR"
    assert posting.posted_at == date(2026, 5, 4)
    assert posting.description == "Design engines for fictional planes.\n\n- Run tests"
    assert posting.external_id == "NA-4471"
    assert posting.apply_url == url + "?utm_source=google"


def test_jsonld_array_telecommute_and_quantitative_value(server) -> None:
    url = server.fixture("/jobs/support", "job_telecommute.html")
    posting = extract_job(url)
    assert posting.title == "Remote Support Engineer (part time)"
    assert posting.company == "Quokka Cloud"
    assert posting.workplace_type == "remote"
    assert posting.location == "Remote (Australia, New Zealand)"
    assert posting.employment_type == "part_time"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (42.5, 42.5, "AUD")
    assert posting.apply_url == server.url("/apply/support")
    assert posting.description == "Help customers anywhere."


def test_microdata_when_jsonld_is_invalid(server) -> None:
    url = server.fixture("/jobs/baker", "job_microdata.html")
    posting = extract_job(url)
    assert posting.title == "Night Shift Baker"
    assert posting.company == "Crumb & Co Bakery"
    assert posting.location == "Porto, PT"
    assert posting.employment_type == "full_time"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (1400, 1700, "EUR")
    assert posting.posted_at == date(2026, 7, 15)
    assert "Bake bread from 2am." in posting.description and "Sourdough" in posting.description
    assert "steal" not in posting.description


def test_html_fallback_uses_h1_and_visible_text(server) -> None:
    url = server.fixture("/careers/barista", "job_fallback.html")
    posting = extract_job(url)
    assert posting.title == "Barista Trainer"
    assert posting.company == "Lighthouse Coffee"
    assert "Run weekly training sessions" in posting.description
    assert "cookies" not in posting.description  # banner noise dropped
    assert "Menu" not in posting.description and "footer text" not in posting.description
    assert "tracker" not in posting.description
    assert posting.apply_url == "https://apply.lighthouse.example/barista-trainer"


def test_page_without_a_posting_is_not_a_job_page(server) -> None:
    with pytest.raises(CrawlError) as exc:
        extract_job(server.fixture("/blog", "not_a_job.html"))
    assert exc.value.kind == "not_a_job_page"
    with pytest.raises(CrawlError) as exc:
        extract_job(server.fixture("/careers/", "careers_empty.html"))
    assert exc.value.kind == "not_a_job_page"


def test_xss_never_survives_in_stored_fields(server) -> None:
    posting = extract_job(server.fixture("/jobs/evil", "job_xss.html"))
    for value in (posting.title, posting.company, posting.description):
        assert "<" not in value and "alert" not in value and "onerror" not in value
    assert posting.title == "Web Developer"
    assert posting.company == "Mallory Inc"
    assert posting.description.startswith("Hello") and posting.description.endswith("Bye")
    assert posting.apply_url == posting.source_url  # a javascript: link is never kept


def test_windows_1252_page_decodes(server) -> None:
    html = (
        '<html><head><meta charset="windows-1252"><title>x</title><script type="application/ld+json">'
        '{"@type":"JobPosting","title":"Caf\u00e9 Manager \u2013 M\u00fcnchen",'
        '"description":"<p>\u201cGreat\u201d coffee for \u20ac3</p>","hiringOrganization":"K\u00f6ln Kaffee"}'
        "</script></head><body></body></html>"
    )
    url = server.page("/jobs/cafe", html.encode("cp1252"), "text/html")
    posting = extract_job(url)
    assert posting.title == "Caf\u00e9 Manager \u2013 M\u00fcnchen"
    assert posting.company == "K\u00f6ln Kaffee"
    assert posting.description == "\u201cGreat\u201d coffee for \u20ac3"


def test_description_sanitizer_unwraps_escaped_markup_and_drops_scripts() -> None:
    assert html_to_text("&lt;p&gt;A &amp;amp; B&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;") == "A & B"
    assert html_to_text("<p>One</p><style>p{}</style><p>Two<br>Three</p>") == "One\n\nTwo\nThree"
    assert html_to_text("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;ok") == "ok"
    assert html_to_text("") is None


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("FULL_TIME", "full_time"),
        ("Full-time", "full_time"),
        ("FullTime", "full_time"),
        ("PART_TIME", "part_time"),
        ("CONTRACTOR", "contract"),
        ("Freelance", "contract"),
        ("INTERN", "internship"),
        ("Internship", "internship"),
        ("TEMPORARY", "temporary"),
        ("Seasonal", "temporary"),
        (["OTHER", "PART_TIME"], "part_time"),
        ("VOLUNTEER", None),
        (None, None),
    ],
)
def test_employment_types_normalize(raw, expected) -> None:
    assert employment_type(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("TELECOMMUTE", "remote"),
        ("Remote", "remote"),
        ("Hybrid", "hybrid"),
        ("OnSite", "onsite"),
        ("on-site", "onsite"),
        ("In office", "onsite"),
        ("unspecified", None),
        (None, None),
    ],
)
def test_workplace_types_normalize(raw, expected) -> None:
    assert workplace_type(raw) == expected


def test_windows_1252_page_without_structured_data(server) -> None:
    html = (
        '<html><head><meta charset="windows-1252"><title>x</title></head><body><main>'
        "<h1>Ma\u00eetre d\u2019h\u00f4tel</h1><p>"
        + "Exp\u00e9rience in fine dining is required. " * 10
        + "</p></main></body></html>"
    )
    posting = extract_job(server.page("/jobs/maitre", html.encode("cp1252"), "text/html"))
    assert posting.title == "Ma\u00eetre d\u2019h\u00f4tel"
    assert "Exp\u00e9rience in fine dining" in posting.description


def test_jsonld_without_description_takes_the_visible_text(server) -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type":"JobPosting","title":"Gardener"}</script>'
        "</head><body><nav>Menu</nav><main><h1>Gardener</h1><p>Keep the roses happy.</p></main></body></html>"
    )
    posting = extract_job(server.page("/jobs/gardener", html))
    assert posting.title == "Gardener"
    assert posting.description == "Gardener\n\nKeep the roses happy."


def test_pathological_jsonld_falls_through(server) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    html = (
        f'<html><head><script type="application/ld+json">{deep}</script>'
        '<script type="application/ld+json">{"@type": "JobPosting", "title": "Still Found"}</script>'
        "</head><body></body></html>"
    )
    assert extract_job(server.page("/jobs/deep", html)).title == "Still Found"


@pytest.mark.parametrize(
    "raw,expected",
    [
        (10**400, None),
        ("9" * 400, None),
        (float("nan"), None),
        (float("inf"), None),
        (-5, None),
        ("65,000", 65000),
        ("120k", 120000),
        ("$95K", 95000),
        (42.5, 42.5),
        ("competitive", None),
    ],
)
def test_salary_numbers(raw, expected) -> None:
    assert number(raw) == expected


def test_hostile_jsonld_values_do_not_break_extraction(server) -> None:
    html = (
        '<script type="application/ld+json">{"@type":"JobPosting","title":["Odd", "Title"],'
        '"baseSalary":{"@type":"MonetaryAmount","currency":"usd","value":{"minValue":NaN,"maxValue":Infinity}},'
        '"datePosted":"not a date","employmentType":{"weird":1},"jobLocation":[null, 5, {"address": 7}],'
        '"hiringOrganization":[{"name":"First Org"}],"identifier":12345,"description":' + '"x"' + "}</script>"
    )
    posting = extract_job(server.page("/jobs/odd", html))
    assert posting.title == "Odd" and posting.company == "First Org"
    assert posting.salary_min is None and posting.salary_max is None and posting.salary_currency == "USD"
    assert posting.posted_at is None and posting.employment_type is None and posting.location is None
    assert posting.external_id == "12345"


@pytest.mark.parametrize(
    "opening",
    [
        '<script type="application/ld&#x2B;json">',
        '<script type="application/ld&#43;json">',
        '<script type="application/ld&plus;json">',
        "<SCRIPT TYPE='Application/LD+JSON'>",
        '<script data-x="1" type=application/ld+json defer>',
        '<script type="application/ld+json; charset=utf-8">',
    ],
)
def test_ld_json_type_is_read_as_an_html_parser_reads_it(opening) -> None:
    from ingest_app.core.crawl.extract import extract_from_html

    html = f'{opening}{{"@type":"JobPosting","title":"Welder"}}</script><body><h1>Other</h1></body>'
    assert extract_from_html(html, "https://x.example/jobs/welder").title == "Welder"


def test_ld_json_text_inside_another_script_is_not_a_block() -> None:
    """Script bodies are raw text: a JSON-LD tag written inside a JavaScript string is no block."""
    from ingest_app.core.crawl.jsonld import ld_blocks

    html = (
        '<script type="text/template"><script type="application/ld+json">{"@type":"JobPosting","title":"Fake"}'
        "</script>"
        "<script>var kind = 'ld+json';</script>"
        '<script type="application/ld+json">{"@type":"Organization","name":"Real"}</script>'
    )
    assert list(ld_blocks(html)) == [{"@type": "Organization", "name": "Real"}]


def test_jsonld_slips_are_repaired_and_graph_references_followed() -> None:
    from ingest_app.core.crawl.extract import extract_from_html

    html = (
        '<script type="application/ld+json">{"@graph": [\n'
        '{"@type": "Organization", "@id": "#org", "name": "Kestrel Foods",},\n'
        '{"@type": "jobPosting", "name": "Buyer", "hiringOrganization": {"@id": "#org"},\n'
        '"description": "Buy food.\nSell food, fairly.", "employmentType": ["FULL_TIME",],},\n'
        "]}</script>"
    )
    posting = extract_from_html(html, "https://kestrel.example/jobs/buyer")
    assert posting.title == "Buyer" and posting.company == "Kestrel Foods"
    assert posting.employment_type == "full_time"
    assert posting.description == "Buy food.\nSell food, fairly."


def test_a_comma_inside_a_string_is_not_a_trailing_comma() -> None:
    from ingest_app.core.crawl.jsonld import ld_blocks

    html = '<script type="application/ld+json">{"title": "a ,} b", "x": [1, 2,],}</script>'
    assert list(ld_blocks(html)) == [{"title": "a ,} b", "x": [1, 2]}]


def test_rdfa_lite_job_posting(server) -> None:
    html = (
        '<html><body><div vocab="https://schema.org/" typeof="JobPosting">'
        '<h1 property="title">Beekeeper</h1>'
        '<span property="hiringOrganization" typeof="Organization"><span property="name">Hive &amp; Co</span></span>'
        '<span property="employmentType">Seasonal</span><meta property="datePosted" content="2026-04-01">'
        '<div property="description"><p>Keep bees.</p></div></div></body></html>'
    )
    posting = extract_job(server.page("/jobs/bees", html))
    assert (posting.title, posting.company, posting.employment_type) == ("Beekeeper", "Hive & Co", "temporary")
    assert posting.posted_at == date(2026, 4, 1) and posting.description == "Keep bees."


def test_job_board_site_name_is_not_the_employer(server) -> None:
    html = (
        '<html><head><meta property="og:site_name" content="Indeed">'
        '<script type="application/ld+json">{"@type":"JobPosting","title":"Cashier"}</script></head></html>'
    )
    assert extract_job(server.page("/viewjob", html)).company is None
