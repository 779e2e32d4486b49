"""Engine, SQLite pragmas and schema version. The only module that knows it may be talking to SQLite."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, DataError, OperationalError

from .dates import utc_now
from .errors import InputError, TrackerError
from .migrations import MIGRATIONS, create_schema
from .models import TABLES
from .validate import env_int

DEFAULT_DB = "forecast.db"
BUSY_TIMEOUT_MS = 10_000
LOCK_RETRIES = 5


def resolve_location(db: str | os.PathLike | None) -> str:
    """`--db`, else `FORECAST_TRACKER_DB`, else `./forecast.db`."""
    if db:
        return str(db)
    return os.environ.get("FORECAST_TRACKER_DB") or DEFAULT_DB


def _is_url(location: str) -> bool:
    return "://" in location


def _is_sqlite_url(location: str) -> bool:
    return location.split("://", 1)[0].split("+", 1)[0].lower() == "sqlite"


def _sqlite_path(location: str) -> Path | None:
    """The file a SQLite location names (a path, `sqlite:///`, `sqlite+pysqlite:///`, with or without
    `file:` and a query), or None for an in-memory database and other backends."""
    if not _is_url(location):
        return Path(location)
    if _is_sqlite_url(location) and ":///" in location:
        rest = location.split(":///", 1)[1].split("?")[0].removeprefix("file:")
        return Path(rest) if rest and rest != ":memory:" else None
    return None


def _sqlite_url(location: str, path: Path) -> str:
    """The URL the driver is given. A query (`?mode=ro`, `?immutable=1`) only reaches SQLite when the
    file is opened as a URI, which SQLAlchemy does for `file:` paths with `uri=true`: without that
    the query was dropped, and `?mode=ro` opened the file for writing."""
    if "?" not in location:
        return f"sqlite:///{path}"
    query = location.split("?", 1)[1]
    query = "&".join(part for part in query.split("&") if part and part.split("=")[0] != "uri")
    return f"sqlite:///file:{path}?{query}&uri=true"


def _check_sqlite_file(path: Path, create: bool) -> None:
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist", "db")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a database file", "db")
    if path.exists() and not path.is_file():  # a FIFO would block the read below; /dev/null gains a journal
        raise InputError(f"{path} is not a regular file (a device, pipe or socket), not a database file", "db")
    if not path.exists():
        if not create:
            raise InputError(f"no database at {path} (run 'forecast-tracker init' first)", "db")
        return
    with open(path, "rb") as fh:
        header = fh.read(16)
    if header and header != b"SQLite format 3\x00":
        raise InputError(f"{path} is not a SQLite database", "db")


class Database:
    """An engine plus the rules for transactions: one per user action, writes take the lock first."""

    def __init__(self, location: str | os.PathLike | None = None, *, create: bool = False, upgrade: bool = True):
        self.location = resolve_location(location)
        path = _sqlite_path(self.location)
        self.path = path
        if path is not None:
            _check_sqlite_file(path, create)
            url = _sqlite_url(self.location, path)
        else:
            url = self.location
        self.is_sqlite = url.startswith("sqlite")
        self.engine: Engine = _engine(url, self.location)
        if self.is_sqlite:
            _install_sqlite_pragmas(self.engine)
        self.check_schema(create=create, upgrade=upgrade)
        if self.is_sqlite:
            self._use_wal()

    def _use_wal(self) -> None:
        # WAL is a property of the file, so it is set once, and only on a database known to be ours: a
        # refused file is never written to. The pragma cannot run inside a transaction (SQLite refuses,
        # and the first release swallowed that error), so it goes to the driver's connection directly,
        # which runs in autocommit (isolation_level None, set on connect).
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None  # a pool connection that is open
            mode = driver.execute("PRAGMA journal_mode").fetchone()[0]
            writable = self.path is not None and os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
            if str(mode).lower() != "wal" and writable and not _read_only(self.location):
                driver.execute("PRAGMA journal_mode = WAL")
        finally:
            raw.close()

    def journal_mode(self) -> str:
        with self.read() as conn:
            return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()) if self.is_sqlite else ""

    # -- transactions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self, bulk: bool = False) -> Iterator[Connection]:
        """One write transaction. SQLite takes the write lock at BEGIN (IMMEDIATE), so two writers
        queue on the busy timeout instead of failing on a lock upgrade; a lock that outlasts the
        timeout is retried a bounded number of times before it reaches the user. `bulk`: many rows
        (an import), with a page cache to match (`sqlite_pragma`); on SQLite the connection is also
        marked `may_defer_indexes` (see `store.may_defer_indexes`)."""
        for attempt in range(LOCK_RETRIES):
            conn = self.engine.connect().execution_options(sqlite_immediate=True)
            try:
                conn.begin()
                if not self.is_sqlite:
                    _take_write_lock(conn)
            except OperationalError as exc:
                conn.close()
                if _is_locked(exc) and attempt < LOCK_RETRIES - 1:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise _translate(exc, self.location) from None
            break
        try:
            if bulk and self.is_sqlite:
                conn.execution_options(may_defer_indexes=True)
            with sqlite_pragma(conn, "cache_size", -IMPORT_CACHE_KIB) if bulk else contextlib.nullcontext():
                yield conn
                conn.commit()
        except OperationalError as exc:
            conn.rollback()
            raise _translate(exc, self.location) from None
        except DataError as exc:
            conn.rollback()
            raise _refused_value(exc) from None
        except DatabaseError as exc:
            conn.rollback()
            if _damaged(exc):
                raise _translate(exc, self.location) from None
            raise
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    @contextlib.contextmanager
    def read(self, batches: bool = False) -> Iterator[Connection]:
        """A read transaction: a consistent snapshot for a whole command. `batches`: the command reads
        the whole record a batch at a time, with the file mapped (`sqlite_pragma`)."""
        conn = self.engine.connect()
        if not self.is_sqlite:  # PostgreSQL's default READ COMMITTED gives each statement its own
            # snapshot: a report read during an import mixed pages from before and after it
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            conn.begin()
            with sqlite_pragma(conn, "mmap_size", READ_MMAP_BYTES) if batches else contextlib.nullcontext():
                yield conn
            conn.rollback()
        except OperationalError as exc:
            raise _translate(exc, self.location) from None
        except DataError as exc:
            raise _refused_value(exc) from None
        except DatabaseError as exc:
            if _damaged(exc):
                raise _translate(exc, self.location) from None
            raise
        finally:
            conn.close()

    # -- schema ---------------------------------------------------------------------------------
    def applied_migrations(self, conn: Connection) -> list[str]:
        if not conn.dialect.has_table(conn, "schema_migration"):
            return []
        return [row[0] for row in conn.execute(text("SELECT name FROM schema_migration ORDER BY name"))]

    def check_schema(self, *, create: bool, upgrade: bool) -> None:
        known = [name for name, _ in MIGRATIONS]
        try:
            with self.read() as conn:
                applied = self.applied_migrations(conn)
                # only an unknown database needs its tables listed (the inspector costs start-up time)
                tables = [] if applied else conn.dialect.get_table_names(conn)
        except DatabaseError as exc:
            raise InputError(f"{self.location} cannot be read as a database ({_first_line(exc)})", "db") from None
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise InputError(
                f"{self.location} was written by a newer release of forecast-tracker "
                f"(schema {unknown[-1]}); upgrade forecast-tracker to use it",
                "db",
            )
        if not applied and tables:
            # someone else's database: never write our schema into it, not even on init
            raise InputError(f"{self.location} is a database but not a forecast-tracker one (it has other tables)", "db")
        if not applied and not create:
            # an empty file or database: only init (or demo) may create the schema; reading never writes
            raise InputError(f"{self.location} is empty, not a forecast-tracker database (run 'forecast-tracker init')", "db")
        pending = [name for name in known if name not in applied]
        if pending and (upgrade or create):
            self.upgrade()

    def schema_version(self) -> str:
        with self.read() as conn:
            applied = self.applied_migrations(conn)
        return applied[-1] if applied else ""

    def upgrade(self) -> list[str]:
        """Apply pending migrations, each in one transaction with its record. Returns their names.

        An empty database is created whole from the models, with every migration recorded."""
        record = TABLES["schema_migration"]
        with self.write() as conn:
            if not self.applied_migrations(conn):
                create_schema(conn)
                conn.execute(record.insert(), [{"name": name, "applied_at": utc_now()} for name, _ in MIGRATIONS])
                return [name for name, _ in MIGRATIONS]
        done: list[str] = []
        for name, migrate in MIGRATIONS:
            with self.write() as conn:
                if conn.execute(record.select().where(record.c.name == name)).first():
                    continue
                migrate(conn)
                conn.execute(record.insert().values(name=name, applied_at=utc_now()))
            done.append(name)
        return done

    def integrity_check(self) -> str:
        if not self.is_sqlite:
            return "ok"
        with self.read() as conn:
            return str(conn.execute(text("PRAGMA integrity_check")).scalar())

    def dispose(self) -> None:
        self.engine.dispose()


SUPPORTED = ("sqlite", "postgresql")


def _engine(url: str, location: str) -> Engine:
    """An engine for a supported URL; anything else is bad input, named as such."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in SUPPORTED:
        raise InputError(
            f"{location[:80]}: '{scheme[:20]}' databases are not supported (use a file path, sqlite:/// or postgresql://)", "db"
        )
    try:
        return create_engine(url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError, ValueError) as exc:
        hint = " (pip install 'forecast-tracker[postgres]')" if scheme == "postgresql" else ""
        raise InputError(f"cannot use {location[:80]}: {_first_line(exc)[:120]}{hint}", "db") from None


