"""Opening the fleet database: SQLite for one machine, PostgreSQL beyond.

    db = connect("sqlite:///var/fleet/fleet.db")        # a path (sqlite:////abs/path)
    db = connect("postgresql://fleet:secret@db.example:5432/fleet")
    create_tables(db)

SQLite runs in WAL mode with ``synchronous=FULL``: the fleet acknowledges an entry only
after its COMMIT, and the terminal counts on that acknowledgement, so a commit must
survive a power cut. Foreign keys are on; ``busy_timeout`` lets several ingest processes
take turns at the single writer's lock. On PostgreSQL the connection is plain psycopg2
(``READ COMMITTED``); the ingest locks a terminal's row (``SELECT ... FOR UPDATE``) for
each batch.

The models are bound to no database (see :mod:`fleet.models`); every query names its
own, so two fleet databases can be open in one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from fleet.models import MODELS

try:  # the fleet extra; SQLite alone needs none of it
    from psycopg2.extras import execute_values
except ImportError:  # pragma: no cover - PostgreSQL URLs fail in peewee then, plainly
    execute_values = None

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -16000,  # 16 MB
}


def connect(url: str) -> peewee.Database:
    """The database at ``url``: ``sqlite:///path`` or ``postgresql://user[:password]@host
    [:port]/dbname`` (``postgres://`` too; query parameters go to psycopg2, e.g.
    ``?sslmode=require``). Raises ValueError for anything else."""
    if not isinstance(url, str):
        raise ValueError("a database URL is text: sqlite:///path or postgresql://...")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise ValueError("sqlite:/// needs a file path: sqlite:///var/fleet/fleet.db")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, timeout=30, returning_clause=True
        )
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ValueError(f"no database name in {_redacted(url)}: postgresql://host/dbname")
        options = dict(parse_qsl(parts.query))
        for key, value in (
            ("user", parts.username),
            ("password", parts.password),
            ("host", parts.hostname),
            ("port", parts.port),
        ):
            if value is not None:
                options[key] = unquote(value) if isinstance(value, str) else value
        return peewee.PostgresqlDatabase(name, **options)
    raise ValueError(
        f"not a fleet database URL: {_redacted(url)!r} "
        "(sqlite:///path/fleet.db or postgresql://user@host:port/dbname)"
    )


def _redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def create_tables(db: peewee.Database) -> None:
    """Create the fleet's tables that are missing, and the columns added to a table since
    it was made (each has a default or may be empty); safe to run at every start."""
    with db.bind_ctx(MODELS), db.atomic():  # bound only while the tables are made
        levels_new = not db.table_exists("stock_level")
        for model in MODELS:  # in their order: parents first (the foreign keys are SQL)
            model.create_table(safe=True)
            _add_missing_columns(db, model)
        if levels_new:  # a ledger older than its levels: they are its sums from the start
            from fleet.inventory import rebuild_levels  # noqa: PLC0415 - it imports this

            rebuild_levels(db)


def _add_missing_columns(db: peewee.Database, model: type[peewee.Model]) -> None:
    table = model._meta.table_name
    have = {column.name for column in db.get_columns(table)}
    missing = [f for f in model._meta.sorted_fields if f.column_name not in have]
    if not missing:
        return
    migrator = SchemaMigrator.from_database(db)
    for field in missing:
        if not field.null and field.default is None:
            raise RuntimeError(f"{table}.{field.column_name}: a new column needs a default")
        migrate(migrator.add_column(table, field.column_name, field))


def write_transaction(db: peewee.Database):
    """A transaction that writes: on SQLite it takes the write lock at BEGIN (IMMEDIATE),
    so a read-then-write inside it cannot race another process."""
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def lock_named(db: peewee.Database, name: str) -> None:
    """Inside a write transaction: one holder of ``name`` at a time (on PostgreSQL a
    transaction-wide advisory lock; SQLite's write transaction is one already), so two
    requests that check then write (a delivery note's digest, a store's open count) run
    one after the other."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))


_TIME_FIELDS = (peewee.DateTimeField, peewee.DateField)


def _times_as_text(row: Sequence, positions: list[int]) -> list:
    row = list(row)
    for i in positions:
        if row[i] is not None:
            row[i] = str(row[i])
    return row


def bulk_insert(
    db: peewee.Database,
    model: type[peewee.Model],
    fields: Sequence[peewee.Field],
    rows: Iterable[Sequence],
) -> int:
    """INSERT many rows (tuples in the order of ``fields``) in one round trip per page,
    without building a peewee query for each: the ingest's hot path. Errors come as
    peewee's (IntegrityError, OperationalError, ...). Returns the number of rows."""
    rows = list(rows)
    if not rows:
        return 0
    table = model._meta.table_name
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    with peewee.__exception_wrapper__:
        cursor = db.cursor()
        if is_postgres(db):
            execute_values(
                cursor, f'INSERT INTO "{table}" ({columns}) VALUES %s', rows, page_size=1000
            )
        else:
            # times as peewee writes them to SQLite (text), not through the sqlite3
            # module's default adapters (deprecated)
            times = [i for i, f in enumerate(fields) if isinstance(f, _TIME_FIELDS)]
            if times:
                rows = [_times_as_text(row, times) for row in rows]
            marks = ", ".join("?" * len(fields))
            cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)
    return len(rows)
