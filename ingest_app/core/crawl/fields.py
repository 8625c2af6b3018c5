"""Fields stated in text rather than in structured data: salary ranges with currency and period,
employment/workplace types in title suffixes, "Label: value" lines, job-board site names.

Everything here reads untrusted text. Regexes only ever run on short, bounded windows (a label, a
title, ~200 characters around a currency mark); the scans over a whole text are plain finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest_app.core.crawl import normalize as n

PERIODS = ("hour", "day", "week", "month", "year")

# --- salary periods --------------------------------------------------------------------------

_PERIOD_WORDS = (
    ("hour", ("hour", "hours", "hourly", "hr", "hrs", "ph", "stunde", "stundenlohn", "heure")),
    ("day", ("per day", "a day", "daily", "day rate", "pro tag", "par jour")),
    ("week", ("week", "weekly", "wk", "woche")),
    ("month", ("month", "monthly", "mo", "monat", "monatlich", "mois", "mensuel")),
    ("year", ("year", "yearly", "annual", "annually", "annum", "yr", "pa", "p a", "jahr", "jährlich", "par an")),
)
_PERIOD_KEYS = tuple((period, tuple(f" {w} " for w in words)) for period, words in _PERIOD_WORDS)
_LETTERS = re.compile(r"[^a-zäöüé]+")


def _words(text: str) -> str:
    return " " + _LETTERS.sub(" ", text.lower()).strip() + " "


def period(value: object) -> str | None:
    """hour|day|week|month|year from schema.org unitText, ATS intervals ("per-year-salary",
    "1 HOUR") or words ("hourly", "per annum", "p.a."); else None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)[:100]
    if text.strip().lower() in PERIODS:  # schema.org unitText: HOUR, DAY, WEEK, MONTH, YEAR
        return text.strip().lower()
    words = _words(text.replace("/", " per "))
    for name, keys in _PERIOD_KEYS:
        if any(key in words for key in keys):
            return name
    return None


# --- salary amounts in text -------------------------------------------------------------------


@dataclass(frozen=True)
class Salary:
    low: float | None
    high: float | None
    currency: str | None
    period: str | None


_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "zł": "PLN"}
_PREFIXED = {
    "US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "S$": "SGD", "HK$": "HKD",
}  # fmt: skip
_CODES = (
    "USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF JPY INR SGD HKD BRL MXN ZAR ILS AED RON BGN TRY KRW CNY"
).split()
_CUR = r"(?:US\$|CA\$|C\$|AU\$|A\$|NZ\$|S\$|HK\$|[$€£¥₹₩₽]|zł|" + "|".join(_CODES) + r")"
_AMOUNT = r"\d{1,3}(?:[.,\u00a0\u202f '’]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_UNIT = r"(?:\s?(?:/|per|an|a)\s?(?:hour|hr|h|year|yr|annum|month|mo|week|wk|day)\b)?"  # "$60/hour - $75/hour"
# Applied to windows of at most _WINDOW characters only.
_RANGE = re.compile(
    rf"(?P<c1>{_CUR})?\s?(?P<a1>{_AMOUNT})\s?(?P<k1>[kK]\b)?\s?(?P<c2>{_CUR})?{_UNIT}"
    rf"(?:\s*(?:-|–|—|−|~|to|bis|à|and)\s*(?P<c3>{_CUR})?\s?(?P<a2>{_AMOUNT})\s?(?P<k2>[kK]\b)?\s?(?P<c4>{_CUR})?)?"
)
# The look-ahead lets the engine skip, in C, every position that cannot start a currency mark.
_ANCHOR = re.compile(r"(?=[$€£¥₹₩₽zA-Z])" + _CUR)
_WINDOW = 160
_MAX_ANCHORS = 60
_SALARY_WORDS = (
    "salary", "salaries", "pay", "paid", "compensation", "wage", "wages", "rate", "range", "base", "ote",
    "gehalt", "vergütung", "verguetung", "lohn", "salaire", "rémunération", "remuneration", "stipend", "earn",
)  # fmt: skip
_SALARY_KEYS = tuple(f" {w} " for w in _SALARY_WORDS)


def _to_number(raw: str, k: bool) -> float | None:
    text = raw.replace("\u00a0", " ").replace("\u202f", " ").replace("'", " ").replace("’", " ")
    if "," in text and "." in text:  # the last one is the decimal mark
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(" ", "").replace(decimal, ".")
    else:
        text = text.replace(" ", "")
        for mark in (",", "."):
            if mark in text:
                head, _, tail = text.rpartition(mark)
                text = text.replace(mark, "") if len(tail) == 3 else head.replace(mark, "") + "." + tail
    value = n.number(text)
    if value is not None and k:
        value *= 1000
    return value


