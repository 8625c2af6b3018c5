"""`companies detect URL`, `companies import FILE --user EMAIL [--dry-run]`, `companies export`."""

from __future__ import annotations

import json

from ingest_app.cli import main
from ingest_app.core.companies import list_companies


def test_detect_prints_the_proposals(demo, capsys) -> None:
    assert main(["companies", "detect", "https://jobs.ashbyhq.com/cobalt"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["proposals"] == [{"source": "ashby:cobalt", "family": "ashby", "name": found["proposals"][0]["name"],
                                   "jobs_listed": 5}]  # fmt: skip
    assert main(["companies", "detect", "https://jobs.ashbyhq.com/nobody"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "no board found"


def test_import_dry_run_then_real_then_export(demo, session, make_user, tmp_path, capsys) -> None:
    user = make_user(email="cli@example.com")
    csv_file = tmp_path / "companies.csv"
    csv_file.write_text("name,url\nBluefin,https://jobs.lever.co/bluefin\nNorthwind,greenhouse:northwind\n")
    assert main(["companies", "import", str(csv_file), "--user", "cli@example.com", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and dry["new"] == 2 and dry["added"] == 0
    assert [(r["row"], r["status"], r["source"]) for r in dry["rows"]] == [
        (2, "new", "lever:bluefin"),
        (3, "new", "greenhouse:northwind"),
    ]
    assert main(["companies", "import", str(csv_file), "--user", "cli@example.com"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 2
    assert {c.source for c in list_companies(session, user.id)} == {"lever:bluefin", "greenhouse:northwind"}
    assert main(["companies", "export", "--user", "cli@example.com"]) == 0
    exported = capsys.readouterr().out
    assert exported == "name,source,enabled\nBluefin,lever:bluefin,true\nNorthwind,greenhouse:northwind,true\n"


def test_import_errors_exit_1(demo, make_user, tmp_path, capsys) -> None:
    make_user(email="cli2@example.com")
    bad = tmp_path / "bad.csv"
    bad.write_text("lever:nobody-at-all\n")
    assert main(["companies", "import", str(bad), "--user", "cli2@example.com"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["errors"] == 1 and result["rows"][0]["error"].startswith("Row 1: lever:nobody-at-all did not answer")
    assert main(["companies", "import", str(tmp_path / "missing.csv"), "--user", "cli2@example.com"]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["companies", "import", str(bad), "--user", "nobody@example.com"]) == 1
    assert "no user nobody@example.com" in capsys.readouterr().err
