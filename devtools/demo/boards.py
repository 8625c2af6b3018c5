"""The demo site's boards for the board-URL families, in the shapes of their public endpoints:
Workday (CXS), SmartRecruiters, Workable, Recruitee, Personio (XML), Teamtailor (RSS), BambooHR,
Pinpoint, Rippling and Breezy. Every job also has a JSON-LD page at its family's job URL."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time
from email.utils import format_datetime
from xml.sax.saxutils import escape

from devtools.demo.data import DemoCompany, DemoJob, board_path, slugify

_LABEL = {
    "full_time": "Full-time",
    "part_time": "Part-time",
    "contract": "Contract",
    "internship": "Internship",
    "temporary": "Temporary",
}
_WORKDAY_TIME = {"part_time": "Part time"}  # Workday says only full or part time
_RECRUITEE_CODE = {
    "full_time": "fulltime_permanent",
    "part_time": "parttime",
    "contract": "contract",
    "internship": "internship",
    "temporary": "fulltime_fixed_term",
}
_PERSONIO_TYPE = {"contract": "freelance", "internship": "intern", "temporary": "temporary"}
_BAMBOO_PLACE = {"onsite": "0", "remote": "1", "hybrid": "2"}
_WORKABLE_TYPE = {"full_time": "full", "part_time": "part", "contract": "contract", "internship": "internship"}
_WORKPLACE = {"onsite": "on_site", "hybrid": "hybrid", "remote": "remote"}
COUNTRY_NAMES = {
    "PT": "Portugal",
    "US": "United States",
    "CA": "Canada",
    "DE": "Germany",
    "AU": "Australia",
    "IE": "Ireland",
    "JP": "Japan",
}


def _when(job: DemoJob) -> datetime:
    return datetime.combine(job.posted_at, time(9, 30), tzinfo=UTC)


def workday_external_path(job: DemoJob) -> str:
    return f"/job/{job.city}/{slugify(job.title).title()}_{job.id}"


def job_path(company: DemoCompany, job: DemoJob) -> str:
    """The job's public URL path on its family's board."""
    board, kind = board_path(company.kind, company.slug), company.kind
    if kind == "workday":
        return board + workday_external_path(job)
    if kind == "workable":
        return f"{board}/j/{job.id}/"
    if kind == "recruitee":
        return f"{board}/o/{job.id}"
    if kind == "personio":
        return f"{board}/job/{job.id}"
    if kind == "teamtailor":
        return f"{board}/jobs/{job.id}-{slugify(job.title)}"
    if kind == "bamboohr":
        return f"{board}/careers/{job.id}"
    if kind == "pinpoint":
        return f"{board}/en/postings/{job.id}"
    if kind == "breezy":
        return f"{board}/p/{job.id}-{slugify(job.title)}"
    return f"{board}/{job.id}"  # smartrecruiters, rippling


# ----- Workday ----------------------------------------------------------------------------------


def workday_page(jobs: list[DemoJob], offset: int, limit: int, facets: dict) -> dict:
    cities = facets.get("locations") or []
    matching = [j for j in jobs if not cities or slugify(j.city) in cities]
    page = matching[offset : offset + limit]
    data: dict = {
        "total": len(matching) if offset == 0 else 0,  # Workday sends the total with the first page only
        "jobPostings": [
            {
                "title": j.title,
                "externalPath": workday_external_path(j),
                "locationsText": f"{j.city}, {COUNTRY_NAMES[j.country]}",
                "postedOn": "Posted 30+ Days Ago",
                "bulletFields": [j.id],
            }
            for j in page
        ],
        "userAuthenticated": False,
    }
    if offset == 0:
        counts: dict[str, int] = {}
        for j in jobs:
            counts[j.city] = counts.get(j.city, 0) + 1
        data["facets"] = [
            {
                "facetParameter": "locations",
                "descriptor": "Locations",
                "values": [{"descriptor": c, "id": slugify(c), "count": n} for c, n in sorted(counts.items())],
            }
        ]
    return data


def workday_job(base: str, company: DemoCompany, job: DemoJob) -> dict:
    return {
        "jobPostingInfo": {
            "id": job.id.lower(),
            "title": job.title,
            "jobDescription": job.description_html,
            "location": f"{job.city}, {COUNTRY_NAMES[job.country]}",
            "postedOn": "Posted 30+ Days Ago",
            "startDate": job.posted_at.isoformat(),
            "timeType": _WORKDAY_TIME.get(job.employment_type, "Full time"),
            "jobReqId": job.id,
            "jobPostingId": workday_external_path(job).rsplit("/", 1)[1],
            "jobPostingSiteId": "External",
            "country": {"descriptor": COUNTRY_NAMES[job.country], "id": job.country.lower()},
            "canApply": True,
            "posted": True,
            "includeResumeParsing": True,
            "externalUrl": base + job_path(company, job),
            "remoteType": {"onsite": "On-site", "hybrid": "Hybrid", "remote": "Remote"}[job.workplace_type],
        },
        "hiringOrganization": {"name": company.name, "url": ""},
        "userAuthenticated": False,
    }


# ----- SmartRecruiters ---------------------------------------------------------------------------


def smartrecruiters_posting(base: str, company: DemoCompany, job: DemoJob, detail: bool) -> dict:
    data = {
        "id": job.id,
        "name": job.title,
        "uuid": f"{job.id}-uuid",
        "refNumber": f"REF{job.id[-4:]}",
        "company": {"identifier": company.slug, "name": company.name},
        "releasedDate": _when(job).isoformat().replace("+00:00", ".000Z"),
        "location": {
            "city": job.city,
            "region": job.region,
            "country": job.country.lower(),
            "remote": job.workplace_type == "remote",
            "hybrid": job.workplace_type == "hybrid",
            "fullLocation": f"{job.city}, {job.region}, {COUNTRY_NAMES[job.country]}",
        },
        "department": {"id": "d1", "label": job.department},
        "function": {"id": "engineering", "label": "Engineering"},
        "typeOfEmployment": {"id": job.employment_type, "label": _LABEL[job.employment_type]},
        "experienceLevel": {"id": "mid_senior_level", "label": "Mid-Senior Level"},
        "customField": [],
        "visibility": "PUBLIC",
        "ref": f"{base}/smartrecruiters-api/v1/companies/{company.slug}/postings/{job.id}",
        "language": {"code": "en", "label": "English", "labelNative": "English (US)"},
    }
    if detail:
        intro, _, rest = job.description_html.partition("<h3>")
        data["jobAd"] = {
            "sections": {
                "companyDescription": {"title": "Company Description", "text": f"<p>{company.name}</p>"},
                "jobDescription": {"title": "Job Description", "text": intro},
                "qualifications": {"title": "Qualifications", "text": "<h3>" + rest},
                "additionalInformation": {"title": "Additional Information", "text": ""},
            }
        }
        data["postingUrl"] = base + job_path(company, job)
        data["applyUrl"] = base + job_path(company, job) + "/apply"
    return data


# ----- Workable ----------------------------------------------------------------------------------


def _workable_location(job: DemoJob) -> dict:
    return {"country": COUNTRY_NAMES[job.country], "countryCode": job.country, "city": job.city, "region": job.region}


def workable_v3_job(job: DemoJob) -> dict:
    return {
        "id": int(job.id, 16) % 10_000_000,
        "shortcode": job.id,
        "title": job.title,
        "remote": job.workplace_type == "remote",
        "location": _workable_location(job),
        "locations": [_workable_location(job)],
        "state": "published",
        "isInternal": False,
        "published": _when(job).isoformat().replace("+00:00", ".000Z"),
        "type": _WORKABLE_TYPE.get(job.employment_type, "other"),
        "department": [job.department],
        "workplace": _WORKPLACE[job.workplace_type],
    }


def workable_v2_job(job: DemoJob) -> dict:
    intro, _, rest = job.description_html.partition("<h3>")
    return workable_v3_job(job) | {
        "description": intro,
        "requirements": "<h3>" + rest,
        "benefits": "",
        "employment_type": _LABEL[job.employment_type],
    }


def workable_widget(base: str, company: DemoCompany, jobs: list[DemoJob]) -> dict:
    return {
        "name": company.name,
        "description": None,
        "jobs": [
            {
                "title": j.title,
                "shortcode": j.id,
                "code": "",
                "employment_type": _LABEL[j.employment_type],
                "telecommuting": j.workplace_type == "remote",
                "department": j.department,
                "url": base + job_path(company, j),
                "shortlink": base + job_path(company, j),
                "application_url": base + job_path(company, j) + "apply/",
                "published_on": j.posted_at.isoformat(),
                "created_at": j.posted_at.isoformat(),
                "country": COUNTRY_NAMES[j.country],
                "city": j.city,
                "state": j.region,
                "locations": [_workable_location(j)],
                "description": j.description_html,
            }
            for j in jobs
        ],
    }


# ----- Recruitee, Pinpoint, Rippling, Breezy, BambooHR (JSON) ------------------------------------


def recruitee_offer(base: str, company: DemoCompany, job: DemoJob) -> dict:
    url = base + job_path(company, job)
    return {
        "id": int(job.id.rsplit("-", 1)[1]) + 900_000,
        "slug": job.id,
        "title": job.title,
        "status": "published",
        "description": job.description_html.split("<h3>", 1)[0],
        "requirements": "<h3>" + job.description_html.split("<h3>", 1)[1],
        "careers_url": url,
        "careers_apply_url": url + "/c/new",
        "company_name": company.name,
        "location": f"{job.city}, {COUNTRY_NAMES[job.country]}",
        "city": job.city,
        "country": COUNTRY_NAMES[job.country],
        "country_code": job.country,
        "remote": job.workplace_type == "remote",
        "hybrid": job.workplace_type == "hybrid",
        "on_site": job.workplace_type == "onsite",
        "employment_type_code": _RECRUITEE_CODE[job.employment_type],
        "department": job.department,
        "published_at": job.posted_at.strftime("%Y-%m-%d 09:30:00 UTC"),
        "created_at": job.posted_at.strftime("%Y-%m-%d 08:00:00 UTC"),
        "salary": {
            "min": str(job.salary_min),
            "max": str(job.salary_max),
            "currency": job.currency,
            "period": "year",
        },
        "tags": [],
    }


def pinpoint_posting(base: str, company: DemoCompany, job: DemoJob) -> dict:
    intro, _, rest = job.description_html.partition("<h3>")
    return {
        "id": job.id,
        "title": job.title,
        "url": base + job_path(company, job),
        "description": intro,
        "key_responsibilities": "<h3>" + rest,
        "skills_knowledge_expertise": "",
        "benefits": "",
        "employment_type": job.employment_type,
        "employment_type_text": _LABEL[job.employment_type],
        "workplace_type": job.workplace_type,
        "workplace_type_text": job.workplace_type.title(),
        "compensation": f"{job.currency} {job.salary_min:,} - {job.salary_max:,}",
        "compensation_minimum": job.salary_min,
        "compensation_maximum": job.salary_max,
        "compensation_currency": job.currency,
        "compensation_frequency": "year",
        "compensation_visible": True,
        "published_at": _when(job).isoformat(),
        "deadline_at": None,
        "location": {"city": job.city, "name": job.location, "province": job.region, "postal_code": ""},
        "job": {"department": {"name": job.department}, "requisition_id": f"REQ-{job.id[:6]}"},
    }


def rippling_job(base: str, company: DemoCompany, job: DemoJob, detail: bool) -> dict:
    data = {
        "uuid": job.id,
        "name": job.title,
        "department": {"id": "d1", "label": job.department},
        "url": base + job_path(company, job),
        "workLocation": {"id": "w1", "label": _rippling_place(job)},
    }
    if detail:
        intro, _, rest = job.description_html.partition("<h3>")
        data |= {
            "description": {"company": f"<p>About {company.name}.</p>", "role": intro + "<h3>" + rest},
            "workLocations": [_rippling_place(job)],
            "companyName": company.name,
            "employmentType": {"id": job.employment_type.upper(), "label": _LABEL[job.employment_type]},
            "createdOn": _when(job).isoformat(),
            "payRangeDetails": [
                {
                    "rangeStart": job.salary_min,
                    "rangeEnd": job.salary_max,
                    "currency": job.currency,
                    "frequency": "YEAR",
                }
            ],
        }
    return data


def _rippling_place(job: DemoJob) -> str:
    if job.workplace_type == "remote":
        return f"Remote ({job.country})"
    return f"{job.city}, {job.region}" + (" (Hybrid)" if job.workplace_type == "hybrid" else "")


def breezy_position(base: str, company: DemoCompany, job: DemoJob) -> dict:
    friendly = f"{job.id}-{slugify(job.title)}"
    return {
        "id": job.id,
        "friendly_id": friendly,
        "name": job.title,
        "url": base + job_path(company, job),
        "published_date": _when(job).isoformat().replace("+00:00", ".000Z"),
        "type": {"id": job.employment_type, "name": _LABEL[job.employment_type]},
        "location": {
            "country": {"name": COUNTRY_NAMES[job.country], "id": job.country},
            "state": {"name": job.region, "id": job.region},
            "city": job.city,
            "name": f"{job.city}, {job.country}",
            "is_remote": job.workplace_type == "remote",
        },
        "department": job.department,
        "salary": f"{job.currency} {job.salary_min:,} - {job.salary_max:,}",
        "company": {"name": company.name, "logo_url": None, "friendly_id": company.slug},
    }


def bamboohr_entry(job: DemoJob) -> dict:
    return {
        "id": job.id,
        "jobOpeningName": job.title,
        "departmentId": "18",
        "departmentLabel": job.department,
        "employmentStatusLabel": _LABEL[job.employment_type],
        "location": {"city": job.city, "state": job.region},
        "atsLocation": {"country": COUNTRY_NAMES[job.country], "state": None, "province": job.region, "city": job.city},
        "isRemote": None,
        "locationType": _BAMBOO_PLACE[job.workplace_type],
    }


def bamboohr_detail(base: str, company: DemoCompany, job: DemoJob) -> dict:
    opening = bamboohr_entry(job) | {
        "jobOpeningShareUrl": base + job_path(company, job),
        "jobOpeningStatus": "Open",
        "description": job.description_html,
        "datePosted": job.posted_at.isoformat(),
        "minimumExperience": "Experienced",
        "compensation": f"{job.salary_min:,} - {job.salary_max:,} {job.currency}",
    }
    return {"meta": {"isMultiLocationEnabled": False}, "result": {"jobOpening": opening}}


# ----- Personio (XML) and Teamtailor (RSS) -------------------------------------------------------


def personio_xml(company: DemoCompany, jobs: list[DemoJob]) -> bytes:
    positions = []
    for j in jobs:
        intro, _, rest = j.description_html.partition("<h3>")
        blocks = [("About the role", intro)] + [
            (b.split("</h3>", 1)[0], b.split("</h3>", 1)[1]) for b in ("<h3>" + rest).split("<h3>")[1:]
        ]
        descriptions = "".join(
            f"<jobDescription><name>{escape(name)}</name><value><![CDATA[{value}]]></value></jobDescription>"
            for name, value in blocks
        )
        schedule = "part-time" if j.employment_type == "part_time" else "full-time"
        positions.append(
            f"<position><id>{j.id}</id><subcompany>{escape(company.name)}</subcompany>"
            f"<office>{escape(j.city)}</office><additionalOffices/><department>{escape(j.department)}</department>"
            f"<recruitingCategory>{escape(j.department)}</recruitingCategory><name>{escape(j.title)}</name>"
            f"<jobDescriptions>{descriptions}</jobDescriptions>"
            f"<employmentType>{_PERSONIO_TYPE.get(j.employment_type, 'permanent')}</employmentType>"
            f"<seniority>experienced</seniority><schedule>{schedule}</schedule>"
            f"<yearsOfExperience>lt-1</yearsOfExperience><keywords>demo</keywords>"
            f"<occupation>software_development</occupation><occupationCategory>it_software</occupationCategory>"
            f"<createdAt>{_when(j).isoformat()}</createdAt></position>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<workzag-jobs>' + "".join(positions) + "</workzag-jobs>").encode()


def teamtailor_rss(base: str, company: DemoCompany, jobs: list[DemoJob], offset: int, size: int) -> bytes:
    items = []
    for j in jobs[offset : offset + size]:
        url = base + job_path(company, j)
        remote = {"onsite": "none", "hybrid": "hybrid", "remote": "fully"}[j.workplace_type]
        items.append(
            f"<item><title>{escape(j.title)}</title><description><![CDATA[{j.description_html}]]></description>"
            f"<pubDate>{format_datetime(_when(j))}</pubDate><link>{escape(url)}</link>"
            f'<guid isPermaLink="false">{j.id}</guid><remoteStatus>{remote}</remoteStatus>'
            f"<tt:employmentType>{_LABEL[j.employment_type]}</tt:employmentType>"
            f"<tt:department>{escape(j.department)}</tt:department><tt:role>{escape(j.title)}</tt:role>"
            f"<tt:locations><tt:location><tt:name>{escape(j.city)}</tt:name><tt:city>{escape(j.city)}</tt:city>"
            f"<tt:country>{COUNTRY_NAMES[j.country]}</tt:country></tt:location></tt:locations></item>"
        )
    board = escape(base + board_path(company.kind, company.slug))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:tt="https://teamtailor.com/locations">'
        f"<channel><title>{html.escape(company.name)} jobs</title><link>{board}</link>"
        f"<description>Jobs at {escape(company.name)}</description>{''.join(items)}</channel></rss>"
    ).encode()
