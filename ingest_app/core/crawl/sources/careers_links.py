"""Is a link on a careers page a job posting? Signals beyond the path, all read without regexes
(link texts and URLs are untrusted and may be huge):

- the URL carries an id or a job slug (`dispatcher-1021`, `R12345`, a UUID, `?gh_jid=`),
- the link text reads like a job title (a role word: engineer, manager, driver, intern...),
- the text or slug reads like a page about the company instead (team, culture, benefits,
  "life at", "our ...", early careers, talent community): such links are never postings,
- the link sits in a repeated list of similar links most of which are postings.
"""

from __future__ import annotations

MAX_TEXT = 300  # longer link texts are not titles; only this many characters are read

_ROLE_WORDS = frozenset(
    """
    engineer engineers developer developers programmer architect designer designers manager managers
    analyst analysts scientist scientists specialist specialists technician technicians consultant
    administrator admin coordinator director officer assistant associate associates representative rep
    lead leader head intern internship interns trainee apprentice apprenticeship graduate fellow nurse
    driver drivers operator operators accountant accounting advisor adviser agent writer editor
    researcher recruiter sourcer strategist planner supervisor foreman chef cook clerk cashier teacher
    tutor instructor dispatcher mechanic electrician plumber welder machinist assembler installer
    inspector estimator buyer merchandiser stylist barista bartender server host housekeeper caregiver
    aide practitioner physician surgeon dentist hygienist pharmacist therapist counselor counsel
    attorney lawyer paralegal auditor controller tester qa sre devops vp president executive producer
    marketer owner partner principal staff worker handler picker packer loader porter guard courier
    receptionist secretary bookkeeper underwriter actuary economist statistician translator
    interpreter illustrator animator photographer copywriter evangelist advocate expert generalist
    steward pilot captain deckhand carpenter painter cleaner janitor landscaper farmer butcher baker
    senior junior sr jr mid entry level lvl ii iii iv
    entwickler ingenieur praktikant praktikum werkstudent werkstudentin mitarbeiter mitarbeiterin
    leiter leiterin berater beraterin referent referentin sachbearbeiter kaufmann kauffrau
    développeur developpeur ingénieur ingenieur stagiaire alternant alternance responsable chargé
    charge commercial chef
    desarrollador ingeniero becario analista gerente
    """.split()
)
# A page about the company rather than a posting, when the text or slug is (or starts with) these.
_NON_JOB_PHRASES = (
    "life at",
    "life in",
    "working at",
    "work at",
    "work with us",
    "why join",
    "why work",
    "meet the",
    "meet our",
    "our team",
    "our teams",
    "our people",
    "our culture",
    "our values",
    "our story",
    "our opportunity",
    "our opportunities",
    "our benefits",
    "our offices",
    "our locations",
    "talent community",
    "talent network",
    "talent pool",
    "join our talent",
    "join the talent",
    "early careers",
    "early career",
    "early talent",
    "students and graduates",
    "university recruiting",
    "campus",
    "how we hire",
    "hiring process",
    "interview process",
    "see all",
    "view all",
    "all jobs",
    "all openings",
    "all positions",
    "search jobs",
    "job search",
    "job alerts",
    "learn more",
    "read more",
    "find out more",
    "explore",
    "discover",
)
_NON_JOB_WORDS = frozenset(
    """
    culture benefits perks values mission diversity inclusion belonging teams team departments
    locations offices stories story blog news events faq faqs students university universities
    graduates people press about overview
    engineering sales marketing design product operations finance legal support research data
    technology security hr recruiting
    """.split()
)
_FILLER = frozenset({"our", "the", "and", "at", "of", "in", "customer", "success"})
_SEPARATORS = "-_.~+ "


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words of a (bounded) text."""
    text = text[:MAX_TEXT].lower()
    return "".join(c if c.isalnum() else " " for c in text).split()


def _phrase(ws: list[str]) -> str:
    return " ".join(ws)


def reads_like_non_job(ws: list[str]) -> bool:
    """Text or slug words of a page about the company: team, culture, "life at", talent community."""
    if not ws:
        return False
    phrase = _phrase(ws)
    if any(phrase == p or phrase.startswith(p + " ") for p in _NON_JOB_PHRASES):
        return True
    if any(f" {p} " in f" {phrase} " for p in ("talent community", "talent network", "early careers", "life at")):
        return True
    # "Engineering", "Customer support", "Our culture": only words naming a team or a topic.
    return all(w in _NON_JOB_WORDS or w in _FILLER for w in ws)


def reads_like_title(ws: list[str]) -> bool:
    """A short text with a role word: "Senior Backend Engineer", "Warehouse Associate"."""
    return 0 < len(ws) <= 15 and any(w in _ROLE_WORDS for w in ws)


def _is_hex_id(token: str) -> bool:
    return len(token) >= 8 and all(c in "0123456789abcdef" for c in token) and any(c.isdigit() for c in token)


def has_job_id(segments: list[str]) -> bool:
    """An id in the path: a number (`dispatcher-1021`, `/jobs/4821/`), a requisition code
    (`R12345`, `JR-2231`), a UUID or a long hex id."""
    for segment in segments:
        text = segment[:MAX_TEXT].lower()
        if _is_hex_id(text.replace("-", "")) and len(text) >= 8:
            return True
        for token in "".join(" " if c in _SEPARATORS else c for c in text).split():
            digits = sum(c.isdigit() for c in token)
            if token.isdigit():
                return True
            if digits >= 3 and token.isalnum():
                return True
            if _is_hex_id(token):
                return True
    return False
