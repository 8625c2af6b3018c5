"""Bulk import: CSV and pasted lists, per-row errors with row numbers, duplicates of the user's
companies and within the file, the company limit, and an export that imports back cleanly."""

from __future__ import annotations

import pytest

from ingest_app.core.companies import add_company, list_companies
from ingest_app.core.company_import import (
    ImportInputError,
    ImportRow,
    commit_rows,
    export_csv,
    parse_rows,
    preview_rows,
    run_import,
)


def test_a_csv_with_name_and_url_is_read_row_by_row() -> None:
    rows = parse_rows('name,url\nAcme,https://boards.greenhouse.io/acme\n\n"Beta, Inc",https://jobs.lever.co/beta\n')
    assert rows == [
        ImportRow(row=2, name="Acme", input="https://boards.greenhouse.io/acme"),
        ImportRow(row=4, name="Beta, Inc", input="https://jobs.lever.co/beta"),
    ]


def test_a_csv_with_a_source_column_and_enabled_flags() -> None:
    rows = parse_rows("Name,Source,Enabled\r\nAcme,lever:acme,false\r\nBeta,ashby:beta,yes\r\nGamma,ashby:g,maybe\r\n")
    assert [(r.row, r.name, r.input, r.enabled, r.error) for r in rows] == [
        (2, "Acme", "lever:acme", False, None),
        (3, "Beta", "ashby:beta", True, None),
        (4, "Gamma", "ashby:g", True, "Row 4: enabled must be true or false, not 'maybe'"),
    ]


def test_a_pasted_list_is_one_url_or_spec_a_line() -> None:
    text = "https://jobs.lever.co/acme\n# a comment\n\nlever:beta\nGamma Corp, https://jobs.ashbyhq.com/gamma\n"
    assert [(r.row, r.name, r.input) for r in parse_rows(text)] == [
        (1, None, "https://jobs.lever.co/acme"),
        (4, None, "lever:beta"),
        (5, "Gamma Corp", "https://jobs.ashbyhq.com/gamma"),
    ]


def test_bad_rows_keep_their_row_number_and_say_what_is_wrong() -> None:
    long_name = "x" * 201
    text = f"name,url\nNo url,\n{long_name},https://jobs.lever.co/a\nA,https://jobs.lever.co/b,extra\n"
    errors = [(r.row, r.error) for r in parse_rows(text)]
    assert errors == [
        (2, "Row 2: no url or source"),
        (3, "Row 3: Name must be at most 200 characters"),
        (4, "Row 4: more fields than the header names (quote a name that holds a comma)"),
    ]


def test_an_input_over_the_size_limit_is_refused_whole(settings) -> None:

    settings(import_max_bytes=2048)
    with pytest.raises(ImportInputError, match="larger than 2 KB"):
        parse_rows("lever:acme\n" * 300)
    settings(import_max_rows=3)
    with pytest.raises(ImportInputError, match="more than 3 rows"):
        parse_rows("lever:a\nlever:b\nlever:c\nlever:d\n")


def test_a_two_megabyte_import_is_read_within_the_default_limit() -> None:
    line = "https://jobs.lever.co/acme-" + "a" * 990 + "\n"
    rows = parse_rows(line * 2000)
    assert len(rows) == 2000 and all(r.error is None for r in rows)


def test_preview_marks_new_duplicate_and_error_rows(demo, session, make_user) -> None:
    user = make_user()
    tracked = add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    text = (
        "name,url\n"
        "Northwind again,https://boards.greenhouse.io/northwind/jobs/1\n"  # 2: the user's company
        "Bluefin,https://jobs.lever.co/bluefin\n"  # 3: new
        "Bluefin twice,lever:bluefin\n"  # 4: same as row 3
        f"Juniper,{demo.base_url}/careers/juniper/\n"  # 5: a careers page
        "Nobody,https://jobs.ashbyhq.com/nobody-here\n"  # 6: board missing
        "Bad,monster:acme\n"  # 7: not a source
    )
    outcomes = preview_rows(user.id, parse_rows(text))
    summary = [(o.row, o.status, o.source, o.jobs_listed, o.duplicate_of) for o in outcomes]
    assert summary == [
        (2, "duplicate", "greenhouse:northwind", None, tracked.id),
        (3, "new", "lever:bluefin", 7, None),
        (4, "duplicate", "lever:bluefin", None, None),
        (5, "new", f"careers:{demo.base_url}/careers/juniper/", 8, None),
        (6, "error", None, None, None),
        (7, "error", None, None, None),
    ]
    assert outcomes[2].error == "Row 4: same source as row 3"
    assert outcomes[0].error == "Row 2: you already track greenhouse:northwind"
    assert outcomes[4].error.startswith("Row 6: no board found (tried ashby:nobody-here: ")
    assert outcomes[5].error.startswith("Row 7: Source must look like")
    assert [o.name for o in outcomes[:4]] == ["Northwind again", "Bluefin", "Bluefin twice", "Juniper"]


