"""An Atom feed of a user's new jobs at a secret, revocable URL (`/feeds/{token}.atom`).

Only the SHA-256 of the token is stored: the URL is shown once when created; creating a new one
revokes the old one, and revoking leaves none. A token that is unknown, revoked or malformed
answers the same "not found"."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.changes import CHANGES, JOBS
from ingest_app.core.models import FeedToken, as_utc, utcnow
from ingest_app.core.settings import get_settings

TOKENS = FeedToken.__table__
FEED_ENTRIES = 50
FEED_KINDS = ("new", "reposted")
_TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
SUMMARY_CHARS = 600


class FeedNotFound(LookupError):
    def __init__(self) -> None:
        super().__init__("Feed not found")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class FeedStatus:
    active: bool
    created_at: datetime | None


def feed_status(session: Session, user_id: int) -> FeedStatus:
    created = session.execute(
        sa.select(TOKENS.c.created_at).where(TOKENS.c.user_id == user_id, TOKENS.c.revoked_at.is_(None))
    ).scalar()
    return FeedStatus(active=created is not None, created_at=as_utc(created))


def revoke_feed(session: Session, user_id: int) -> int:
    revoked = session.execute(
        sa.update(TOKENS).where(TOKENS.c.user_id == user_id, TOKENS.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    ).rowcount
    session.commit()
    return revoked


def create_feed(session: Session, user_id: int) -> str:
    """A new secret token (the old one stops working); shown to the user once."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(
        sa.update(TOKENS).where(TOKENS.c.user_id == user_id, TOKENS.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.execute(sa.insert(TOKENS).values(user_id=user_id, token_hash=_hash(token), created_at=now))
    session.commit()
    return token


def feed_path(token: str) -> str:
    return f"/feeds/{token}.atom"


def _owner(session: Session, token: str) -> int:
    if not token or len(token) > 100 or not set(token) <= _TOKEN_CHARS:
        raise FeedNotFound()
    user_id = session.execute(
        sa.select(TOKENS.c.user_id).where(TOKENS.c.token_hash == _hash(token), TOKENS.c.revoked_at.is_(None))
    ).scalar()
    if user_id is None:
        raise FeedNotFound()
    return user_id


def _entries(session: Session, user_id: int) -> list[Any]:
    return session.execute(
        sa.select(
            CHANGES.c.id,
            CHANGES.c.kind,
            CHANGES.c.title,
            CHANGES.c.company,
            CHANGES.c.location,
            CHANGES.c.source_url,
            CHANGES.c.created_at,
            CHANGES.c.run_id,
            JOBS.c.apply_url,
            JOBS.c.description,
        )
        .select_from(CHANGES.join(JOBS, JOBS.c.id == CHANGES.c.job_id))
        .where(CHANGES.c.user_id == user_id, CHANGES.c.kind.in_(FEED_KINDS))
        .order_by(CHANGES.c.created_at.desc(), CHANGES.c.id.desc())
        .limit(FEED_ENTRIES)
    ).all()


def render_feed(session: Session, token: str) -> bytes:
    """The Atom document of the token's user: the latest 50 new (and reposted) jobs."""
    from feedgen.feed import FeedGenerator

    user_id = _owner(session, token)
    base = get_settings().app_base_url.rstrip("/")
    rows = _entries(session, user_id)
    feed = FeedGenerator()
    feed.id(f"tag:job-ingest,2026:feed:{_hash(token)[:16]}")
    feed.title("New jobs")
    feed.subtitle("New jobs found by your ingestion runs")
    feed.link(href=f"{base}/jobs", rel="alternate")
    feed.author(name="Job ingestion")
    feed.updated(as_utc(rows[0].created_at) if rows else utcnow())
    for row in reversed(rows):  # feedgen prepends: oldest first gives newest first in the document
        entry = feed.add_entry()
        entry.id(f"tag:job-ingest,2026:change:{row.id}")
        label = "Reposted: " if row.kind == "reposted" else ""
        entry.title(f"{label}{row.title or '(untitled)'} — {row.company}")
        entry.link(href=row.apply_url or row.source_url, rel="alternate")
        entry.updated(as_utc(row.created_at))
        entry.published(as_utc(row.created_at))
        text = " ".join((row.description or "").split())
        if len(text) > SUMMARY_CHARS:
            text = text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
        where = f"{row.location}. " if row.location else ""
        entry.summary(f"{where}{text}", type="text")
        entry.category(term=row.kind)
    return feed.atom_str(pretty=True)