def _currency(*marks: str | None) -> str | None:
    for mark in marks:  # codes first: "CA$36 CAD" is CAD, "$45 USD" is USD
        if mark and mark in _CODES:
            return mark
    for mark in marks:
        if mark:
            return _PREFIXED.get(mark) or _SYMBOLS.get(mark)
    return None


def salary_from_text(text: str | None, *, labelled: bool = False) -> Salary | None:
    """The first salary range (or single rate with a period) stated in `text`.

    Free text needs a pay word before it ("salary", "pay range", "Gehalt"...) or a period after
    it; a labelled value (`labelled=True`, e.g. a "Salary:" field) does not. 0-0 is no salary.
    """
    if not text:
        return None
    text = str(text)[: n.MAX_DESCRIPTION]
    for count, anchor in enumerate(_ANCHOR.finditer(text)):
        if count >= _MAX_ANCHORS:
            break
        start = max(0, anchor.start() - 40)
        window = text[start : anchor.end() + _WINDOW]
        salary = _salary_at(window, anchor.start() - start, labelled)
        if salary is not None:
            return salary
    return None


def _salary_at(window: str, anchor: int, labelled: bool) -> Salary | None:
    """The salary whose amounts start at the anchor (a pay word, or the window's start): the first
    range with a currency mark from there. A range past the anchor's neighbourhood, or a zero
    amount, ends the search; a lone amount needs a period, a free-text one a period or pay word."""
    for match in _RANGE.finditer(window):
        if match.end() < anchor:
            continue
        if match.start() > anchor + 8:
            return None
        marks = [match.group(g) for g in ("c1", "c2", "c3", "c4")]
        if not any(marks):
            continue
        low, high = _amounts(match)
        before, found = _period_near(window, match)
        if high is None:
            if not found:  # a lone amount is a salary only with a period: "$25 an hour"
                continue
            high = low
        if _no_pay(low, high):
            return None
        if not (labelled or found or _pay_worded(before)):
            continue
        low, high = min(low, high), max(low, high)
        return Salary(low, high, _currency(*marks), found)
    return None


def _amounts(match: re.Match) -> tuple[float | None, float | None]:
    """The range's low and high amounts (high None for a lone amount); a K on the high amount
    alone applies to both: "$95-120K"."""
    k1, k2 = bool(match.group("k1")), bool(match.group("k2"))
    low = _to_number(match.group("a1"), k1)
    high = _to_number(match.group("a2"), k2) if match.group("a2") else None
    if high is not None and k2 and not k1 and low is not None and low < 1000:
        low *= 1000
    return low, high


def _period_near(window: str, match: re.Match) -> tuple[str, str | None]:
    """The text of the sentence before the range, and the pay period stated in the range, just
    after it or just before it."""
    after = window[match.end() : match.end() + 40].split(". ")[0]
    before = window[max(0, match.start() - 40) : match.start()].rsplit(". ", 1)[-1]
    return before, period(match.group(0)) or period(after[:24]) or period(before[-25:])


def _no_pay(low: float | None, high: float | None) -> bool:
    """An amount that is not a salary: unreadable, or zero."""
    return low is None or high is None or (low == 0 and high == 0) or high == 0


def _pay_worded(before: str) -> bool:
    return any(key in _words(before) for key in _SALARY_KEYS)


def placeholder(low: float | None, high: float | None) -> bool:
    """0-0 (or nothing at all) is how boards say "no salary given"."""
    return not low and not high


# --- types stated in titles ----------------------------------------------------------------

_INTERN_WORDS = (" intern ", " interns ", " internship ", " praktikum ", " praktikant ", " co op ", " apprentice ")
_SUFFIX_SPLIT = (" - ", " – ", " — ", " | ", ", ", " / ")


def _title_parts(title: str) -> list[str]:
    title = title[:300]
    parts: list[str] = []
    for opener, closer in (("(", ")"), ("[", "]")):
        pos = 0
        while (i := title.find(opener, pos)) != -1:
            j = title.find(closer, i + 1)
            if j == -1:
                break
            parts.append(title[i + 1 : j])
            pos = j + 1
    for sep in _SUFFIX_SPLIT:
        if sep in title:
            parts.append(title.rsplit(sep, 1)[1])
    return [p for p in parts if len(p) <= 40]


def employment_from_title(title: str | None) -> str | None:
    """Type from a title: "Technical Writer (Contract)" -> contract, "Marketing Intern" -> internship; a title word
    alone ("Contract Manager") is not a type."""
    if not title:
        return None
    if any(word in _words(title[:300]) for word in _INTERN_WORDS):
        return "internship"
    for part in _title_parts(title):
        if found := n.employment_type(part):
            return found
    return None


def workplace_from_title(title: str | None) -> str | None:
    if not title:
        return None
    for part in _title_parts(title):
        if found := n.workplace_type(part):
            return found
    return None


