"""Every pattern and scan applied to fetched content, fed a hostile input the size of the largest
page the crawler accepts: each finishes well under a second (the old `_SITE_NAME` pattern took 40 s
on 234 KB; the old tag pattern was quadratic on "<" followed by spaces)."""

from __future__ import annotations

import time

import pytest

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.extract import extract_from_html, site_name
from ingest_app.core.crawl.jsonld import ld_blocks
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.settings import Settings

CAP = Settings.model_fields["crawler_max_bytes"].default  # the largest page a fetch returns
BOUND = 2.0  # CPU seconds of the test's thread; the superlinear scans took 20 s and more at this size


def fill(unit: str, head: str = "", tail: str = "") -> str:
    return head + unit * ((CAP - len(head) - len(tail)) // len(unit)) + tail


def _page(markup: str) -> object:
    try:
        return extract_from_html(markup, "https://hostile.example/jobs/1")
    except CrawlError as err:
        return err.kind


LD = '<script type="application/ld+json">'
PAGES = {
    # og:site_name: the old pattern `<meta[^>]+property=...` rescanned from every "<meta"
    "site_name_unclosed_metas": fill("<meta og:site_name "),
    "site_name_many_metas": fill('<meta property="og:site_name" content="x" '),
    # the ld+json script scan: needles without tags, tags without ends, many empty scripts
    "ld_needles_without_tags": fill("ld+json"),
    "script_tags_never_closed": fill("<script "),
    "empty_ld_scripts": fill(LD + "</script>"),
    "entity_typed_scripts": fill('<script type="application/ld&#x2B;json"></script>'),
    # the JSON-LD repair: string tokens and trailing commas
    "ld_escaped_quotes": fill('\\"', LD + '"'),
    "ld_comma_then_spaces": fill(" ", LD + '{"a": 1,'),
    "ld_many_commas": fill(",   ", LD + "[1"),
    "ld_deep_nesting": fill("[", LD),
    # microdata / RDFa walks and the fallback's labels, noise filter and job words
    "microdata_props": fill(
        '<span itemprop="title">x</span>', '<div itemscope itemtype="http://schema.org/JobPosting">'
    ),
    "rdfa_props": fill('<span property="title">x</span>', '<div vocab="https://schema.org/" typeof="JobPosting">'),
    "labels": fill("<b>Location:</b> x ", "<main><h1>Job</h1>"),
    "salary_lines": fill("<p>Salary: $1 - $2</p>", "<main><h1>Job</h1>"),
    "noise_attributes": fill('<div class="cookie menu x">a</div>', "<main><h1>Job</h1>"),
    "huge_class_attribute": "<main><h1>Job</h1><div class='" + "m" * (CAP - 40) + "'>x</div></main>",
    "dollar_signs": fill("$", "<main><h1>Job</h1><p>"),
    "nested_spans": fill("<span>", "<main><h1>Job</h1>"),
    "job_words_miss": fill("a", "<main><h1>Job</h1><p>"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_hostile_page_at_the_size_cap_is_read_quickly(name) -> None:
    page = PAGES[name]
    assert len(page) >= CAP * 0.95
    started = time.thread_time()
    _page(page)
    assert time.thread_time() - started < BOUND


TEXTS = {
    # normalize: the tag-like check, whitespace squeezing, keywords, numbers, dates, currencies
    "tag_like_lt_then_spaces": (n.html_to_text, fill(" ", "&lt;", "1")),
    "tag_like_many_lts": (n.html_to_text, fill("< ")),
    "blank_lines": (n.html_to_text, fill("\n \n", "<p>", "</p>")),
    "short_field": (n.clean_text, fill("&amp; <b>x</b> ")),
    "keywords": (n.employment_type, fill("aB")),
    "workplace_keywords": (n.workplace_type, fill("on site ")),
    "number": (n.number, fill("1")),
    "date": (n.parse_date, fill("2")),
    "datetime": (n.parse_datetime, fill("2026-")),
    "currency": (n.currency, fill("U")),
    # fields: salary anchors and windows, periods, titles, labels, site names
    "salary_amounts": (fields.salary_from_text, fill("$1 ")),
    "salary_one_long_number": (fields.salary_from_text, fill("1", "$")),
    "salary_thousands_groups": (fields.salary_from_text, fill(",000", "salary $1")),
    "salary_ranges_without_currency": (fields.salary_from_text, fill("1 - 2 ")),
    "period_words": (fields.period, fill("per ")),
    "title_brackets": (fields.employment_from_title, fill("(")),
    "title_separators": (fields.workplace_from_title, fill(" - ")),
    "label": (fields.split_labelled, fill(":")),
    "site_name": (fields.employer_from_site_name, fill("Jobs ")),
    "raw_site_name_scan": (site_name, fill('<meta name="og:site_name" ')),
    "ld_blocks": (lambda text: list(ld_blocks(text)), fill("<script>x</script>")),
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_hostile_text_at_the_size_cap_is_read_quickly(name) -> None:
    function, text = TEXTS[name]
    started = time.thread_time()
    function(text)
    assert time.thread_time() - started < BOUND
