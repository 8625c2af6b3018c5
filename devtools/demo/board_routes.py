"""Routes of the demo site's board-URL families (see `boards.py` for the answer shapes)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from devtools.demo import boards, render
from devtools.demo.data import BOARD_KINDS, DemoCompany, DemoJob, board_path


class Boards(Protocol):
    """What these routes need of the site's companies and jobs (DemoSite is one): the site
    dispatches to the routes, so the routes know it only by these public members."""

    nav_links: int
    filler: bytes
    lock: Any  # a re-entrant lock guarding the companies

    def find(self, kind: str | None, slug: str, job_id: str | None = None) -> tuple[Any, Any]: ...

    def listed_jobs(self, company: DemoCompany) -> list[DemoJob]: ...

    def jobs(self, slug: str, listed_only: bool = True) -> list[DemoJob]: ...


Answer = tuple[int, str, bytes, dict]
TENANT_KINDS = ("recruitee", "personio", "teamtailor", "bamboohr", "pinpoint", "breezy")
API_HEADS = {"wday", "smartrecruiters-api", "workable-api", "rippling-api"}
WORKABLE_PAGE = 3  # small pages, so the demo boards page by `nextPage`
TEAMTAILOR_PAGE = 4


def _json(status: int, data) -> Answer:
    return status, "application/json; charset=utf-8", json.dumps(data).encode(), {}


def _xml(body: bytes) -> Answer:
    return 200, "application/xml; charset=utf-8", body, {}


def _not_found() -> Answer:
    return _json(404, {"error": "Not found"})


def _int(value, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def respond(site: Boards, base: str, path: str, parts: list[str], q: dict, method: str, body) -> Answer | None:
    """The answer for a board-family path, or None when the path is not one."""
    head = parts[0]
    if head == "wday" and len(parts) >= 5 and parts[1] == "cxs":
        return _workday(site, base, parts, method, body)
    if head == "smartrecruiters-api" and parts[1:3] == ["v1", "companies"] and len(parts) >= 5:
        return _smartrecruiters(site, base, parts[3], parts[5] if len(parts) > 5 else None, q)
    if head == "workable-api" and len(parts) >= 6 and parts[1] == "api":
        return _workable(site, base, parts, method, body)
    if head == "rippling-api" and parts[1:6] == ["platform", "api", "ats", "v1", "board"] and len(parts) >= 8:
        return _rippling(site, base, parts[6], parts[8] if len(parts) > 8 else None)
    if head in BOARD_KINDS and len(parts) >= 2:
        return _board(site, base, path, parts, q)
    return None


def _board(site: Boards, base: str, path: str, parts: list[str], q: dict) -> Answer:
    """A family served under /KIND/SLUG/...: its tenant API (if it has one), else its pages."""
    head = parts[0]
    company, _ = site.find(head, parts[1])
    if company is None:
        return _not_found() if head in TENANT_KINDS and len(parts) > 2 else _html_404()
    if head in TENANT_KINDS:
        answer = _tenant_api(site, base, company, parts[2:], q)
        if answer is not None:
            return answer
    return _page(site, base, company, path)


def _html_404() -> Answer:
    return 404, "text/html; charset=utf-8", render.html_page("Not found", "<h1>Not found</h1>"), {}


def _page(site: Boards, base: str, company: DemoCompany, path: str) -> Answer:
    """The board's page (job links) or a job page with JSON-LD, at the family's URL shapes."""
    with site.lock:
        jobs = list(company.jobs)
    if path.rstrip("/") == board_path(company.kind, company.slug):
        listed = [j for j in jobs if j.listed]
        page = render.careers_page(company, listed, 1, 1)
        return 200, "text/html; charset=utf-8", page, {}
    for job in jobs:
        job_path = render.job_path(company, job)
        if path == job_path or path.rstrip("/") == job_path.rstrip("/"):
            return (
                200,
                "text/html; charset=utf-8",
                render.job_page(base, company, job, site.nav_links, site.filler),
                {},
            )
        if path.rstrip("/") in (job_path.rstrip("/") + "/apply", job_path.rstrip("/") + "/c/new"):
            body = render.html_page("Apply", f"<h1>Apply: {job.title}</h1><p>{render.BANNER}.</p>")
            return 200, "text/html; charset=utf-8", body, {}
    gone = render.html_page("Not found", "<h1>This job is no longer available</h1>")
    return 404, "text/html; charset=utf-8", gone, {}


def _workday(site: Boards, base: str, parts: list[str], method: str, body) -> Answer:
    company, _ = site.find("workday", parts[2])
    if company is None or parts[3] != "External":
        return _json(404, {"errorCode": "HTTP_404", "httpStatus": 404, "message": "Not found"})
    if parts[4] == "jobs" and len(parts) == 5:
        if method != "POST":
            return _json(405, {"errorCode": "HTTP_405", "httpStatus": 405, "message": "Method not allowed"})
        if not isinstance(body, dict):
            return _json(400, {"errorCode": "HTTP_400", "httpStatus": 400, "message": "Bad request"})
        offset, limit = _int(body.get("offset")), _int(body.get("limit"), 20)
        facets = body.get("appliedFacets") if isinstance(body.get("appliedFacets"), dict) else {}
        if limit > 20:
            return _json(400, {"errorCode": "HTTP_400", "httpStatus": 400, "message": "limit must be at most 20"})
        jobs = site.listed_jobs(company) if offset == 0 and not facets else site.jobs(company.slug)
        return _json(200, boards.workday_page(jobs, offset, limit, facets))
    if parts[4] == "job":
        external = "/" + "/".join(parts[4:])
        with site.lock:
            job = next((j for j in company.jobs if boards.workday_external_path(j) == external), None)
        if job is None:
            return _json(404, {"errorCode": "HTTP_404", "httpStatus": 404, "message": "Not found"})
        return _json(200, boards.workday_job(base, company, job))
    return _json(404, {"errorCode": "HTTP_404", "httpStatus": 404, "message": "Not found"})


def _smartrecruiters(site: Boards, base: str, slug: str, posting_id: str | None, q: dict) -> Answer:
    company, job = site.find("smartrecruiters", slug, posting_id)
    if posting_id is not None:
        if job is None:
            return _json(404, {"code": "POSTING_NOT_FOUND", "message": "Posting not found"})
        return _json(200, boards.smartrecruiters_posting(base, company, job, detail=True))
    if company is None:  # SmartRecruiters answers an empty page for an unknown company
        return _json(200, {"offset": 0, "limit": 100, "totalFound": 0, "content": []})
    offset, limit = _int(q.get("offset")), min(_int(q.get("limit"), 10) or 10, 100)
    jobs = site.listed_jobs(company) if offset == 0 else site.jobs(slug)
    page = [boards.smartrecruiters_posting(base, company, j, detail=False) for j in jobs[offset : offset + limit]]
    return _json(200, {"offset": offset, "limit": limit, "totalFound": len(jobs), "content": page})


def _workable(site: Boards, base: str, parts: list[str], method: str, body) -> Answer:
    version = parts[2]
    if version == "v1" and parts[3:5] == ["widget", "accounts"] and len(parts) == 6:
        company, _ = site.find("workable", parts[5])
        if company is None:
            return _json(404, {"error": "Not found"})
        return _json(200, boards.workable_widget(base, company, site.listed_jobs(company)))
    if parts[3] != "accounts" or len(parts) < 6:
        return _not_found()
    company, job = site.find("workable", parts[4], parts[6] if len(parts) > 6 else None)
    if company is None:
        return _json(404, {"error": "Not found"})
    if version == "v3" and len(parts) == 6 and parts[5] == "jobs":
        return _workable_v3_jobs(site, company, method, body)
    if version == "v2" and len(parts) == 7 and parts[5] == "jobs":
        if job is None:
            return _json(404, {"error": "Not found"})
        return _json(200, boards.workable_v2_job(job))
    return _not_found()


def _workable_v3_jobs(site: Boards, company: DemoCompany, method: str, body) -> Answer:
    """Workable's v3 job list: a POST, paged by a `token` the previous page handed out."""
    if method != "POST":
        return _json(405, {"error": "Method not allowed"})
    token = str(body.get("token") or "") if isinstance(body, dict) else ""
    offset = _int(token[1:]) if token.startswith("p") else 0
    jobs = site.listed_jobs(company) if offset == 0 else site.jobs(company.slug)
    page = jobs[offset : offset + WORKABLE_PAGE]
    data = {"total": len(jobs), "results": [boards.workable_v3_job(j) for j in page]}
    if offset + WORKABLE_PAGE < len(jobs):
        data["nextPage"] = f"p{offset + WORKABLE_PAGE}"
    return _json(200, data)


