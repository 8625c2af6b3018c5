"""Fictional companies and jobs for the demo site (deterministic, generated from a seed)."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from ingest_app.core.models import SOURCE_KINDS

TITLES = (
    "Backend Engineer",
    "Frontend Engineer",
    "Data Engineer",
    "Product Designer",
    "Product Manager",
    "Site Reliability Engineer",
    "Machine Learning Engineer",
    "Technical Writer",
    "Account Executive",
    "Customer Success Manager",
    "QA Engineer",
    "Security Engineer",
    "Data Analyst",
    "Recruiter",
    "Mobile Engineer",
    "Solutions Architect",
    "Marketing Manager",
    "Support Specialist",
)
LEVELS = ("", "Senior ", "Staff ", "Junior ", "Lead ", "Principal ")
DEPARTMENTS = ("Engineering", "Design", "Product", "Sales", "Operations", "Marketing", "People", "Data")
LOCATIONS = (
    ("Lisbon", "Lisbon", "PT"),
    ("Austin", "TX", "US"),
    ("Toronto", "ON", "CA"),
    ("Berlin", "BE", "DE"),
    ("Denver", "CO", "US"),
    ("Melbourne", "VIC", "AU"),
    ("Dublin", "L", "IE"),
    ("Osaka", "27", "JP"),
)
EMPLOYMENT = ("full_time", "full_time", "full_time", "part_time", "contract", "internship")
WORKPLACE = ("onsite", "hybrid", "remote")
CURRENCY = {"PT": "EUR", "US": "USD", "CA": "CAD", "DE": "EUR", "AU": "AUD", "IE": "EUR", "JP": "JPY"}
COMPANY_WORDS = (
    "Northwind",
    "Bluefin",
    "Cobalt",
    "Juniper",
    "Saffron",
    "Granite",
    "Lumen",
    "Tidewater",
    "Maple",
    "Quartz",
    "Harbor",
    "Aurora",
    "Cedar",
    "Pinnacle",
    "Orchid",
    "Falcon",
)
COMPANY_SUFFIX = ("Robotics", "Analytics", "Kitchens", "Health", "Logistics", "Labs", "Energy", "Studios")
KINDS = ("greenhouse", "lever", "ashby", "careers")  # what `DemoSite.generate` cycles through by default
# The board-URL families: every source family but the default four (one list: core.models).
BOARD_KINDS = tuple(kind for kind in SOURCE_KINDS if kind not in KINDS)
ALL_KINDS = KINDS + BOARD_KINDS
_UUID_KINDS = ("lever", "ashby", "pinpoint", "rippling")


@dataclass
class DemoJob:
    id: str
    title: str
    department: str
    city: str
    region: str
    country: str
    employment_type: str
    workplace_type: str
    salary_min: int
    salary_max: int
    currency: str
    posted_at: date
    description_html: str
    listed: bool = True

    @property
    def location(self) -> str:
        return f"{self.city}, {self.region}, {self.country}"


@dataclass
class DemoCompany:
    slug: str
    name: str
    kind: str
    jobs: list[DemoJob] = field(default_factory=list)
    rotate: bool = False
    page_size: int = 10
    listings: int = 0
    last_rotation: float = 0.0


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "company"


def description_html(rng: random.Random, title: str, company: str) -> str:
    duties = rng.sample(
        [
            "Design, build and run services our customers rely on",
            "Work closely with product and design",
            "Review code and mentor teammates",
            "Own features from idea to production",
            "Improve reliability, observability and performance",
            "Talk to customers and turn feedback into plans",
            "Write clear documentation",
            "Shape our roadmap with data",
        ],
        4,
    )
    needs = rng.sample(
        [
            "3+ years of relevant experience",
            "Comfort with ambiguity",
            "Clear written communication",
            "Experience with Python or TypeScript",
            "A habit of testing your work",
            "Curiosity about our domain",
        ],
        3,
    )
    return (
        f"<p><strong>{company}</strong> is a fictional company on the demo site. We are hiring a "
        f"<em>{title}</em> &amp; would love to hear from you.</p>"
        "<h3>What you'll do</h3><ul>" + "".join(f"<li>{d}</li>" for d in duties) + "</ul>"
        "<h3>What we look for</h3><ul>" + "".join(f"<li>{d}</li>" for d in needs) + "</ul>"
        "<p>Benefits: flexible hours, learning budget, and a quiet office with plants.</p>"
    )


class JobFactory:
    """Creates jobs with ids shaped like each ATS uses (numeric for Greenhouse, UUIDs for Lever,
    Ashby, Pinpoint and Rippling, requisition ids for Workday, shortcodes for Workable, hex ids for
    Breezy, title slugs for Recruitee offers, short slugs for careers pages)."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.counter = 4_100_000

    def make(self, company: DemoCompany, **overrides) -> DemoJob:
        rng = self.rng
        self.counter += 1
        title = overrides.pop("title", None) or (rng.choice(LEVELS) + rng.choice(TITLES)).strip()
        kind = company.kind
        if kind in ("greenhouse", "personio", "bamboohr", "teamtailor"):
            job_id = str(self.counter)
        elif kind in _UUID_KINDS:
            job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        elif kind == "workday":
            job_id = f"R{self.counter}"
        elif kind == "smartrecruiters":
            job_id = str(744_000_000_000_000 + self.counter)
        elif kind == "workable":
            job_id = f"{rng.getrandbits(40):010X}"
        elif kind == "breezy":
            job_id = f"{rng.getrandbits(48):012x}"
        elif kind == "recruitee":
            job_id = f"{slugify(title)}-{self.counter % 1000}"
        else:
            job_id = f"r{self.counter}"
        city, region, country = rng.choice(LOCATIONS)
        low = rng.randrange(50, 160) * 1000
        job = DemoJob(
            id=job_id,
            title=title,
            department=rng.choice(DEPARTMENTS),
            city=city,
            region=region,
            country=country,
            employment_type=rng.choice(EMPLOYMENT),
            workplace_type=rng.choice(WORKPLACE),
            salary_min=low,
            salary_max=low + rng.randrange(10, 60) * 1000,
            currency=CURRENCY[country],
            posted_at=date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300)),
            description_html=description_html(rng, title, company.name),
        )
        for key, value in overrides.items():
            setattr(job, key, value)
        return job