def test_commit_adds_the_new_rows_and_reports_the_rest(demo, session, make_user) -> None:
    user = make_user()
    text = "https://jobs.lever.co/bluefin\nhttps://jobs.ashbyhq.com/cobalt\nlever:bluefin\nashby:nobody-here\n"
    summary = commit_rows(session, user.id, parse_rows(text))
    session.commit()
    assert (summary.added, summary.duplicates, summary.errors) == (2, 1, 1)
    assert [r.status for r in summary.rows] == ["new", "new", "duplicate", "error"]
    assert summary.rows[3].error == "Row 4: ashby:nobody-here did not answer: no ashby board named 'nobody-here'"
    stored = {(c.name, c.source) for c in list_companies(session, user.id)}
    assert stored == {("Bluefin", "lever:bluefin"), ("Cobalt", "ashby:cobalt")}


def test_an_import_over_the_company_limit_says_which_rows_were_not_added(demo, session, make_user, settings):

    settings(max_companies_per_user=3)
    user = make_user()
    add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    text = "name,source\nA,lever:bluefin\nB,ashby:cobalt\nC,smartrecruiters:lumen\n"
    summary = commit_rows(session, user.id, parse_rows(text))
    session.commit()
    assert summary.added == 2 and summary.errors == 1
    assert summary.rows[2].status == "error" and summary.rows[2].row == 4
    assert summary.rows[2].error == (
        "Row 4: not added; you can keep at most 3 companies (delete some, or import fewer rows)"
    )
    assert len(list_companies(session, user.id)) == 3


def test_a_dry_run_adds_nothing(demo, session, make_user) -> None:
    user = make_user()
    summary = run_import(user.id, "lever:bluefin\nashby:cobalt\n", dry_run=True)
    assert summary.added == 0 and [r.status for r in summary.rows] == ["new", "new"]
    assert list_companies(session, user.id) == []


def test_rows_already_previewed_are_checked_again_at_commit(demo, session, make_user) -> None:
    user = make_user()
    outcomes = preview_rows(user.id, parse_rows("lever:bluefin\n"))
    add_company(session, user.id, name="Bluefin", source="lever:bluefin")  # added meanwhile
    summary = commit_rows(session, user.id, outcomes)
    assert summary.added == 0 and summary.rows[0].status == "duplicate" and summary.rows[0].duplicate_of


def test_export_round_trips_as_duplicates_on_the_same_user_and_new_on_a_fresh_one(demo, session, make_user):
    user = make_user()
    for company in demo.company_sources():
        add_company(session, user.id, name=company["name"], source=company["source"])
    add_company(session, user.id, name="=HYPERLINK(1), Inc", source="ashby:cobalt-two", enabled=False)
    session.commit()
    text = export_csv(session, user.id)
    assert text.splitlines()[0] == "name,source,enabled"
    assert '"\'=HYPERLINK(1), Inc",ashby:cobalt-two,false' in text  # never run as a formula
    again = preview_rows(user.id, parse_rows(text))
    assert {o.status for o in again} == {"duplicate"} and all(o.duplicate_of for o in again)
    fresh = make_user()
    rows = [r for r in parse_rows(text) if r.input != "ashby:cobalt-two"]  # not on the demo site
    summary = commit_rows(session, fresh.id, rows)
    session.commit()
    assert summary.added == len(demo.company_sources()) and summary.errors == 0
    mine = {(c.name, c.source, c.enabled) for c in list_companies(session, user.id) if c.source != "ashby:cobalt-two"}
    theirs = {(c.name, c.source, c.enabled) for c in list_companies(session, fresh.id)}
    assert theirs == mine
    restored = parse_rows(text)
    assert next(r for r in restored if r.input == "ashby:cobalt-two").name == "=HYPERLINK(1), Inc"
    assert next(r for r in restored if r.input == "ashby:cobalt-two").enabled is False


def test_hostile_input_is_refused_per_row_quickly() -> None:
    import time

    started = time.monotonic()
    huge_field = parse_rows('name,url\nA,"' + "x" * 200_000 + '"\nB,lever:b\n')
    assert [(r.row, r.error) for r in huge_field] == [
        (2, "Row 2: unreadable CSV (field larger than field limit (131072))"),
        (3, None),
    ]
    (one_line,) = parse_rows("a" * 2_000_000)
    assert one_line.error == "Row 1: the URL or source is longer than 2048 characters"
    assert len(one_line.input) < 2_200  # the row keeps a bounded copy of what was given
    assert len(parse_rows("," * 2_000_000)) == 1
    assert time.monotonic() - started < 5


def test_an_empty_import_is_refused(make_user) -> None:
    with pytest.raises(ImportInputError, match="Nothing to import"):
        run_import(make_user().id, "\n# only a comment\n", dry_run=True)


def test_preview_rows_async_runs_in_the_listing_pool(demo, make_user) -> None:
    import asyncio

    from ingest_app.core.company_import import preview_rows_async

    user = make_user()
    (outcome,) = asyncio.run(preview_rows_async(user.id, parse_rows("https://jobs.ashbyhq.com/cobalt\n")))
    assert (outcome.status, outcome.source, outcome.jobs_listed, outcome.name) == (
        "new",
        "ashby:cobalt",
        5,
        outcome.name,
    )
    assert outcome.name


def test_an_unnamed_duplicate_shows_the_name_of_the_company_it_duplicates(session, make_user) -> None:
    user = make_user()
    tracked = add_company(session, user.id, name="Bluefin Co", source="lever:bluefin")
    session.commit()
    (outcome,) = preview_rows(user.id, parse_rows("https://jobs.lever.co/bluefin\n"))
    assert (outcome.status, outcome.duplicate_of, outcome.name) == ("duplicate", tracked.id, "Bluefin Co")
