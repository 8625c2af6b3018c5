"""The demo site's responses, in the real shapes: Greenhouse, Lever and Ashby APIs, careers pages
with navigation/footer noise and pagination, job pages with schema.org JSON-LD."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, time
from functools import lru_cache

from devtools.demo.data import BOARD_KINDS, DemoCompany, DemoJob

BANNER = "Demo data — fictional companies"
_GH_EMPLOYMENT = {
    "full_time": "Full-time",
    "part_time": "Part-time",
    "contract": "Contract",
    "internship": "Intern",
    "temporary": "Temporary",
}
_ASHBY_EMPLOYMENT = {
    "full_time": "FullTime",
    "part_time": "PartTime",
    "contract": "Contract",
    "internship": "Intern",
    "temporary": "Temporary",
}
_ASHBY_WORKPLACE = {"onsite": "OnSite", "hybrid": "Hybrid", "remote": "Remote"}
_LEVER_WORKPLACE = {"onsite": "on-site", "hybrid": "hybrid", "remote": "remote"}
_SCHEMA_EMPLOYMENT = {
    "full_time": "FULL_TIME",
    "part_time": "PART_TIME",
    "contract": "CONTRACTOR",
    "internship": "INTERN",
    "temporary": "TEMPORARY",
}


def job_path(company: DemoCompany, job: DemoJob) -> str:
    if company.kind in BOARD_KINDS:
        from devtools.demo.boards import job_path as board_job_path

        return board_job_path(company, job)
    return f"/jobs/{company.slug}/{job.id}"


def _iso(job: DemoJob) -> str:
    return datetime.combine(job.posted_at, time(9, 30), tzinfo=UTC).isoformat()


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup)).strip()


def greenhouse_job(base: str, company: DemoCompany, job: DemoJob, content: bool, pay: bool = False) -> dict:
    data = {
        "id": int(job.id),
        "internal_job_id": int(job.id) - 1_000_000,
        "title": job.title,
        "updated_at": _iso(job),
        "requisition_id": f"REQ-{job.id[-4:]}",
        "location": {"name": job.location},
        "absolute_url": base + job_path(company, job) + "?gh_src=demo",
        "language": "en",
        "company_name": company.name,
        "first_published": _iso(job),
        "data_compliance": [],
        "metadata": [
            {
                "id": 1,
                "name": "Employment Type",
                "value": _GH_EMPLOYMENT[job.employment_type],
                "value_type": "single_select",
            },
            {"id": 2, "name": "Workplace Type", "value": job.workplace_type.title(), "value_type": "single_select"},
        ],
    }
    if content:
        data["content"] = html.escape(job.description_html, quote=True)  # Greenhouse escapes its HTML
        data["departments"] = [{"id": 11, "name": job.department, "child_ids": [], "parent_id": None}]
        data["offices"] = [{"id": 21, "name": job.city, "location": job.location, "child_ids": []}]
    if pay:
        data["pay_input_ranges"] = [
            {
                "min_cents": job.salary_min * 100,
                "max_cents": job.salary_max * 100,
                "currency_type": job.currency,
                "title": "Base salary",
                "blurb": "",
            }
        ]
    return data


def greenhouse_board(base: str, company: DemoCompany, jobs: list[DemoJob], content: bool) -> dict:
    return {"jobs": [greenhouse_job(base, company, j, content) for j in jobs], "meta": {"total": len(jobs)}}


def lever_posting(base: str, company: DemoCompany, job: DemoJob) -> dict:
    url = base + job_path(company, job)
    return {
        "id": job.id,
        "text": job.title,
        "categories": {
            "commitment": _GH_EMPLOYMENT[job.employment_type],
            "department": job.department,
            "location": job.location,
            "team": job.department + " Platform",
            "allLocations": [job.location],
        },
        "country": job.country,
        "createdAt": int(datetime.combine(job.posted_at, time(9, 30), tzinfo=UTC).timestamp() * 1000),
        "description": job.description_html.split("<h3>", 1)[0],
        "descriptionPlain": _plain(job.description_html.split("<h3>", 1)[0]),
        "lists": [
            {"text": block.split("</h3>", 1)[0], "content": block.split("<ul>", 1)[1].split("</ul>", 1)[0]}
            for block in job.description_html.split("<h3>")[1:]
        ],
        "additional": "<p>Benefits: flexible hours, learning budget, and a quiet office with plants.</p>",
        "additionalPlain": "Benefits: flexible hours, learning budget, and a quiet office with plants.",
        "hostedUrl": url,
        "applyUrl": url + "/apply",
        "workplaceType": _LEVER_WORKPLACE[job.workplace_type],
        "salaryRange": {
            "currency": job.currency,
            "interval": "per-year-salary",
            "min": job.salary_min,
            "max": job.salary_max,
        },
    }


def ashby_job(base: str, company: DemoCompany, job: DemoJob) -> dict:
    url = base + job_path(company, job)
    component = {
        "id": f"c-{job.id[:8]}",
        "summary": f"{job.currency} {job.salary_min} – {job.salary_max}",
        "compensationType": "Salary",
        "interval": "1 YEAR",
        "currencyCode": job.currency,
        "minValue": job.salary_min,
        "maxValue": job.salary_max,
    }
    return {
        "id": job.id,
        "title": job.title,
        "department": job.department,
        "team": job.department + " Platform",
        "employmentType": _ASHBY_EMPLOYMENT[job.employment_type],
        "location": job.location,
        "secondaryLocations": [],
        "publishedAt": _iso(job),
        "isListed": job.listed,
        "isRemote": job.workplace_type in ("remote", "hybrid"),
        "workplaceType": _ASHBY_WORKPLACE[job.workplace_type],
        "address": {
            "postalAddress": {"addressLocality": job.city, "addressRegion": job.region, "addressCountry": job.country}
        },
        "jobUrl": url,
        "applyUrl": url + "/application",
        "descriptionHtml": job.description_html,
        "descriptionPlain": _plain(job.description_html),
        "shouldDisplayCompensationOnJobPostings": True,
        "compensation": {
            "compensationTierSummary": component["summary"],
            "scrapeableCompensationSalarySummary": component["summary"],
            "compensationTiers": [
                {"id": "t1", "tierSummary": component["summary"], "title": "Base", "components": [component]}
            ],
            "summaryComponents": [component],
        },
    }


def ashby_board(base: str, company: DemoCompany, jobs: list[DemoJob]) -> dict:
    return {"apiVersion": "1", "jobs": [ashby_job(base, company, j) for j in jobs]}


def job_jsonld(base: str, company: DemoCompany, job: DemoJob) -> dict:
    data = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description_html,
        "datePosted": job.posted_at.isoformat(),
        "employmentType": _SCHEMA_EMPLOYMENT[job.employment_type],
        "identifier": {"@type": "PropertyValue", "name": company.name, "value": job.id},
        "hiringOrganization": {
            "@type": "Organization",
            "name": company.name,
            "sameAs": base + "/",
            "department": {"@type": "Organization", "name": job.department},
        },
        "jobLocation": {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": job.city,
                "addressRegion": job.region,
                "addressCountry": job.country,
            },
        },
        "baseSalary": {
            "@type": "MonetaryAmount",
            "currency": job.currency,
            "value": {
                "@type": "QuantitativeValue",
                "minValue": job.salary_min,
                "maxValue": job.salary_max,
                "unitText": "YEAR",
            },
        },
        "url": base + job_path(company, job),
        "directApply": True,
    }
    if job.workplace_type == "remote":
        data["jobLocationType"] = "TELECOMMUTE"
    return data


@lru_cache(maxsize=8)
def _nav(links: int) -> str:
    items = "".join(f'<li><a href="/topics/{i}">Topic {i}</a></li>' for i in range(max(0, links - 6)))
    return (
        '<header><nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/about">About</a></li>'
        '<li><a href="/blog">Blog</a></li><li><a href="/careers/">Careers</a></li>'
        '<li><a href="https://www.linkedin.com/company/example">LinkedIn</a></li>'
        f'<li><a href="https://twitter.com/example">Twitter</a></li>{items}</ul></nav></header>'
    )


_FOOTER = (
    '<footer><p><a href="/privacy">Privacy</a> · <a href="/terms">Terms</a> · '
    '<a href="mailto:hello@example.com">Contact</a> · <a href="/press-kit.pdf">Press kit (PDF)</a></p>'
    f"<p>{BANNER}. Nothing here is a real job.</p></footer>"
)
_COOKIES = (
    '<div id="cookie-banner" class="cookie-consent">We use cookies. <a href="/privacy">Learn more</a> '
    "<button>OK</button></div>"
)


def html_page(title: str, body: str, head: str = "", nav_links: int = 12, filler: bytes = b"") -> bytes:
    top = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}'
        "<style>body{font-family:sans-serif;margin:0 auto;max-width:60rem}.demo-banner{background:#fde68a;"
        "padding:.5rem;text-align:center}</style></head><body>"
        f'<div class="demo-banner" role="note">{BANNER}</div>{_COOKIES}{_nav(nav_links)}<main>{body}</main>'
    ).encode()
    return top + filler + (_FOOTER + "</body></html>").encode()


def job_page(base: str, company: DemoCompany, job: DemoJob, nav_links: int, filler: bytes) -> bytes:
    ld = json.dumps(job_jsonld(base, company, job)).replace("</", "<\\/")
    head = (
        f'<meta property="og:title" content="{html.escape(job.title)}">'
        f'<meta property="og:site_name" content="{html.escape(company.name)}">'
        f'<script type="application/ld+json">{ld}</script>'
    )
    body = (
        f'<article class="job"><h1>{html.escape(job.title)}</h1><p class="meta">{html.escape(company.name)} · '
        f'{html.escape(job.location)} · {job.department}</p><div class="description">{job.description_html}</div>'
        f'<p><a class="apply" href="{job_path(company, job)}/apply">Apply for this job</a></p></article>'
    )
    return html_page(f"{job.title} — {company.name}", body, head, nav_links, filler)


def careers_page(company: DemoCompany, jobs: list[DemoJob], page: int, pages: int) -> bytes:
    items = "".join(
        f'<li class="opening"><a href="{job_path(company, j)}?utm_source=careers&amp;utm_medium=web">'
        f"{html.escape(j.title)}</a> <span>{html.escape(j.location)}</span></li>"
        for j in jobs
    )
    if not jobs:
        items = "<li>No open roles right now. Check back soon!</li>"
    pager = []
    if page > 1:
        pager.append(f'<a href="?page={page - 1}" rel="prev">Previous</a>')
    pager += [f'<a href="?page={p}">{p}</a>' for p in range(1, pages + 1) if p != page]
    if page < pages:
        pager.append(f'<a href="?page={page + 1}" rel="next">Next</a>')
    body = (
        f"<h1>Open roles at {html.escape(company.name)}</h1><p>{BANNER}.</p>"
        f'<ul class="openings">{items}</ul><nav class="pagination">{"".join(pager)}</nav>'
        '<p><a href="/benefits.pdf">Our benefits (PDF)</a> · <a href="mailto:jobs@example.com">Email us</a> · '
        '<a href="https://www.linkedin.com/company/example/jobs">Follow us</a></p>'
    )
    return html_page(f"Careers at {company.name}", body)


def index_page(base: str, companies: list[tuple[str, str, int]]) -> bytes:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(source)}</code></td><td>{count}</td></tr>"
        for name, source, count in companies
    )
    body = (
        f"<h1>{BANNER}</h1><p>Fictional companies served in the shapes of Greenhouse, Lever, Ashby, Workday, "
        "SmartRecruiters, Workable, Recruitee, Personio, Teamtailor, BambooHR, Pinpoint, Rippling, Breezy HR "
        f"and a plain careers page.</p><table><tr><th>Company</th><th>Source</th><th>Open jobs</th></tr>{rows}</table>"
    )
    return html_page(BANNER, body)


def filler_block(size: int) -> bytes:
    """Realistic-looking filler (related links and text) to bring job pages to a target size."""
    if size <= 0:
        return b""
    unit = (
        '<section class="related"><h2>More about working here</h2><p>Our teams ship small changes often, '
        "write things down, and take turns on call. We care about calm weeks and clear goals.</p><ul>"
        + "".join(f'<li><a href="/stories/{i}">Team story {i}</a></li>' for i in range(8))
        + "</ul></section>"
    )
    data = unit.encode()
    return (data * (size // len(data) + 1))[:size].rsplit(b"</section>", 1)[0] + b"</section>"