DEFAULT_COMPANIES = (
    ("Northwind Robotics", "greenhouse", "northwind", 6),
    ("Bluefin Analytics", "lever", "bluefin", 7),
    ("Cobalt Kitchens", "ashby", "cobalt", 5),
    ("Juniper Health", "careers", "juniper", 8),
    ("Granite Logistics", "workday", "granite", 6),
    ("Lumen Energy", "smartrecruiters", "lumen", 5),
    ("Tidewater Studios", "workable", "tidewater", 5),
    ("Maple Labs", "recruitee", "maple", 6),
    ("Quartz Kitchens", "personio", "quartz", 5),
    ("Harbor Health", "teamtailor", "harbor", 6),
    ("Aurora Analytics", "bamboohr", "aurora", 5),
    ("Cedar Robotics", "pinpoint", "cedar", 6),
    ("Pinnacle Energy", "rippling", "pinnacle", 5),
    ("Orchid Studios", "breezy", "orchid", 6),
)


def board_path(kind: str, slug: str) -> str:
    """Where a board-URL family's board lives on the demo site (its job pages hang below it)."""
    if kind == "workday":
        return f"/workday/{slug}/External"
    if kind == "rippling":
        return f"/rippling/{slug}/jobs"
    return f"/{kind}/{slug}"


def source_for(kind: str, slug: str, base_url: str) -> str:
    base = base_url.rstrip("/")
    if kind == "careers":
        return f"careers:{base}/careers/{slug}/"
    if kind in BOARD_KINDS:
        return f"{kind}:{base}{board_path(kind, slug)}" + ("/" if kind == "workable" else "")
    return f"{kind}:{slug}"
