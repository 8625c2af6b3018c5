"""Fields stated in text: salary ranges with currency and period, types in titles, labels, job
boards, and the Greenhouse/Lever/Ashby mappings of them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ingest_app.core.crawl import fields
from ingest_app.core.crawl.extract import extract_from_html
from ingest_app.core.crawl.normalize import employment_type, parse_datetime
from ingest_app.core.crawl.sources import ashby, greenhouse, lever


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The base salary range for this role is $116K–$213K.", (116000, 213000, "USD", None)),
        ("USD 140,000 - 170,000 per year", (140000, 170000, "USD", "year")),
        ("Gehalt: €60.000–75.000 brutto jährlich", (60000, 75000, "EUR", "year")),
        ("Pay: £12.50 - £14.00 per hour", (12.5, 14, "GBP", "hour")),
        ("Hourly pay\nCA$30—CA$36 CAD", (30, 36, "CAD", "hour")),
        ("Salary: 18 000 – 24 000 PLN per month", (18000, 24000, "PLN", "month")),
        ("Pay: $25-$30/hr.", (25, 30, "USD", "hour")),
        ("We pay $95-120K plus equity", (95000, 120000, "USD", None)),
        ("Compensation: 4.000,50 € - 5.000 € monthly", (4000.5, 5000, "EUR", "month")),
        ("Earn $22 an hour from day one", (22, 22, "USD", "hour")),
        ("Compensation: $60/hour - $75/hour", (60, 75, "USD", "hour")),
        ("Salary: CHF 110'000 - 130'000", (110000, 130000, "CHF", None)),
        ("salary of 3500-4000 EUR gross per month", (3500, 4000, "EUR", "month")),
        ("We offer $100,000 – $120,000 a year plus bonus", (100000, 120000, "USD", "year")),
        ("The hourly rate is $25.50.", (25.5, 25.5, "USD", "hour")),
        ("Salary range: $150,000 to $120,000", (120000, 150000, "USD", None)),
    ],
)
def test_salary_in_text(text, expected) -> None:
    found = fields.salary_from_text(text)
    assert (found.low, found.high, found.currency, found.period) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We raised $5M from investors in 2025.",  # money, but not pay
        "Two to three years of experience with Python 3.12.",
        "A 401(k) plan with a 4% match.",
        "Salary: $0 - $0",  # the placeholder boards show when no range is set
        "Budget of $2,000 for books and courses.",
        "",
    ],
)
def test_text_without_a_salary(text) -> None:
    assert fields.salary_from_text(text) is None


def test_a_labelled_value_needs_no_pay_word() -> None:
    found = fields.salary_from_text("$45,000 - $55,000", labelled=True)
    assert (found.low, found.high, found.currency, found.period) == (45000, 55000, "USD", None)
    assert fields.salary_from_text("$45,000 - $55,000") is None


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("HOUR", "hour"),
        ("per-year-salary", "year"),
        ("per-hour-wage", "hour"),
        ("1 MONTH", "month"),
        ("p.a.", "year"),
        ("weekly", "week"),
        ("DAY", "day"),
        ("one-time", None),
        (None, None),
    ],
)
def test_salary_periods(raw, expected) -> None:
    assert fields.period(raw) == expected


@pytest.mark.parametrize(
    "title,expected",
    [
        ("Technical Writer (Contract)", "contract"),
        ("Marketing Intern - Summer 2027", "internship"),
        ("Software Engineering Internship", "internship"),
        ("Care Assistant (Part-time)", "part_time"),
        ("Cargo Loader [Seasonal]", "temporary"),
        ("Contract Manager", None),  # a job about contracts, not a contract job
        ("Internal Auditor", None),
        ("International Sales Lead", None),
        ("Backend-Entwickler (m/w/d)", None),
        (None, None),
    ],
)
def test_employment_type_from_title(title, expected) -> None:
    assert fields.employment_from_title(title) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("Short Term", "temporary"),
        ("Fixed-term", "temporary"),
        ("Permanent", "full_time"),
        ("Permanent - Part Time", "part_time"),
        ("Regular Full-Time", "full_time"),
        ("Vollzeit", "full_time"),
        ("Teilzeit", "part_time"),
        ("Co-op", "internship"),
        ("Befristet", "temporary"),
        ("Unbefristet", "full_time"),
    ],
)
def test_more_commitment_spellings(raw, expected) -> None:
    assert employment_type(raw) == expected


@pytest.mark.parametrize(
    "site_name,url,expected",
    [
        ("LinkedIn", "https://www.linkedin.com/jobs/view/1", None),
        ("Indeed", "https://uk.indeed.com/viewjob?jk=1", None),
        ("JobNest", "https://jobnest.example/viewjob/1", None),
        ("Greenhouse", "https://boards.greenhouse.io/x/jobs/1", None),
        ("Some Name", "https://www.glassdoor.com/job-listing/1", None),
        ("Pinecrest Careers", "https://pinecrest.example/jobs/1", "Pinecrest"),
        ("Careers at Bayside Marine", "https://bayside.example/careers/1", "Bayside Marine"),
        ("Lighthouse Coffee", "https://lighthouse.example/careers/1", "Lighthouse Coffee"),
        ("Leverage Labs", "https://leverage.example/jobs/1", "Leverage Labs"),
        (None, "https://x.example/", None),
    ],
)
def test_job_board_site_names_are_not_employers(site_name, url, expected) -> None:
    assert fields.employer_from_site_name(site_name, url) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Location: Portland, ME", ("location", "Portland, ME")),
        ("Employment type: Full-time", ("employment_type", "Full-time")),
        ("Salary range:  $1 - $2", ("salary", "$1 - $2")),
        ("Note: we reply within a week", None),
        ("Location:", None),
    ],
)
def test_labelled_lines(text, expected) -> None:
    assert fields.split_labelled(text) == expected


def test_labels_in_their_page_shapes() -> None:
    html = (
        "<html><body><main><h1>Rigger</h1>"
        "<dl><dt>Location</dt><dd>Gdańsk, PL</dd></dl>"
        "<p><strong>Employment Type:</strong> Contract</p>"
        "<ul><li><h3>Work model</h3><span>Hybrid</span></li></ul>"
        "<div>Salary: 30 000 - 36 000 PLN per month</div>"
        "<p>We are looking for an experienced rigger to join the yard team. You will plan lifts, inspect gear "
        "and train apprentices on safe practice. Experience with offshore cranes is required.</p>"
        "</main></body></html>"
    )
    posting = extract_from_html(html, "https://yard.example/jobs/rigger")
    assert posting.title == "Rigger" and posting.location == "Gdańsk, PL"
    assert posting.employment_type == "contract" and posting.workplace_type == "hybrid"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency, posting.salary_period) == (
        30000,
        36000,
        "PLN",
        "month",
    )


def test_structured_salary_wins_over_text_and_keeps_its_period() -> None:
    html = (
        '<script type="application/ld+json">{"@type":"JobPosting","title":"Nurse","description":'
        '"Pay: $40 - $50 per hour","baseSalary":{"@type":"MonetaryAmount","currency":"USD","value":'
        '{"@type":"QuantitativeValue","minValue":90000,"maxValue":110000,"unitText":"YEAR"}}}</script>'
    )
    posting = extract_from_html(html, "https://clinic.example/jobs/nurse")
    assert (posting.salary_min, posting.salary_max, posting.salary_period) == (90000, 110000, "year")


def test_hourly_rates_are_stored_as_hourly_never_annualized() -> None:
    html = (
        '<script type="application/ld+json">{"@type":"JobPosting","title":"Picker","baseSalary":'
        '{"@type":"MonetaryAmount","currency":"USD","value":{"@type":"QuantitativeValue","value":19,'
        '"unitText":"HOUR"}}}</script>'
    )
    posting = extract_from_html(html, "https://wh.example/jobs/picker")
    assert (posting.salary_min, posting.salary_max, posting.salary_period) == (19, 19, "hour")


def _greenhouse_job(**extra) -> dict:
    return {"id": 1, "title": "Planner", "company_name": "Acme", "content": "Plan.", **extra}


def test_greenhouse_without_first_published_has_no_posting_date() -> None:
    posting = greenhouse.posting_from_api(_greenhouse_job(updated_at="2026-07-14T12:45:00-04:00"), "u")
    assert posting.posted_at is None
    assert posting.source_updated_at == datetime(2026, 7, 14, 16, 45, tzinfo=UTC)
    posting = greenhouse.posting_from_api(
        _greenhouse_job(updated_at="2026-07-14T12:45:00Z", first_published="2026-07-01T09:00:00Z"), "u"
    )
    assert posting.posted_at == date(2026, 7, 1)


@pytest.mark.parametrize(
    "metadata,expected",
    [
        ([{"name": "Working Model Eligibility", "value": "1-In Office"}], (None, "onsite")),
        ([{"name": "Remote Status", "value": "Fully Remote"}], (None, "remote")),
        ([{"name": "Time Type", "value": "Part time"}], ("part_time", None)),
        ([{"name": "Position Type", "value": ["Temporary"]}], ("temporary", None)),
        (
            [{"name": "Office Location", "value": "Berlin"}, {"name": "Work Location Type", "value": "Hybrid"}],
            (
                None,
                "hybrid",
            ),
        ),
        ([{"name": "Hiring Manager", "value": "Full Time Pat"}], (None, None)),
    ],
)
def test_greenhouse_custom_fields_of_any_name(metadata, expected) -> None:
    posting = greenhouse.posting_from_api(_greenhouse_job(metadata=metadata), "u")
    assert (posting.employment_type, posting.workplace_type) == expected


def test_greenhouse_placeholder_pay_range_falls_through_to_the_job_post_range() -> None:
    job = _greenhouse_job(
        pay_input_ranges=[{"min_cents": 0, "max_cents": 0, "currency_type": "USD"}],
        metadata=[{"name": "Job Post Range", "value": {"min_value": "80000.0", "max_value": "95000.0", "unit": "USD"}}],
    )
    posting = greenhouse.posting_from_api(job, "u")
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (80000, 95000, "USD")
    job["metadata"] = []
    posting = greenhouse.posting_from_api(job, "u")
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (None, None, None)


def test_lever_interval_and_additional_text() -> None:
    base = {"id": "x", "text": "Courier", "categories": {"commitment": "Short Term"}}
    posting = lever.posting_from_api(
        {**base, "salaryRange": {"currency": "EUR", "interval": "per-hour-wage", "min": 14, "max": 16}}, "u"
    )
    assert (posting.salary_min, posting.salary_max, posting.salary_period) == (14, 16, "hour")
    assert posting.employment_type == "temporary"
    posting = lever.posting_from_api({**base, "additional": "<p>Pay range: €30,000 – €34,000 per year</p>"}, "u")
    assert (posting.salary_min, posting.salary_max, posting.salary_currency, posting.salary_period) == (
        30000,
        34000,
        "EUR",
        "year",
    )
    posting = lever.posting_from_api({**base, "salaryRange": {"currency": "EUR", "min": 0, "max": 0}}, "u")
    assert (posting.salary_min, posting.salary_currency) == (None, None)


def test_ashby_interval_is_the_period() -> None:
    job = {
        "id": "a",
        "title": "Tutor",
        "compensation": {
            "summaryComponents": [
                {
                    "compensationType": "Salary",
                    "interval": "1 HOUR",
                    "currencyCode": "USD",
                    "minValue": 30,
                    "maxValue": 40,
                }
            ]
        },
    }
    posting = ashby.posting_from_api(job, "u")
    assert (posting.salary_min, posting.salary_max, posting.salary_period) == (30, 40, "hour")


def test_datetimes_normalize_to_utc() -> None:
    assert parse_datetime("2026-03-02T10:15:00-05:00") == datetime(2026, 3, 2, 15, 15, tzinfo=UTC)
    assert parse_datetime(1767268800000) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_datetime("2026-03-02") == datetime(2026, 3, 2, tzinfo=UTC)
    assert parse_datetime("soon") is None and parse_datetime(None) is None


_BODY = (
    "<p>We are looking for an experienced person to join the team. You will plan work, fix things and help "
    "customers every day. Experience required. We offer training, a warm kitchen, fair rotas and good food "
    "for every shift.</p>"
)


@pytest.mark.parametrize(
    "content,expected",
    [
        (
            '<div><span class="label">Location</span><span class="value">Berlin, DE</span></div>'
            '<div><span class="label">Job type</span><span>Part-time</span></div>',
            ("Berlin, DE", "part_time", None, None),
        ),
        (
            "<p>Location: <span>Lisbon</span></p>"
            "<table><tr><th>Salary</th><td>€1.500 - €1.800 per month</td></tr></table>",
            ("Lisbon", None, (1500, 1800, "EUR"), "month"),
        ),
    ],
)
def test_label_and_value_in_sibling_or_child_elements(content, expected) -> None:
    posting = extract_from_html(f"<main><h1>Cook</h1>{content}{_BODY}</main>", "https://x.example/jobs/cook")
    salary = (posting.salary_min, posting.salary_max, posting.salary_currency) if posting.salary_min else None
    assert (posting.location, posting.employment_type, salary, posting.salary_period) == expected


def test_navigation_links_are_not_labels() -> None:
    html = f"<body><nav><a>Locations</a><a>Careers</a></nav><h1>Cook</h1>{_BODY}</body>"
    assert extract_from_html(html, "https://x.example/jobs/cook").location is None
