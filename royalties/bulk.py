"""Plain rows into a model's table in multi-row INSERTs, for the ledger's hot path.

`bulk_create` builds a model instance per row and prepares every field through
the ORM: for the lines and entries of a settlement batch (a dozen rows per
order) that costs more CPU than the database spends storing them. The rows
here are tuples of already-clean values (ints, short strings, None, aware
datetimes), in the column order given; table and column names come from the
model, never from input.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models


def _param_limit() -> int:
    """How many parameters one statement may carry. Django assumes SQLite's
    historical 999; the library in use states its own (32766 since 3.32)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def _chunks(rows: Sequence[tuple], width: int) -> Iterator[Sequence[tuple]]:
    size = max(1, _param_limit() // width)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _quoted(field: Any) -> str:
    """A concrete field's column name, quoted (names come from the model)."""
    return connection.ops.quote_name(str(field.column))


def _head(model: type[models.Model], columns: Sequence[str]) -> tuple[str, list]:
    fields: list[Any] = [model._meta.get_field(c) for c in columns]
    names = ", ".join(_quoted(f) for f in fields)
    return f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names})", fields


def unnest_insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]
) -> tuple[str, list]:
    """PostgreSQL: the statement (and its parameters) that inserts `rows`, one
    array per column: a handful of parameters however many rows (thousands of
    placeholders cost more to parse than the rows cost to store). Rows are
    inserted in the order given. For composing statements (see `ledger`)."""
    head, fields = _head(model, columns)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    params = [array_literal(column) for column in zip(*rows, strict=True)]
    return f"{head} SELECT * FROM unnest({arrays})", params  # noqa: S608


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        value = value.isoformat()  # aware: PostgreSQL reads the offset
    elif not isinstance(value, str):
        raise TypeError(f"no array element for {type(value).__name__}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values: Sequence[Any]) -> str:
    """A column of values as one PostgreSQL array literal (`{1,NULL,"a\\"b"}`),
    sent as a single text parameter and cast by the statement (`%s::bigint[]`).
    The driver would build the same text element by element in Python (or quote
    an ARRAY[…] of them), which costs more than the database spends storing the
    rows. Strings are always quoted, so "NULL" stays a string."""
    return "{" + ",".join(map(_element, values)) + "}"


def rows_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    returning: bool,
    before: tuple[str, list] | None = None,
) -> list[int]:
    """Insert `rows` (tuples in `columns` order) into `model`'s table, in as few
    statements as the database allows; the new primary keys in row order when
    `returning`, else []. PostgreSQL: one statement, and `before` (a
    data-modifying `WITH name AS (…)` clause and its parameters) rides along
    in it; elsewhere `before` runs as a statement of its own first."""
    if not rows:
        return []
    tail = f" RETURNING {_quoted(model._meta.pk)}" if returning else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql, params = unnest_insert(model, columns, rows)
            if before is not None:
                sql, params = f"{before[0]} {sql}", [*before[1], *params]
            cursor.execute(sql + tail, params)
            return [row[0] for row in cursor.fetchall()] if returning else []
        if before is not None:
            cursor.execute(*before)
        head, _ = _head(model, columns)
        ids: list[int] = []
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(rows, len(columns)):
            cursor.execute(
                f"{head} VALUES {', '.join([one] * len(chunk))}{tail}",
                [_adapt(value) for row in chunk for value in row],
            )
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
        return ids


def rows_insert_new(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], *, unique: str
) -> dict[Any, int]:
    """Insert the rows whose `unique` column value is not taken yet, skipping
    the others (ON CONFLICT DO NOTHING): {unique value: new primary key} of the
    rows inserted. Rows go in sorted by that value, so that two transactions
    inserting overlapping keys wait for each other in one order, never in a
    cycle; a row whose key another transaction holds uncommitted waits for it,
    and is skipped if that one commits. The key is then the lock: exactly once
    per key, without a separate lock or read."""
    if not rows:
        return {}
    key_at = list(columns).index(unique)
    rows = sorted(rows, key=lambda row: row[key_at])
    key_column = _quoted(model._meta.get_field(unique))
    pk_column = _quoted(model._meta.pk)
    tail = f" ON CONFLICT ({key_column}) DO NOTHING RETURNING {key_column}, {pk_column}"
    found: dict[Any, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql, params = unnest_insert(model, columns, rows)
            cursor.execute(sql + tail, params)
            return dict(cursor.fetchall())
        head, _ = _head(model, columns)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(rows, len(columns)):
            cursor.execute(
                f"{head} VALUES {', '.join([one] * len(chunk))}{tail}",
                [_adapt(value) for row in chunk for value in row],
            )
            found.update(cursor.fetchall())
    return found


def instances_insert(
    model: type[models.Model],
    columns: Sequence[str],
    objs: Sequence,
    *,
    before: tuple[str, list] | None = None,
) -> None:
    """Insert unsaved model instances through `rows_insert` (their `columns`
    only) and mark them saved with their new primary keys, as `bulk_create`
    would, without its per-field preparation."""
    rows = [tuple(getattr(obj, c) for c in columns) for obj in objs]
    ids = rows_insert(model, columns, rows, returning=True, before=before)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
