"""Which links of a careers page are postings: more than the path decides (ids, titles, repeated
lists, pages about the company), and JSON-LD lists of postings count when anchors are missing,
on the same site or a known ATS only."""

from __future__ import annotations

from ingest_app.core.crawl import list_company_jobs
from ingest_app.core.crawl.sources import careers_links as links


def _urls(server, page: str, path: str = "/careers/") -> list[str]:
    url = server.fixture(path, page)
    return [job.url for job in list_company_jobs(f"careers:{url}")]


def test_team_culture_and_talent_pages_are_not_postings(server) -> None:
    assert _urls(server, "careers_teams.html") == [
        server.url("/careers/senior-platform-engineer"),  # a job title, no id
        server.url("/careers/account-executive-4821"),  # an id in the slug
        server.url("/careers/customer-happiness"),  # neither, but in the list of postings
        server.url("/careers/staff-data-scientist"),
    ]


def test_department_links_and_company_pages_are_not_postings(server) -> None:
    assert _urls(server, "careers_departments.html") == [
        server.url("/careers/positions/JR-20931"),
        server.url("/careers/positions/JR-20932"),
        server.url("/careers/positions/JR-20940"),  # "Bakery": the requisition id decides
        server.url("/careers/positions/delivery-driver"),
    ]


def test_jsonld_itemlist_without_anchors_keeps_the_site_and_known_ats_only(server) -> None:
    url = server.fixture("/careers/", "careers_itemlist_offsite.html")
    jobs = list_company_jobs(f"careers:{url}")
    assert [j.url for j in jobs] == [
        server.url("/careers/field-service-technician-311"),
        server.url("/careers/warehouse-lead-312"),
        "https://jobs.lever.co/copperline/4b1f7f4e-2a77-4a38-9b4d-93d1a2c5e001",
    ]
    assert jobs[0].title == "Field Service Technician"
    assert jobs[2].hints["source"] == "lever"  # read from the ATS API, not the page


def test_jsonld_itemlist_shapes_graph_single_element_strings_and_ids(server) -> None:
    assert _urls(server, "careers_graph_itemlist.html") == [
        server.url("/careers/jobs/7001"),
        server.url("/careers/jobs/7002"),
        server.url("/careers/jobs/7003"),
    ]


def test_links_to_other_addresses_are_not_the_same_site(server) -> None:
    """On a careers page served from an IP address, only that address is the same site."""
    page = (
        '<main><ul><li><a href="/careers/backend-engineer-1">Backend Engineer</a></li>'
        '<li><a href="http://10.0.0.1/careers/backend-engineer-2">Backend Engineer</a></li>'
        '<li><a href="http://169.254.169.254/careers/admin-3">Admin</a></li></ul></main>'
    )
    url = server.page("/careers/", page)
    assert [j.url for j in list_company_jobs(f"careers:{url}")] == [server.url("/careers/backend-engineer-1")]


def test_job_signals() -> None:
    assert links.reads_like_title(links.words("Senior Backend Engineer (m/w/d)"))
    assert links.reads_like_title(links.words("Werkstudent Marketing"))
    assert not links.reads_like_title(links.words("Engineering"))
    for text in ("Life at Acme", "Our opportunity", "Join our talent community", "Early careers", "Benefits"):
        assert links.reads_like_non_job(links.words(text)), text
    for text in ("Customer Success Manager", "Sales Engineer", "Warehouse Associate"):
        assert not links.reads_like_non_job(links.words(text)), text
    assert links.has_job_id(["dispatcher-1021"]) and links.has_job_id(["R12345"])
    assert links.has_job_id(["4b1f7f4e-2a77-4a38-9b4d-93d1a2c5e001"])
    assert not links.has_job_id(["life-at-acme"]) and not links.has_job_id(["engineering"])
