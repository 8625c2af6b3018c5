"""`dry-run --source SPEC` and `extract URL` print JSON; failures exit 1 with error and reason."""

from __future__ import annotations

import json

from ingest_app.cli import main


def test_dry_run_prints_the_url_array(demo, capsys) -> None:
    source = demo.company_sources()[1]["source"]
    assert main(["dry-run", "--source", source]) == 0
    urls = json.loads(capsys.readouterr().out)
    assert urls == demo.site.listed_urls("bluefin")


def test_extract_prints_one_posting(demo, capsys) -> None:
    job = demo.site.jobs("juniper")[0]
    assert main(["extract", demo.site.job_url("juniper", job.id)]) == 0
    posting = json.loads(capsys.readouterr().out)
    assert posting["title"] == job.title and posting["posted_at"] == job.posted_at.isoformat()
    assert posting["company"] == "Juniper Health"


def test_failures_exit_1_with_error_and_reason(demo, capsys) -> None:
    assert main(["extract", demo.base_url + "/jobs/juniper/no-such-job"]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": "not_found", "reason": "the page does not exist (HTTP 404)"}
    assert main(["dry-run", "--source", "greenhouse:no-such-board"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "not_found"
    assert main(["dry-run", "--source", "monster:x"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "invalid_url"
