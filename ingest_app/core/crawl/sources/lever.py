"""lever:SITE via the Lever Postings API (paged with skip/limit, no total)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.extract import employer_of_page
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import SLUG, api_url, board_not_found, dedupe, listed, with_postings
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.settings import get_settings

PAGE_SIZE = 100
MAX_PAGES = 200


def _base() -> str:
    return get_settings().lever_api_base


def _postings(site: str) -> list[dict]:
    postings: list[dict] = []
    seen_ids: set[str] = set()
    for page in range(MAX_PAGES):
        url = api_url(_base(), "v0", "postings", site) + f"?mode=json&skip={page * PAGE_SIZE}&limit={PAGE_SIZE}"
        try:
            data = fetch_json(url)
        except CrawlError as err:
            raise board_not_found(err, "lever", site) from None
        if not isinstance(data, list):
            raise CrawlError("parse_error", "the lever board answer is not a list of postings", url=url)
        new = [p for p in data if isinstance(p, dict) and p.get("id") and str(p["id"]) not in seen_ids]
        for posting in new:
            seen_ids.add(str(posting["id"]))
            postings.append(posting)
        if len(data) < PAGE_SIZE or not new:  # a short page ends the list; so does a board ignoring skip
            break
    return postings


def _listed_job(site: str, posting: dict) -> ListedJob | None:
    return listed(
        posting.get("hostedUrl"),
        f"https://jobs.lever.co/{site}/{posting['id']}",
        posting.get("text"),
        posting["id"],
        {"source": "lever", "site": site, "job_id": posting["id"]},
    )


def list_jobs(site: str) -> list[ListedJob]:
    return dedupe([_listed_job(site, posting) for posting in _postings(site)])


def listing_postings(site: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing's postings are the full ones (the single-posting answer adds nothing)."""
    raw = _postings(site)
    by_id = {str(p["id"]): p for p in raw}
    return with_postings(dedupe([_listed_job(site, p) for p in raw]), by_id, posting_from_api)


def _description_html(posting: dict) -> str:
    parts = [posting.get("description") or posting.get("descriptionPlain") or ""]
    for block in posting.get("lists") or []:
        if isinstance(block, dict):
            parts.append(f"<h3>{block.get('text') or ''}</h3><ul>{block.get('content') or ''}</ul>")
    parts.append(posting.get("additional") or posting.get("additionalPlain") or "")
    return "\n".join(p for p in parts if p)


def _salary(posting: dict) -> fields.Salary | None:
    """salaryRange (its interval is the period), else a range stated in `additional`."""
    salary = posting.get("salaryRange")
    if isinstance(salary, dict):
        low, high = n.salary_range(salary.get("min"), salary.get("max"))
        if not fields.placeholder(low, high):
            return fields.Salary(
                low if low is not None else high,
                high if high is not None else low,
                n.currency(salary.get("currency")),
                fields.period(salary.get("interval")),
            )
    additional = posting.get("additionalPlain") or n.html_to_text(posting.get("additional"))
    return fields.salary_from_text(additional)


def posting_from_api(posting: dict, source_url: str, company: str | None = None) -> Posting:
    categories = posting.get("categories") or {}
    locations = categories.get("allLocations") or [categories.get("location")]
    salary = _salary(posting) or fields.Salary(None, None, None, None)
    result = Posting(
        source_url=source_url,
        title=n.clean_text(posting.get("text")),
        company=n.clean_text(company, 200),
        location=n.join_locations([loc for loc in locations if loc]),
        department=n.clean_text(categories.get("department") or categories.get("team"), 300),
        employment_type=n.employment_type(categories.get("commitment")),
        workplace_type=n.workplace_type(posting.get("workplaceType")),
        salary_min=salary.low,
        salary_max=salary.high,
        salary_currency=salary.currency,
        salary_period=salary.period,
        posted_at=n.parse_date(posting.get("createdAt")),
        source_updated_at=n.parse_datetime(posting.get("updatedAt")),
        description=n.html_to_text(_description_html(posting)),
        apply_url=posting.get("applyUrl") or posting.get("hostedUrl") or source_url,
        external_id=str(posting.get("id")) if posting.get("id") else None,
    )
    return fields.complete(result)


def extract(hints: dict, source_url: str) -> Posting:
    site, job_id = hints.get("site"), hints.get("job_id")
    if not site or not job_id:
        raise CrawlError("parse_error", "lever hints need site and job_id", url=source_url)
    data = fetch_json(api_url(_base(), "v0", "postings", str(site), str(job_id)) + "?mode=json")
    if not isinstance(data, dict) or not data.get("text"):
        raise CrawlError("not_a_job_page", "lever returned no job posting", url=source_url)
    company = hints.get("company")
    if not company and hints.get("find_company") and isinstance(data.get("hostedUrl"), str):
        company = employer_of_page(data["hostedUrl"])  # the API answer does not name the company
    return posting_from_api(data, source_url, company)


# ----- spec and URL recognition ----------------------------------------------------------------

FAMILY = "lever"
_HOSTS = ("jobs.lever.co", "jobs.eu.lever.co")
_UUID = re.compile(r"^[0-9a-f-]{36}$")


def normalize_board(value: str) -> str:
    """A site name, or any board/job URL of the site (`https://jobs.lever.co/acme`)."""
    value = value.strip()
    if "://" in value:
        spec = match_url(value)
        if spec is None:
            raise ValueError("a Lever board URL looks like https://jobs.lever.co/SITE")
        return spec.split(":", 1)[1]
    if not SLUG.match(value):
        raise ValueError(f"The lever site name must be 1-100 letters, digits, '.', '_' or '-' (got {value!r})")
    return value


def match_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if (parts.hostname or "").lower() in _HOSTS and segments and SLUG.match(segments[0]):
        return f"{FAMILY}:{segments[0]}"
    return None


def job_hints(site: str, url: str) -> dict | None:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments[-2:]):
        if _UUID.match(segment.lower()):
            return {"source": FAMILY, "site": site, "job_id": segment.lower()}
    return None
