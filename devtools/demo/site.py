"""A demo/fixture job site on 127.0.0.1: fictional companies served in the shapes of the Greenhouse,
Lever and Ashby APIs, of the ten board-URL families (Workday, SmartRecruiters, Workable, Recruitee,
Personio, Teamtailor, BambooHR, Pinpoint, Rippling, Breezy: `board_routes.py`) and as a plain
careers page, with JSON-LD job pages.

    server = start_demo_server()            # DemoSite.default(): 14 small companies, one per family
    os.environ.update(server.settings_env())  # point the crawler at it
    server.company_sources()                # [{"name": ..., "source": "greenhouse:northwind"}, ...]
    server.stop()

`DemoSite` is mutable while served (add/remove jobs), can be generated big
(`DemoSite.generate(companies=4, jobs_per_company=500, page_kb=50)`), and injects latency
(`set_latency`) and failures (`inject_failure`).

URL layout under the base URL:
    /greenhouse/v1/boards/{slug}/jobs[/{id}]      Greenhouse Job Board API
    /lever/v0/postings/{slug}[/{id}]?skip=&limit= Lever Postings API
    /ashby/posting-api/job-board/{slug}           Ashby job board API
    /careers/{slug}/?page=N                       careers page (nav/footer/cookie noise, pagination)
    /jobs/{slug}/{id}                             job page with schema.org JSON-LD (the first four kinds)
    /wday/cxs/{slug}/External/jobs (POST), /job/. Workday CXS; boards at /workday/{slug}/External
    /smartrecruiters-api/, /workable-api/, /rippling-api/   the settings-based families' APIs
    /{family}/{slug}/...                          a board-URL family's board: its endpoints (Recruitee
                                                  /api/offers, Personio /xml, Teamtailor /jobs.rss,
                                                  BambooHR /careers/list, Pinpoint /postings.json,
                                                  Breezy /json) and JSON-LD job pages at its job URLs
    /robots.txt, /                                robots rules, an index of the companies
    /companies.csv                                the companies as `name,source` (the app's "Add demo
                                                  companies" reads it, never this package)

ATS jobs are extracted from the API shapes; `kinds=("careers",)` makes every job a page fetch
(mind `CRAWLER_MAX_PAGES` x `page_size` for very large careers listings). Companies created with
`rotate=True` swap one posting out (still served by id, like a closed posting) and one in on each
listing after their first, at most once per `rotate_min_interval` seconds.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import dataclass

from devtools.demo import board_routes, render
from devtools.demo.data import (
    ALL_KINDS,
    COMPANY_SUFFIX,
    COMPANY_WORDS,
    DEFAULT_COMPANIES,
    KINDS,
    DemoCompany,
    DemoJob,
    JobFactory,
    slugify,
    source_for,
)
from devtools.demo.server import DemoServer

__all__ = ["DemoServer", "DemoSite", "demo_company_sources", "start_demo_server"]

ROBOTS_TXT = b"User-agent: *\nDisallow: /internal/\n"
COMPANIES_CSV_PATH = "/companies.csv"  # where the app's "Add demo companies" reads the list


@dataclass
class _Failure:
    status: int
    remaining: int | None
    retry_after: float | None
    exact: bool = False


class DemoSite:
    """Mutable in-memory companies and jobs. Thread-safe."""

    def __init__(
        self,
        *,
        seed: int = 7,
        page_kb: int = 0,
        nav_links: int = 12,
        latency: float = 0.0,
        rotate_min_interval: float = 10.0,
    ):
        self.companies: dict[str, DemoCompany] = {}
        self.factory = JobFactory(seed)
        self.base_url = ""
        self.nav_links = nav_links
        self.latency = latency
        self.rotate_min_interval = rotate_min_interval
        self.request_count = 0
        self._path_latency: dict[str, float] = {}
        self._failures: dict[str, _Failure] = {}
        self.filler = render.filler_block(page_kb * 1024 - 9 * 1024) if page_kb else b""
        self.lock = threading.RLock()

    # ----- building -----------------------------------------------------------------------------
    @classmethod
    def default(cls, rotate: bool = True) -> DemoSite:
        """The small demo for `make run`: one company per source family, 5-8 jobs each. With `rotate`,
        every listing after a company's first one swaps one posting out and one in."""
        site = cls()
        for name, kind, slug, count in DEFAULT_COMPANIES:
            site.add_company(name, kind, slug=slug, jobs=count, rotate=rotate)
        return site

    @classmethod
    def generate(
        cls,
        companies: int = 4,
        jobs_per_company: int = 500,
        *,
        page_kb: int = 50,
        nav_links: int = 200,
        latency: float = 0.0,
        kinds: tuple[str, ...] = KINDS,
        seed: int = 7,
        page_size: int = 50,
    ) -> DemoSite:
        """A big site: e.g. 4 x 500 = 2,000 job pages of ~`page_kb` KB with JSON-LD."""
        site = cls(seed=seed, page_kb=page_kb, nav_links=nav_links, latency=latency)
        for i in range(companies):
            word = COMPANY_WORDS[i % len(COMPANY_WORDS)]
            name = f"{word} {COMPANY_SUFFIX[(i // len(COMPANY_WORDS) + i) % len(COMPANY_SUFFIX)]}"
            if i >= len(COMPANY_WORDS):
                name += f" {i}"
            site.add_company(name, kinds[i % len(kinds)], jobs=jobs_per_company, page_size=page_size)
        return site

    def add_company(
        self, name: str, kind: str, *, slug: str | None = None, jobs: int = 0, rotate: bool = False, page_size: int = 10
    ) -> DemoCompany:
        if kind not in ALL_KINDS:
            raise ValueError(f"kind must be one of {ALL_KINDS}")
        with self.lock:
            slug = slug or slugify(name)
            base, n = slug, 2
            while slug in self.companies:
                slug, n = f"{base}-{n}", n + 1
            company = DemoCompany(slug=slug, name=name, kind=kind, rotate=rotate, page_size=page_size)
            self.companies[slug] = company
            for _ in range(jobs):
                company.jobs.append(self.factory.make(company))
            return company

    def add_job(self, slug: str, title: str | None = None, **fields) -> DemoJob:
        with self.lock:
            company = self.companies[slug]
            job = self.factory.make(company, title=title, **fields)
            company.jobs.append(job)
            return job

    def remove_job(self, slug: str, job_id: str) -> None:
        """The job disappears: from listings, the APIs and its page (404)."""
        with self.lock:
            company = self.companies[slug]
            company.jobs = [j for j in company.jobs if j.id != str(job_id)]

    def jobs(self, slug: str, listed_only: bool = True) -> list[DemoJob]:
        with self.lock:
            return [j for j in self.companies[slug].jobs if j.listed or not listed_only]

    def job_url(self, slug: str, job_id: str) -> str:
        with self.lock:
            company = self.companies[slug]
            job = next(j for j in company.jobs if j.id == str(job_id))
            return self.base_url + render.job_path(company, job)

    def listed_urls(self, slug: str) -> list[str]:
        with self.lock:
            company = self.companies[slug]
            return [self.base_url + render.job_path(company, j) for j in company.jobs if j.listed]

    def company_sources(self, base_url: str | None = None) -> list[dict[str, str]]:
        base = base_url or self.base_url
        with self.lock:
            return [{"name": c.name, "source": source_for(c.kind, c.slug, base)} for c in self.companies.values()]

    def companies_csv(self, base_url: str | None = None) -> bytes:
        """`company_sources` as the CSV the app's company import reads (`name,source`)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "source"])
        writer.writerows([c["name"], c["source"]] for c in self.company_sources(base_url))
        return out.getvalue().encode("utf-8")

    # ----- behaviour ------------------------------------------------------------------------------
    def set_latency(self, seconds: float, path_prefix: str | None = None) -> None:
        """Delay every response (or those under `path_prefix`) by `seconds`."""
        with self.lock:
            if path_prefix is None:
                self.latency = seconds
            else:
                self._path_latency[path_prefix] = seconds

    def inject_failure(
        self,
        path_prefix: str,
        status: int = 500,
        times: int | None = None,
        retry_after: float | None = None,
        exact: bool = False,
    ) -> None:
        """Answer `status` for requests under `path_prefix` (or only at that path, with `exact`),
        `times` times or until cleared."""
        with self.lock:
            self._failures[path_prefix] = _Failure(status, times, retry_after, exact)

    def clear_failures(self) -> None:
        with self.lock:
            self._failures.clear()

    def delay_for(self, path: str) -> float:
        with self.lock:
            extra = [s for p, s in self._path_latency.items() if path.startswith(p)]
            return max(extra) if extra else self.latency

    def failure_for(self, path: str) -> _Failure | None:
        with self.lock:
            for prefix, failure in self._failures.items():
                if path == prefix or (not failure.exact and path.startswith(prefix)):
                    if failure.remaining is not None:
                        if failure.remaining <= 0:
                            continue
                        failure.remaining -= 1
                    return failure
        return None

    def listed_jobs(self, company: DemoCompany) -> list[DemoJob]:
        """Jobs for one listing request; rotates the listing of companies that rotate."""
        with self.lock:
            now = time.monotonic()
            if company.rotate and company.listings and now - company.last_rotation >= self.rotate_min_interval:
                visible = [j for j in company.jobs if j.listed]
                if visible:
                    visible[0].listed = False  # still served by id, like a closed posting's page
                company.jobs.append(self.factory.make(company))
                company.last_rotation = now
            if not company.listings:
                company.last_rotation = now
            company.listings += 1
            return [j for j in company.jobs if j.listed]

    def find(self, kind: str | None, slug: str, job_id: str | None = None):
        with self.lock:
            company = self.companies.get(slug)
            if company is None or (kind is not None and company.kind != kind):
                return None, None
            if job_id is None:
                return company, None
            job = next((j for j in company.jobs if j.id == job_id), None)
            return company, job

    # ----- routing --------------------------------------------------------------------------------
    def respond(
        self, path: str, query: dict[str, list[str]], host: str, method: str = "GET", body: object = None
    ) -> tuple[int, str, bytes, dict]:
        """(status, content type, body, extra headers) for a GET (or a POST with a parsed JSON body)."""
        base = self.base_url or f"http://{host}"
        parts = [p for p in path.split("/") if p]
        q = {k: v[-1] for k, v in query.items()}
        if path == "/robots.txt":
            return 200, "text/plain", ROBOTS_TXT, {}
        if path == COMPANIES_CSV_PATH:
            return 200, "text/csv; charset=utf-8", self.companies_csv(base), {}
        if not parts:
            return self._index(base)
        answer = self._family_api(base, parts, q)
        if answer is None:
            answer = board_routes.respond(self, base, path, parts, q, method, body)
        if answer is None and parts[0] == "jobs" and len(parts) >= 3:
            answer = self._job_page(base, parts)
        return answer or _html(render.html_page("Not found", "<h1>Not found</h1>"), 404)

    def _index(self, base: str) -> tuple[int, str, bytes, dict]:
        with self.lock:
            rows = [
                (c.name, source_for(c.kind, c.slug, base), sum(j.listed for j in c.jobs))
                for c in self.companies.values()
            ]
        return _html(render.index_page(base, rows))

    def _family_api(self, base: str, parts: list[str], q: dict[str, str]) -> tuple[int, str, bytes, dict] | None:
        """The Greenhouse, Lever and Ashby APIs and the careers pages; None for any other path."""
        head, rest = parts[0], parts[1:3]
        if head == "greenhouse" and rest == ["v1", "boards"] and len(parts) >= 5 and parts[4] == "jobs":
            return self._greenhouse(base, parts[3], parts[5] if len(parts) > 5 else None, q)
        if head == "lever" and rest == ["v0", "postings"] and len(parts) >= 4:
            return self._lever(base, parts[3], parts[4] if len(parts) > 4 else None, q)
        if head == "ashby" and rest == ["posting-api", "job-board"] and len(parts) == 4:
            return self._ashby(base, parts[3])
        if head == "careers" and len(parts) == 2:
            return self._careers(parts[1], q)
        return None

    def _ashby(self, base: str, slug: str) -> tuple[int, str, bytes, dict]:
        company, _ = self.find("ashby", slug)
        if company is None:
            return _json(404, {"success": False, "error": "Not found"})
        self.listed_jobs(company)
        with self.lock:
            jobs = list(company.jobs)
        return _json(200, render.ashby_board(base, company, jobs))

    def _job_page(self, base: str, parts: list[str]) -> tuple[int, str, bytes, dict]:
        """/jobs/SLUG/ID (the posting) and /jobs/SLUG/ID/... (its apply pages)."""
        company, job = self.find(None, parts[1], parts[2])
        if job is None:
            return _html(render.html_page("Not found", "<h1>This job is no longer available</h1>"), 404)
        if len(parts) > 3:  # apply / application pages
            return _html(render.html_page("Apply", f"<h1>Apply: {job.title}</h1><p>{render.BANNER}.</p>"))
        return _html(render.job_page(base, company, job, self.nav_links, self.filler))

    def _greenhouse(self, base, slug, job_id, q) -> tuple[int, str, bytes, dict]:
        company, job = self.find("greenhouse", slug, job_id)
        if company is None or (job_id is not None and job is None):
            return _json(404, {"status": 404, "error": "Job not found"})
        if job is not None:
            return _json(200, render.greenhouse_job(base, company, job, True, q.get("pay_transparency") == "true"))
        jobs = self.listed_jobs(company)
        return _json(200, render.greenhouse_board(base, company, jobs, q.get("content") == "true"))

    def _lever(self, base, slug, job_id, q) -> tuple[int, str, bytes, dict]:
        company, job = self.find("lever", slug, job_id)
        if company is None or (job_id is not None and job is None):
            return _json(404, {"ok": False, "error": "Document not found"})
        if job is not None:
            return _json(200, render.lever_posting(base, company, job))
        skip, limit = int(q.get("skip", 0) or 0), int(q.get("limit", 0) or 0)
        jobs = self.listed_jobs(company) if skip == 0 else self.jobs(slug)
        jobs = jobs[skip : skip + limit] if limit else jobs[skip:]
        return _json(200, [render.lever_posting(base, company, j) for j in jobs])

    def _careers(self, slug, q) -> tuple[int, str, bytes, dict]:
        company, _ = self.find("careers", slug)
        if company is None:
            return _html(render.html_page("Not found", "<h1>Not found</h1>"), 404)
        try:
            page = max(1, int(q.get("page", 1)))
        except ValueError:
            page = 1
        jobs = self.listed_jobs(company) if page == 1 else self.jobs(slug)
        size = max(1, company.page_size)
        pages = max(1, -(-len(jobs) // size))
        return _html(render.careers_page(company, jobs[(page - 1) * size : page * size], page, pages))


def _json(status: int, data) -> tuple[int, str, bytes, dict]:
    return status, "application/json; charset=utf-8", json.dumps(data).encode(), {}


def _html(body: bytes, status: int = 200) -> tuple[int, str, bytes, dict]:
    return status, "text/html; charset=utf-8", body, {}


def start_demo_server(site: DemoSite | None = None, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    return DemoServer(site or DemoSite.default(), host, port)


def demo_company_sources(base_url: str) -> list[dict[str, str]]:
    """The default demo companies' sources for a demo site served at `base_url`."""
    return [{"name": name, "source": source_for(kind, slug, base_url)} for name, kind, slug, _ in DEFAULT_COMPANIES]