# --- "Label: value" fields ------------------------------------------------------------------

_LABEL_NAMES = {
    "location": (
        "location", "locations", "job location", "work location", "office location", "city", "based in",
        "standort", "arbeitsort", "einsatzort", "lieu", "ubicación", "ubicacion",
    ),
    "employment_type": (
        "employment type", "job type", "type of employment", "contract type", "position type", "employment",
        "schedule", "commitment", "work schedule", "anstellungsart", "beschäftigungsart", "vertragsart",
        "type de contrat", "type of contract", "hours",
    ),
    "salary": (
        "salary", "pay", "compensation", "salary range", "pay range", "base salary", "wage", "hourly rate",
        "rate", "pay rate", "gehalt", "vergütung", "salaire", "rémunération", "remuneration", "salary band",
    ),
    "company": (
        "company", "employer", "hiring company", "organization", "organisation", "unternehmen", "firma",
        "arbeitgeber", "entreprise", "société", "employeur", "empresa",
    ),
    "department": ("department", "team", "abteilung", "division"),
    "workplace_type": (
        "workplace", "workplace type", "work model", "working model", "remote", "remote status",
        "work arrangement", "arbeitsmodell", "work mode", "location type",
    ),
}  # fmt: skip
LABELS = {label: field for field, labels in _LABEL_NAMES.items() for label in labels}
MAX_LABEL = 40
MAX_VALUE = 200


def label_of(text: str | None) -> str | None:
    """The field a short label names ("Employment type:" -> employment_type), else None."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > MAX_LABEL + 2:
        return None
    return LABELS.get(" ".join(text.rstrip(":：").lower().split()))


def split_labelled(text: str | None) -> tuple[str, str] | None:
    """("location", "Portland, ME") for "Location: Portland, ME"; None otherwise."""
    if not text:
        return None
    head = text[: MAX_LABEL + 2]
    i = head.find(":")
    if i <= 0:
        return None
    field = label_of(head[:i])
    value = text[i + 1 : i + 1 + MAX_VALUE + 1].strip()
    if field is None or not value or len(value) > MAX_VALUE:
        return None
    return field, value


# --- job boards ---------------------------------------------------------------------------

_BOARDS = (
    "linkedin indeed glassdoor monster ziprecruiter simplyhired careerbuilder dice wellfound angellist otta "
    "stepstone xing reed totaljobs seek naukri adzuna jooble remotive remoteok himalayas jobgether "
    "greenhouse lever ashby workday smartrecruiters bamboohr recruitee personio teamtailor jobvite icims "
    "workable breezy jazzhr taleo successfactors pinpoint"
).split()
_BOARD_PHRASES = ("we work remotely", "remote ok", "welcome to the jungle", "built in", "stack overflow", "talent com")
_BOARD_WORDS = (" job ", " jobs ", " hiring ", " recruit ", " recruiting ", " recruitment ", " talent ", " vacancies ")
_EMPLOYER_SUFFIXES = (" careers", " jobs", " karriere", " career", " carrières")
_EMPLOYER_PREFIXES = ("careers at ", "jobs at ", "work at ", "working at ", "karriere bei ")


def employer_from_site_name(site_name: str | None, page_url: str = "") -> str | None:
    """og:site_name as the employer, unless it names a job board or an ATS ("LinkedIn",
    "JobNest", "Greenhouse"); "Acme Careers" -> "Acme"."""
    name = n.clean_text(site_name, 200)
    if not name:
        return None
    host = page_url.split("//", 1)[-1].split("/", 1)[0].lower()
    words = n.keywordize(name)
    compact = name.lower().replace(" ", "")
    if any(compact == b or compact.startswith(b + ".") or f"{b}." in host for b in _BOARDS):
        return None
    if any(f" {p} " in words for p in _BOARD_PHRASES):
        return None
    lowered = name.lower()
    for prefix in _EMPLOYER_PREFIXES:
        if lowered.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :].strip() or None
    for suffix in _EMPLOYER_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip(" -|·") or None
    if any(word in words for word in _BOARD_WORDS):
        return None
    return name


LABEL_FIELDS = frozenset(LABELS.values())


def complete(posting):
    """Fill what structured fields left empty from what the posting says elsewhere: types from
    the title ("(Contract)", "Intern") and the location, a salary stated in the description."""
    if not posting.employment_type:
        posting.employment_type = employment_from_title(posting.title)
    if not posting.workplace_type:
        posting.workplace_type = workplace_from_title(posting.title) or n.workplace_type(posting.location)
    if posting.salary_min is None and posting.salary_max is None and posting.description:
        found = salary_from_text(posting.description)
        if found is not None:
            posting.salary_min, posting.salary_max = found.low, found.high
            posting.salary_currency, posting.salary_period = found.currency, found.period
    return posting