def _rippling(site: Boards, base: str, slug: str, job_id: str | None) -> Answer:
    company, job = site.find("rippling", slug, job_id)
    if company is None or (job_id is not None and job is None):
        return _json(404, {"detail": "Not found."})
    if job is not None:
        return _json(200, boards.rippling_job(base, company, job, detail=True))
    return _json(200, [boards.rippling_job(base, company, j, detail=False) for j in site.listed_jobs(company)])


def _tenant_api(site: Boards, base: str, company: DemoCompany, sub: list[str], q: dict) -> Answer | None:
    kind = company.kind
    if kind == "recruitee" and sub[:2] == ["api", "offers"]:
        return _recruitee(site, base, company, sub)
    if kind == "personio" and sub == ["xml"]:
        return _xml(boards.personio_xml(company, site.listed_jobs(company)))
    if kind == "teamtailor" and sub == ["jobs.rss"]:
        offset = _int(q.get("offset"))
        jobs = site.listed_jobs(company) if offset == 0 else site.jobs(company.slug)
        return _xml(boards.teamtailor_rss(base, company, jobs, offset, TEAMTAILOR_PAGE))
    if kind == "bamboohr" and sub[:1] == ["careers"]:
        answer = _bamboohr(site, base, company, sub)
        if answer is not None:
            return answer
    if kind == "pinpoint" and sub == ["postings.json"]:
        return _json(200, {"data": [boards.pinpoint_posting(base, company, j) for j in site.listed_jobs(company)]})
    if kind == "breezy" and sub == ["json"]:
        return _json(200, [boards.breezy_position(base, company, j) for j in site.listed_jobs(company)])
    return None


def _recruitee(site: Boards, base: str, company: DemoCompany, sub: list[str]) -> Answer:
    if len(sub) == 2:
        return _json(200, {"offers": [boards.recruitee_offer(base, company, j) for j in site.listed_jobs(company)]})
    _, job = site.find("recruitee", company.slug, sub[2])
    if job is None:
        return _json(404, {"error": "Not found"})
    return _json(200, {"offer": boards.recruitee_offer(base, company, job)})


def _bamboohr(site: Boards, base: str, company: DemoCompany, sub: list[str]) -> Answer | None:
    """careers/list and careers/ID/detail; None for any other careers path (the pages answer)."""
    if sub[1:] == ["list"]:
        jobs = site.listed_jobs(company)
        return _json(200, {"meta": {"totalCount": len(jobs)}, "result": [boards.bamboohr_entry(j) for j in jobs]})
    if len(sub) == 3 and sub[2] == "detail":
        _, job = site.find("bamboohr", company.slug, sub[1])
        if job is None:
            return _json(404, {"error": "Not found"})
        return _json(200, boards.bamboohr_detail(base, company, job))
    return None