WRITE_LOCK_KEY = 0x666F7265  # "fore": one advisory lock for all of forecast-tracker's writes


def _take_write_lock(conn: Connection) -> None:
    """PostgreSQL's counterpart of SQLite's BEGIN IMMEDIATE: writers queue on one transaction-level
    advisory lock, so a check-then-insert (a resolution without --force, a duplicate observation) is
    never raced by another writer at READ COMMITTED. Readers never take it. Waits up to the busy
    timeout, then fails like a busy SQLite database."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{busy_timeout_ms()}ms'")
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def busy_timeout_ms() -> int:
    """How long a writer waits for another writer's lock, per attempt (LOCK_RETRIES attempts):
    FORECAST_TRACKER_BUSY_TIMEOUT_MS, else BUSY_TIMEOUT_MS."""
    return env_int("FORECAST_TRACKER_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS, 1, MAX_BUSY_TIMEOUT_MS)


# PostgreSQL's lock_timeout is a 32-bit count of milliseconds, and 0 there means "wait for ever"
MAX_BUSY_TIMEOUT_MS = 2**31 - 1



IMPORT_CACHE_KIB = 256 * 1024  # SQLite's page cache while importing (its default is 2 MiB)
READ_MMAP_BYTES = 1 << 30  # how much of the database file a batch reader maps instead of reading


@contextlib.contextmanager
def sqlite_pragma(conn: Connection, name: str, value: int) -> Iterator[None]:
    """On SQLite, `PRAGMA name = value` for the block, then the previous value; elsewhere nothing.

    Two uses (`Database.write(bulk=True)`, `Database.read(batches=True)`), each measured at 10x the
    benchmark's data: `cache_size` for imports (rows go into the observation index in random order;
    with the default 2 MiB cache 2 million rows took 55 s, with this 28-31 s), and `mmap_size` for the
    commands that read the record a batch of propositions at a time (each batch's rows are scattered
    over the file, and with a 2 MiB cache every batch read most pages again: ~400,000 read calls at
    1x; mapped, they are memory reads). Memory is taken only as used; mapped pages are the operating
    system's file cache."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = int(conn.exec_driver_sql(f"PRAGMA {name}").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        transaction = conn.get_transaction()
        if transaction is not None and not transaction.is_valid:
            conn.rollback()  # a failed commit (a full disk) leaves the transaction unusable until then
        conn.exec_driver_sql(f"PRAGMA {name} = {previous}")


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions begin too late to lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _read_only(location: str) -> bool:
    return "mode=ro" in location or "immutable=1" in location


def _is_locked(exc: Exception) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text or "lock timeout" in text


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0]


def _refused_value(exc: DataError) -> InputError:
    """A value the database will not store or compare (PostgreSQL: a NUL byte in text, an integer out
    of range): bad input, exit 2, whatever command it came through."""
    return InputError(f"the database refused a value: {_first_line(exc)[:200]}")


def _damaged(exc: Exception) -> bool:
    message = _first_line(exc)
    return "malformed" in message or "not a database" in message or "disk image" in message


def _translate(exc: DatabaseError, location: str) -> TrackerError:
    message = _first_line(exc)
    if _damaged(exc):
        return InputError(f"{location} is damaged ({message}); restore it from a backup", "db")
    if "readonly" in message or "read-only" in message:
        return InputError(f"{location} is read-only", "db")
    if _is_locked(exc):
        return TrackerError(f"database {location} is busy: another command is writing to it; try again when it has finished")
    if "disk is full" in message:
        return TrackerError(f"the disk holding {location} is full: nothing was written; free some space and try again")
    if "unable to open" in message:
        return InputError(f"cannot open {location} ({message})", "db")
    return TrackerError(f"database error: {message}")
