"""recruitee:BOARD_URL via the Recruitee careers-site API (`{board}/api/offers/`). The listing
carries full postings (description, salary, remote flags), so extraction re-reads the (cached)
board; `{board}/api/offers/{slug}` answers for an offer the board no longer lists."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    BoardCache,
    dedupe,
    expect,
    fetch_board_json,
    job_ref,
    listed,
    required_hints,
    segment_after,
    tenant_board,
    tenant_ref,
    text_field,
    with_postings,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, Posting

FAMILY = "recruitee"
DOMAIN = "recruitee.com"
_cache = BoardCache()


def normalize_board(value: str) -> str:
    return tenant_board(value, DOMAIN)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, DOMAIN)


def job_hints(board: str, url: str) -> dict | None:
    slug = segment_after(board, url, "o")
    return job_ref(FAMILY, board, slug) if slug else None


def _entries(board: str) -> list[dict]:
    url = f"{board}/api/offers/"
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, dict) and isinstance(data.get("offers"), list), FAMILY, "has no offers list", url)
    offers = [o for o in data["offers"] if isinstance(o, dict) and o.get("slug")]
    _cache.store(board, _published(offers))
    return offers


def _published(offers: list[dict]) -> dict[str, dict]:
    return {str(o["slug"]): o for o in offers if o.get("status", "published") == "published"}


def _url(board: str, offer: dict) -> str:
    return f"{board}/o/{quote(str(offer['slug']), safe='')}"


def _listed(board: str, offers: list[dict]) -> list:
    return dedupe(
        [
            listed(
                offer.get("careers_url"),
                _url(board, offer),
                offer.get("title"),
                offer.get("id"),
                job_ref(FAMILY, board, offer["slug"]),
            )
            for offer in offers
            if offer.get("status", "published") == "published"
        ]
    )


def list_jobs(board: str) -> JobListing:
    return JobListing(_listed(board, _entries(board)))


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing and every listed offer's posting from the same answer: no per-job request."""
    offers = _entries(board)
    return with_postings(JobListing(_listed(board, offers)), _published(offers), posting_from_entry)


def _workplace(offer: dict) -> str | None:
    if offer.get("hybrid"):
        return "hybrid"
    if offer.get("remote"):
        return "remote"
    if offer.get("on_site"):
        return "onsite"
    return None


def posting_from_entry(offer: dict, source_url: str) -> Posting:
    """One Recruitee offer (a listing entry or the single-job answer) as a normalized posting."""
    salary = offer.get("salary") if isinstance(offer.get("salary"), dict) else {}
    low, high = n.salary_range(salary.get("min"), salary.get("max"))
    location = offer.get("location") or ", ".join(str(offer[k]) for k in ("city", "country") if offer.get(k))
    return Posting(
        source_url=source_url,
        title=n.clean_text(offer.get("title")),
        company=n.clean_text(offer.get("company_name"), 200),
        location=n.clean_text(location, 1000),
        department=n.clean_text(text_field(offer.get("department")), 300),
        employment_type=n.employment_type(offer.get("employment_type_code")),
        workplace_type=_workplace(offer),
        salary_min=low,
        salary_max=high,
        salary_currency=n.currency(salary.get("currency")),
        posted_at=n.parse_date(offer.get("published_at") or offer.get("created_at")),
        description=n.html_to_text("\n".join(str(offer.get(k) or "") for k in ("description", "requirements"))),
        apply_url=offer.get("careers_apply_url") or offer.get("careers_url") or source_url,
        external_id=str(offer["id"]) if offer.get("id") is not None else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    if isinstance(hints.get("entry"), dict):
        return posting_from_entry(hints["entry"], source_url)
    board, slug = required_hints(hints, FAMILY, source_url, "board", "job_id")
    offer = _cache.get(str(board), str(slug), lambda: _published(_entries(str(board)))).get(str(slug))
    if offer is not None:
        return posting_from_entry(offer, source_url)
    url = f"{board}/api/offers/{quote(str(slug), safe='')}"
    data = fetch_json(url)
    offer = data.get("offer") if isinstance(data, dict) else None
    if not isinstance(offer, dict) or not offer.get("title"):
        raise CrawlError("not_a_job_page", "recruitee returned no offer", url=source_url)
    return posting_from_entry(offer, source_url)


def clear_cache() -> None:
    _cache.clear()
