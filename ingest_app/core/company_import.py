"""Bulk company import and export.

`parse_rows` reads a CSV (`name,url` or `name,source`, optional `enabled`) or a pasted list (one
URL or source spec a line), `fetch_rows` such a CSV published at a URL; `preview_rows` detects and
probes every row in a bounded pool and marks duplicates (of the user's companies and within the
file); `commit_rows` adds the new ones within the per-user company limit. Every row ends with a
status and, when not added, the reason: nothing is dropped silently. `export_csv` writes what `parse_rows` reads back.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, select

from ingest_app.core.companies import CompanyError, clean_name, list_companies
from ingest_app.core.crawl import deadline, http
from ingest_app.core.detect import MAX_URL_LENGTH, Detection, Probe, detect, probe
from ingest_app.core.models import Company, User
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, parse_source_spec

Status = Literal["new", "duplicate", "error"]
_TRUE = ("1", "true", "yes", "y", "on", "enabled")
_FALSE = ("0", "false", "no", "n", "off", "disabled")
_INPUT_COLUMNS = ("source", "url")
_MAX_FIELD = MAX_URL_LENGTH + 100
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet would run as a formula


class ImportInputError(ValueError):
    """The whole input cannot be read (too large, too many rows, no usable column)."""


@dataclass(frozen=True)
class ImportRow:
    row: int  # 1-based line number in the input (the header is row 1 of a CSV)
    name: str | None
    input: str
    enabled: bool = True
    error: str | None = None


@dataclass(frozen=True)
class RowOutcome:
    row: int
    name: str | None
    input: str
    source: str | None
    jobs_listed: int | None
    status: Status
    error: str | None = None
    duplicate_of: int | None = None  # the user's company with the same source
    enabled: bool = True


@dataclass(frozen=True)
class ImportSummary:
    added: int
    duplicates: int
    errors: int
    rows: list[RowOutcome]


# ----- parsing ------------------------------------------------------------------------------------


def parse_rows(text: str) -> list[ImportRow]:
    """Rows of a CSV with a header naming `url` or `source` (and optionally `name`, `enabled`), or
    of a pasted list. Raises ImportInputError for an input too large to read; a bad row is an
    ImportRow with `error` (its row number kept)."""
    settings = get_settings()
    text = text or ""
    if len(text.encode("utf-8", "surrogatepass")) > settings.import_max_bytes:
        raise ImportInputError(f"The import is larger than {settings.import_max_bytes // 1024} KB; split it")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    if len(lines) > settings.import_max_rows + 1:
        raise ImportInputError(f"The import has more than {settings.import_max_rows} rows; split it")
    first = next((line for line in lines if line.strip()), "")
    header = [h.strip().lower() for h in _csv_fields(first)] if "," in first else [first.strip().lower()]
    if any(h in _INPUT_COLUMNS for h in header):
        rows = _csv_rows(text, header)
    else:
        rows = _list_rows(lines)
    if len(rows) > settings.import_max_rows:
        raise ImportInputError(f"The import has more than {settings.import_max_rows} rows; split it")
    return rows


def fetch_rows(url: str) -> list[ImportRow]:
    """The rows of a company list published as CSV at `url` (the local demo site's
    `/companies.csv`), read through the safe fetcher within the import's size bound. Raises
    CrawlError when it cannot be fetched, ImportInputError when it is too large to read."""
    result = http.fetch(url, accept=("text/csv", "text/plain"), max_bytes=get_settings().import_max_bytes)
    return parse_rows(result.text)


def _csv_fields(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _csv_rows(text: str, header: list[str]) -> list[ImportRow]:
    """A CSV with a header row; `source` wins over `url` when both are filled."""
    rows: list[ImportRow] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    line_no = 0
    columns: list[str] | None = None
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_no = reader.line_num
            rows.append(ImportRow(row=line_no, name=None, input="", error=f"Row {line_no}: unreadable CSV ({exc})"))
            continue
        line_no = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if columns is None:
            columns = [f.strip().lower() for f in fields] or header
            continue
        rows.append(_csv_row(line_no, dict(zip(columns, fields, strict=False)), len(fields) > len(columns)))
    return rows


def _csv_row(line_no: int, values: dict[str, str], extra: bool) -> ImportRow:
    name = (values.get("name") or "").strip() or None
    if name and name[0] == "'" and name[1:2] in _FORMULA:  # written so by `export_csv`
        name = name[1:]
    source = (values.get("source") or "").strip()
    url = (values.get("url") or "").strip()
    given = source or url
    enabled_text = (values.get("enabled") or "").strip().lower()
    enabled = True
    error = None
    if enabled_text in _FALSE:
        enabled = False
    elif enabled_text and enabled_text not in _TRUE:
        error = f"Row {line_no}: enabled must be true or false, not {enabled_text[:20]!r}"
    if extra:
        error = f"Row {line_no}: more fields than the header names (quote a name that holds a comma)"
    if not given:
        error = f"Row {line_no}: no url or source"
    return _checked(ImportRow(row=line_no, name=name, input=given[:_MAX_FIELD], enabled=enabled, error=error))


def _list_rows(lines: Iterable[str]) -> list[ImportRow]:
    """One URL or spec a line; `Name, URL` or `Name<TAB>URL` lines name the company too."""
    rows: list[ImportRow] = []
    for line_no, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = None
        for sep in ("\t", ","):
            head, found, tail = line.rpartition(sep)
            if found and tail.strip() and _looks_like_input(tail.strip()):
                name, line = head.strip() or None, tail.strip()
                break
        rows.append(_checked(ImportRow(row=line_no, name=name, input=line[:_MAX_FIELD])))
    return rows


def _looks_like_input(text: str) -> bool:
    kind = text.split(":", 1)[0].lower()
    from ingest_app.core.crawl.sources import FAMILY_NAMES

    return "://" in text or kind in FAMILY_NAMES or ("." in text and " " not in text)


def _checked(row: ImportRow) -> ImportRow:
    if row.error:
        return row
    if len(row.input) > MAX_URL_LENGTH + len("careers:"):
        return replace(row, error=f"Row {row.row}: the URL or source is longer than {MAX_URL_LENGTH} characters")
    if row.name is not None:
        try:
            clean_name(row.name)
        except CompanyError as exc:
            return replace(row, error=f"Row {row.row}: {exc}")
    return row


# ----- preview ------------------------------------------------------------------------------------


def _spec_of(text: str) -> str | None:
    """The normalized spec when `text` is written as one (`lever:acme`), else None (a URL)."""
    from ingest_app.core.crawl.sources import FAMILY_NAMES

    kind, sep, _ = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind in ("http", "https"):
        return None
    if kind not in FAMILY_NAMES and not (kind.isalnum() and "://" not in text):
        return None  # `host:port/...` pasted without a scheme: a URL
    return str(parse_source_spec(text))  # raises InvalidSourceSpec with a clear message


def _direct_spec(text: str) -> str | None:
    """A spec known without fetching: a written spec or a board URL a family recognizes."""
    from ingest_app.core.crawl.sources import match_url

    spec = _spec_of(text)
    if spec is None and len(text) <= MAX_URL_LENGTH:
        try:
            spec = match_url(text)
        except ValueError:
            spec = None
    return spec


def _existing(session: Session, user_id: int) -> dict[str, int]:
    return {c.source: c.id for c in list_companies(session, user_id)}


def _outcome(row: ImportRow, status: Status, **fields) -> RowOutcome:
    values = {"name": row.name, "source": None, "jobs_listed": None, **fields}
    return RowOutcome(row=row.row, input=row.input, enabled=row.enabled, status=status, **values)


DetectFn = Callable[[str], Detection]
ProbeFn = Callable[[str], Probe]


def _check_row(row: ImportRow, detect_fn: DetectFn | None, probe_fn: ProbeFn) -> RowOutcome:
    """One row, live: a spec is probed, a URL detected (its first proposal)."""
    try:
        spec = _spec_of(row.input)
    except InvalidSourceSpec as exc:
        return _outcome(row, "error", error=f"Row {row.row}: {exc}")
    if spec is not None:
        result = probe_fn(spec)
        if not result.ok:
            return _outcome(row, "error", source=spec, error=f"Row {row.row}: {spec} did not answer: {result.error}")
        return _outcome(row, "new", source=spec, jobs_listed=result.jobs_listed, name=row.name or _fallback(spec))
    # A row with a name needs no request for the company's name.
    found = detect(row.input, names=row.name is None) if detect_fn is None else detect_fn(row.input)
    if not found.proposals:
        reason = found.error or "no board found"
        if found.tried:
            reason += " (tried " + "; ".join(found.tried[:3]) + ")"
        return _outcome(row, "error", error=f"Row {row.row}: {reason}")
    best = found.proposals[0]
    return _outcome(row, "new", source=best.source, jobs_listed=best.jobs_listed, name=row.name or best.name)


def _fallback(spec: str) -> str | None:
    from ingest_app.core.detect import slug_name

    return slug_name(spec)


def preview_rows(
    user_id: int,
    rows: Sequence[ImportRow],
    *,
    detect_fn: DetectFn | None = None,
    probe_fn: ProbeFn | None = None,
    session: Session | None = None,
) -> list[RowOutcome]:
    """Every row's outcome, in input order. Rows are detected and probed `import_concurrency` at a
    time (each fetch also waits for the crawler's per-host limit); the whole preview ends by
    `import_timeout`, rows not checked by then say so. Duplicates of the user's companies and of an
    earlier row are found before any request, from the spec the row is written as."""
    from ingest_app.core.db import session_scope

    probe_fn = probe_fn or probe
    if session is None:
        with session_scope() as own:
            companies = list_companies(own, user_id)
    else:
        companies = list_companies(session, user_id)
    existing = {c.source: c.id for c in companies}
    outcomes, live = _triage(rows, existing)
    outcomes.update(_check_live(live, detect_fn, probe_fn))
    names = {c.id: c.name for c in companies}
    return _mark_detected_duplicates(rows, outcomes, existing, names)


def _triage(
    rows: Sequence[ImportRow], existing: dict[str, int]
) -> tuple[dict[int, RowOutcome], list[tuple[int, ImportRow]]]:
    """Outcomes known before any request (a row's parse error, an invalid spec, a duplicate of
    the user's companies or of an earlier row, by the spec the row is written as), and the rows
    (with their index) left to check live."""
    outcomes: dict[int, RowOutcome] = {}
    first_row: dict[str, int] = {}
    live: list[tuple[int, ImportRow]] = []
    for index, row in enumerate(rows):
        if row.error:
            outcomes[index] = _outcome(row, "error", error=row.error)
            continue
        try:
            spec = _direct_spec(row.input)
        except InvalidSourceSpec as exc:
            outcomes[index] = _outcome(row, "error", error=f"Row {row.row}: {exc}")
            continue
        if spec is not None and (dup := _duplicate(row, spec, existing, first_row)) is not None:
            outcomes[index] = dup
            continue
        if spec is not None:
            first_row[spec] = row.row
        live.append((index, row))
    return outcomes, live


def _check_live(
    live: list[tuple[int, ImportRow]], detect_fn: DetectFn | None, probe_fn: ProbeFn
) -> dict[int, RowOutcome]:
    """Detects and probes the rows `import_concurrency` at a time, all by one `import_timeout`:
    a row not started by then says so, and one row's failure never loses the others."""
    settings = get_settings()
    ends_at = time.monotonic() + settings.import_timeout

    def check(item: tuple[int, ImportRow]) -> tuple[int, RowOutcome]:
        index, row = item
        left = ends_at - time.monotonic()
        if left <= 0:
            return index, _outcome(row, "error", error=f"Row {row.row}: not checked; the import took longer than "
                                                       f"{settings.import_timeout:g} s")  # fmt: skip
        with deadline.within(left):
            try:
                return index, _check_row(row, detect_fn, probe_fn)
            except Exception as exc:  # one row's failure never loses the others
                return index, _outcome(row, "error", error=f"Row {row.row}: {type(exc).__name__}: {exc}"[:500])

    if not live:
        return {}
    workers = max(1, min(settings.import_concurrency, len(live)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
        return dict(pool.map(check, live))


def _mark_detected_duplicates(
    rows: Sequence[ImportRow], outcomes: dict[int, RowOutcome], existing: dict[str, int], names: dict[int, str]
) -> list[RowOutcome]:
    """The outcomes in input order. Rows detected from a page URL learn their spec only now: mark
    those duplicates too; a duplicate is shown as the company it is."""
    result: list[RowOutcome] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        outcome = outcomes[index]
        if outcome.status == "new" and outcome.source:
            if outcome.source in existing:
                outcome = replace(outcome, status="duplicate", duplicate_of=existing[outcome.source],
                                  error=f"Row {row.row}: you already track {outcome.source}")  # fmt: skip
            elif outcome.source in seen:
                outcome = replace(outcome, status="duplicate",
                                  error=f"Row {row.row}: same source as row {seen[outcome.source]}")  # fmt: skip
            else:
                seen[outcome.source] = row.row
        if outcome.duplicate_of is not None and not outcome.name:
            outcome = replace(outcome, name=names.get(outcome.duplicate_of))
        result.append(outcome)
    return result


def _duplicate(row: ImportRow, spec: str, existing: dict[str, int], first_row: dict[str, int]) -> RowOutcome | None:
    if spec in existing:
        return _outcome(row, "duplicate", source=spec, duplicate_of=existing[spec],
                        error=f"Row {row.row}: you already track {spec}")  # fmt: skip
    if spec in first_row:
        return _outcome(row, "duplicate", source=spec, error=f"Row {row.row}: same source as row {first_row[spec]}")
    return None


# ----- commit -------------------------------------------------------------------------------------


def commit_rows(
    session: Session, user_id: int, items: Sequence[RowOutcome] | Sequence[ImportRow], **preview_kwargs
) -> ImportSummary:
    """Add every `new` row as a company (ImportRows are previewed first). The user's row is locked
    (PostgreSQL), duplicates are checked again against what the user keeps now, and rows past the
    per-user company limit stay out with the reason. The caller commits the session."""
    if items and isinstance(items[0], ImportRow):
        outcomes = preview_rows(user_id, list(items), session=session, **preview_kwargs)  # type: ignore[arg-type]
    else:
        outcomes = list(items)  # type: ignore[arg-type]
    limit = get_settings().max_companies_per_user
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()
    existing = _existing(session, user_id)
    count = session.exec(select(sa.func.count()).select_from(Company).where(Company.user_id == user_id)).one()
    final: list[RowOutcome] = []
    added: list[tuple[int, Company]] = []
    for outcome in outcomes:
        if outcome.status != "new":
            final.append(outcome)
            continue
        if outcome.source in existing:
            final.append(replace(outcome, status="duplicate", duplicate_of=existing[outcome.source],
                                 error=f"Row {outcome.row}: you already track {outcome.source}"))  # fmt: skip
            continue
        try:
            spec = parse_source_spec(outcome.source or "")
            name = clean_name(outcome.name or "")
        except (InvalidSourceSpec, CompanyError) as exc:
            final.append(replace(outcome, status="error", error=f"Row {outcome.row}: {exc}"))
            continue
        if count >= limit:
            final.append(replace(outcome, status="error", error=f"Row {outcome.row}: not added; you can keep at most "
                                 f"{limit} companies (delete some, or import fewer rows)"))  # fmt: skip
            continue
        company = Company(user_id=user_id, name=name, source_kind=spec.kind, source_value=spec.value,
                          enabled=outcome.enabled)  # fmt: skip
        session.add(company)
        existing[str(spec)] = -1
        count += 1
        added.append((len(final), company))
        final.append(outcome)
    session.flush()
    for position, company in added:
        final[position] = replace(final[position], duplicate_of=None, source=company.source)
    return ImportSummary(
        added=len(added),
        duplicates=sum(o.status == "duplicate" for o in final),
        errors=sum(o.status == "error" for o in final),
        rows=final,
    )


# ----- export -------------------------------------------------------------------------------------


def export_csv(session: Session, user_id: int) -> str:
    """The user's companies as `name,source,enabled` (what `parse_rows` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "source", "enabled"])
    for company in list_companies(session, user_id):
        writer.writerow([_safe_cell(company.name), company.source, "true" if company.enabled else "false"])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A name a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`."""
    return "'" + text if text[:1] in _FORMULA else text


# ----- one call for the API and the CLI -----------------------------------------------------------


def run_import(user_id: int, text: str, *, dry_run: bool, **preview_kwargs) -> ImportSummary:
    """Parse, preview and (unless `dry_run`) add, in one call; raises ImportInputError for an
    unreadable input. A dry run adds nothing: its `new` rows are what a real import would add."""
    from ingest_app.core.db import session_scope

    rows = _rows_or_refuse(text)
    if dry_run:
        outcomes = preview_rows(user_id, rows, **preview_kwargs)
        return ImportSummary(
            added=0,
            duplicates=sum(o.status == "duplicate" for o in outcomes),
            errors=sum(o.status == "error" for o in outcomes),
            rows=outcomes,
        )
    outcomes = preview_rows(user_id, rows, **preview_kwargs)
    with session_scope() as session:
        summary = commit_rows(session, user_id, outcomes)
    return summary


def _rows_or_refuse(text: str) -> list[ImportRow]:
    rows = parse_rows(text)
    if not rows:
        raise ImportInputError("Nothing to import: paste a CSV with a url or source column, or one URL a line")
    return rows


async def run_import_async(user_id: int, text: str, *, dry_run: bool) -> ImportSummary:
    """`run_import` in the bounded listing pool (one slot of the user's), awaited without holding a
    thread of the web server; raises PreviewBusy when the user has too many running."""
    import asyncio

    from ingest_app.core import listing_pool

    _rows_or_refuse(text)  # an unreadable input is refused before it takes a pool slot
    future = listing_pool.get_pool().submit(user_id, lambda: run_import(user_id, text, dry_run=dry_run))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=get_settings().import_timeout + 30)
    except TimeoutError:  # queued behind other work past the deadline; a retry reports duplicates
        raise listing_pool.PreviewBusy("The import did not finish in time; try again in a minute", 60) from None


async def preview_rows_async(user_id: int, rows: Sequence[ImportRow]) -> list[RowOutcome]:
    """`preview_rows` in the bounded listing pool, for async callers (the UI)."""
    import asyncio

    from ingest_app.core import listing_pool

    future = listing_pool.get_pool().submit(user_id, lambda: preview_rows(user_id, list(rows)))
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout=get_settings().import_timeout + 30)
