"""Engine and session factory, created once per process (and per Lambda container)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _make_engine(url: str) -> Engine:
    settings = get_settings()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    connect_args: dict[str, object] = {
        "connect_timeout": 10,
        "keepalives": 1,
        "keepalives_idle": settings.db_keepalives_idle_seconds,
        "keepalives_interval": settings.db_keepalives_interval_seconds,
        "keepalives_count": settings.db_keepalives_count,
    }
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: the configured database)."""
    url = url or get_settings().database_url
    engine = _engines.get(url)
    if engine is None:
        with _lock:
            engine = _engines.get(url)
            if engine is None:
                if url.startswith("sqlite:///"):
                    Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
                engine = _engines[url] = _make_engine(url)
    return engine


_WORKER_TIMEOUTS = sa.text(
    "SELECT set_config('lock_timeout', :lock, true), set_config('statement_timeout', :statement, true), "
    "set_config('idle_in_transaction_session_timeout', :idle, true), "
    "set_config('synchronous_commit', :sync, true)"
)


def worker_transaction(conn: sa.Connection, *, relax_commit: bool = False) -> None:
    """Give the transaction just begun on `conn` the worker's limits (PostgreSQL; WORKER_DB_*):
    a lock held elsewhere, a runaway statement or the transaction left idle (a frozen or
    partitioned worker) ends in an error instead of holding every other worker behind it. With
    `relax_commit` (unless WORKER_SYNCHRONOUS_COMMIT), its commit does not wait for the disk flush:
    a crash loses it whole, its items stay pending and are re-sent."""
    if conn.dialect.name != "postgresql":
        return
    settings = get_settings()
    conn.execute(
        _WORKER_TIMEOUTS,
        {
            "lock": str(settings.worker_db_lock_timeout_ms),
            "statement": str(settings.worker_db_statement_timeout_ms),
            "idle": str(settings.worker_db_idle_in_transaction_timeout_ms),
            "sync": "off" if relax_commit and not settings.worker_synchronous_commit else "on",
        },
    )


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached (refused, reset, shut down), as
    opposed to a statement that failed (a lock wait that timed out, bad data, ...)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "pgcode", None)
    if code is None:
        return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
    # Class 08: connection exception; 57P01-57P03: the server is shutting down or starting up.
    return code.startswith("08") or code in ("57P01", "57P02", "57P03")


class DatabaseHealth:
    """What this process last learned about the database: workers stop taking work while it is
    down and probe it until it answers again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self.down_since: float | None = None
        self.last_error = ""

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def mark_down(self, exc: BaseException) -> None:
        with self._lock:
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning("database unreachable: %s", one_line(exc))
            self.last_error = one_line(exc)

    def mark_up(self) -> None:
        with self._lock:
            if self.down_since is not None:
                log.info("database reachable again after %.1f s", time.monotonic() - self.down_since)
            self.down_since = None

    def probe(self) -> bool | None:
        """One `SELECT 1`; True when it answered (and the state is up again), False when not,
        None when another thread is probing right now."""
        if not self._probe_lock.acquire(blocking=False):
            return None
        try:
            with get_engine().connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            self.mark_down(exc)
            return False
        else:
            self.mark_up()
            return True
        finally:
            self._probe_lock.release()


database_health = DatabaseHealth()


def one_line(exc: BaseException) -> str:
    """An exception as one short line (a driver error's first line, without the SQL)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    first = text[0] if text else type(orig).__name__
    return first[:300]


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def get_session() -> Iterator[Session]:
    """FastAPI dependency form of `session_scope`."""
    with session_scope() as session:
        yield session
