"""The send engine's durability points: the rows that must be on disk at fixed moments.

A message is written, with its first attempt, and committed before any provider is called;
each attempt's outcome is committed right after its call (together with the next attempt on
failover, or with the final status). Each of those moments is one ``with durability_point()
as point:`` block in the engine: every row it writes is named in the block
(``point.insert``, ``point.update``), and the block commits when it ends.

Why Core statements instead of the ORM's unit of work: every message costs a handful of
writes at these points, and through the unit of work each commit spent more CPU sorting,
diffing and cascading the objects than the database spent storing them (``bench/README``).
Here each row is one ``INSERT`` or ``UPDATE`` by primary key, compiled once per table and
column set and executed at once in the session's transaction. The ORM objects (built with
their constructors, like any other row) are then made to look as if they had been loaded
from those rows, so callers keep reading ``log.status`` or ``log.attempts``, and the commit
does not expire them: nothing on these rows is filled in by the database except primary
keys, which are read back, so what is in memory is what was written. Everything else in the
session is expired by the commit as usual.

On SQLite the block waits its turn in the writer queue (``sqlite_writers``) for its
statements and its commit only; the rows are built before the block.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import MANYTOONE, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from kmsg_console import sqlite_writers
from kmsg_console.extensions import db


@dataclass(frozen=True)
class RowUpdate:
    """Columns to change on a row that is already loaded (attribute names → values)."""

    row: object
    values: Mapping[str, Any]


class DurabilityPoint:
    """The writes of one ``durability_point()`` block, executed as they are asked for."""

    def __init__(self, session: sa.orm.Session) -> None:
        self.session = session
        self.connection = session.connection()
        #: Objects written here: kept loaded by the commit, forgotten by a rollback.
        self.written: list[object] = []
        self._attached: list[object] = []

    def insert(self, *objects: object) -> None:
        """INSERT each new object's row now, in order, and make the object loaded.

        Parents come before their children: a child's foreign key is copied from the parent
        object it holds (``attempt.message = log``) once the parent's row has its id.
        """
        for obj in objects:
            self._insert(obj)
        self._attach(objects)

    def update(self, row: object, values: Mapping[str, Any]) -> None:
        """UPDATE ``row``'s table by primary key with ``values`` now, and show them on ``row``."""
        plan, columns = _update_columns(row, values)
        keys = {f"pk_{column}": getattr(row, key) for column, key in plan.primary_key}
        statement = _compiled(self.connection, plan.table, "update", tuple(columns))
        self.connection.exec_driver_sql(statement.sql, statement.params({**columns, **keys}))
        for column, value in columns.items():
            set_committed_value(row, plan.attribute_of[column], value)
        self.written.append(row)

    def insert_many(self, *tables: list[object]) -> None:
        """INSERT new objects, each list a class's rows in one statement (a batch's messages,
        then their events...), in order, and make them all loaded, as :meth:`insert` does
        one by one. A list's objects may have parents in an earlier list."""
        for objects in tables:
            self._insert_rows(objects)
        self._attach([obj for objects in tables for obj in objects])

    def _insert_rows(self, objects: list[object]) -> None:
        if not objects:
            return
        mapper = sa.inspect(objects[0]).mapper
        if any(sa.inspect(obj).mapper is not mapper for obj in objects):
            raise ValueError("one list holds objects of one class")
        plan = _plan(mapper)
        if self.connection.dialect.name == "postgresql" and len(plan.primary_key) == 1:
            # The ids are drawn from the table's sequence first and the rows go in as one
            # executemany of the single-row INSERT (psycopg pipelines it: one round trip).
            # A multi-row VALUES ... RETURNING of a batch is a new statement text of
            # thousands of parameters that psycopg parses afresh every time: it cost a
            # batch's messages more CPU than everything else the database did for them.
            column, key = plan.primary_key[0]
            ids = self.connection.execute(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
                    "FROM generate_series(1, :count)"
                ),
                {"table": plan.table.name, "column": column, "count": len(objects)},
            ).scalars()
            for obj, value in zip(objects, ids, strict=True):
                sa.inspect(obj).dict[key] = value
            rows = [self._values(obj, plan) for obj in objects]
            statement = _compiled(self.connection, plan.table, "insert_many", tuple(rows[0]))
            self.connection.exec_driver_sql(statement.sql, [statement.params(r) for r in rows])
            return
        rows = [self._values(obj, plan) for obj in objects]
        if len({tuple(row) for row in rows}) > 1:
            raise ValueError("one list holds objects that set the same columns")
        statement = sa.insert(plan.table).returning(
            *plan.table.primary_key.columns, sort_by_parameter_order=True
        )
        # SQLite: one multi-row INSERT, the ids back in the objects' order.
        result = self.connection.execute(statement, rows)
        for obj, ids in zip(objects, result.all(), strict=True):
            given = sa.inspect(obj).dict
            for (_column, key), value in zip(plan.primary_key, ids, strict=True):
                given[key] = value

    def update_many(self, changes: list[tuple[object, Mapping[str, Any]]]) -> None:
        """UPDATE many rows of one class by primary key, each with its own values (rows
        changing the same columns go in one executemany), and show the values on them."""
        groups: dict[tuple[sa.orm.Mapper, tuple[str, ...]], list[tuple[object, dict]]] = {}
        for row, values in changes:
            plan, columns = _update_columns(row, values)
            mapper = sa.inspect(row).mapper
            groups.setdefault((mapper, tuple(sorted(columns))), []).append((row, columns))
        for (mapper, names), rows in groups.items():
            plan = _plan(mapper)
            statement = _compiled(self.connection, plan.table, "update", names)
            params = [
                statement.params(
                    {**columns, **{f"pk_{c}": getattr(row, key) for c, key in plan.primary_key}}
                )
                for row, columns in rows
            ]
            self.connection.exec_driver_sql(statement.sql, params)
            for row, columns in rows:
                for column, value in columns.items():
                    set_committed_value(row, plan.attribute_of[column], value)
                self.written.append(row)

    def apply(self, *writes: object) -> None:
        """Run writes handed over by a caller, in order: new objects and ``RowUpdate``s."""
        for write in writes:
            if isinstance(write, RowUpdate):
                self.update(write.row, write.values)
            else:
                self._insert(write)
        self._attach([write for write in writes if not isinstance(write, RowUpdate)])

    def _values(self, obj: object, plan: _Plan) -> dict[str, Any]:
        """A new object's column values, its parents' ids and the defaults filled in on it."""
        state = sa.inspect(obj)
        if not state.transient:
            raise ValueError(f"{obj!r} is not a new object")
        given = state.dict
        for relationship, pairs in plan.parents:
            parent = given.get(relationship)
            for _column, key, parent_key in pairs if parent is not None else ():
                value = getattr(parent, parent_key)
                if value is None:
                    raise ValueError(f"{parent!r} has no id yet: insert it before its children")
                given[key] = value  # a new object: no history to keep
        values: dict[str, Any] = {}
        for column_key, key, left_to_database, column in plan.columns:
            if key not in given:
                if left_to_database:
                    continue
                # The default is computed here so that the object shows what was written.
                given[key] = _default(column, "default")
            values[column_key] = given[key]
        return values

    def _insert(self, obj: object) -> None:
        state = sa.inspect(obj)
        plan = _plan(state.mapper)
        values = self._values(obj, plan)
        given = state.dict
        statement = _compiled(self.connection, plan.table, "insert", tuple(values))
        result = self.connection.exec_driver_sql(statement.sql, statement.params(values))
        ids = (result.lastrowid,) if self.connection.dialect.name == "sqlite" else result.one()
        for (_column, key), value in zip(plan.primary_key, ids, strict=True):
            given[key] = value

    def _attach(self, objects: list[object] | tuple[object, ...]) -> None:
        """Make the objects of rows just inserted persistent in the session, as if loaded.

        All of them get their identity first: adding a parent cascades to the children it
        holds, which must not become pending (the ORM would insert them a second time).
        """
        for obj in objects:
            make_transient_to_detached(obj)
        for obj in objects:
            if obj not in self.session:
                self.session.add(obj)
        self._attached.extend(objects)
        self.written.extend(objects)

    def forget(self) -> None:
        """After a rollback: the objects inserted here have no row any more."""
        for obj in self._attached:
            if obj in self.session:
                self.session.expunge(obj)


def _update_columns(row: object, values: Mapping[str, Any]) -> tuple[_Plan, dict[str, Any]]:
    """The columns an UPDATE of ``row`` (loaded, unchanged) sets: ``values`` by column, and
    the columns' ``onupdate`` defaults."""
    state = sa.inspect(row)
    if not state.persistent or state.modified:
        raise ValueError(f"{row!r} must be loaded, without unflushed changes")
    plan = _plan(state.mapper)
    columns = {plan.column_of[key]: value for key, value in values.items()}
    for column in plan.onupdate:
        columns.setdefault(column.key, _default(column, "onupdate"))
    return plan, columns


@contextmanager
def durability_point() -> Iterator[DurabilityPoint]:
    """One durability point: the block's writes, then a commit that keeps them loaded.

    Whatever the caller changed through the ORM in this session is flushed by the same
    commit. On any error the transaction is rolled back (the objects inserted in the block
    are forgotten) and the error goes on.
    """
    session = db.session()
    connection = session.connection()
    queue = sqlite_writers.hold(
        connection.engine, already_writing=sqlite_writers.session_has_written(connection)
    )
    point = None
    try:
        with queue:
            point = DurabilityPoint(session)
            yield point
            _commit_keeping(session, point.written)
    except BaseException:
        session.rollback()
        if point is not None:
            point.forget()
        raise


#: ``Session.info`` key: the objects this session's durability points wrote (a request's
#: message, attempts, verification...): what is in memory is their row, at every later
#: commit of the session too.
_WRITTEN = "kmsg_written_rows"


def _commit_keeping(session: sa.orm.Session, written: list[object]) -> None:
    """Commit; rows written by durability points and what the ORM flushed stay loaded, the
    rest expires as usual.

    ``Session.commit()`` expires every object, so each of the send path's commits was
    followed by SELECTs of the rows it had just written (the second point's commit, of the
    rows the first one wrote).
    """
    kept = session.info.setdefault(_WRITTEN, weakref.WeakSet())
    kept.update(written)
    keep = {*kept, *session.new, *session.dirty}
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for obj in list(session.identity_map.values()):
        if obj not in keep:
            session.expire(obj)


def add_to_loaded(parent: object, collection: str, children: list[object]) -> None:
    """Show ``children`` (just written) in ``parent.<collection>`` if that is loaded.

    An unloaded collection is left alone: when it is read, it loads them from the database.
    """
    state = sa.inspect(parent)
    if collection in state.dict:
        set_committed_value(parent, collection, [*state.dict[collection], *children])


# -- statements, compiled once ---------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    """A statement compiled for one dialect, with its parameters' bind processors."""

    sql: str
    names: tuple[str, ...]  # bind names, in the order a positional paramstyle wants them
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        bound = [
            value if process is None else process(value)
            for value, process in zip(
                (values[name] for name in self.names), self.processors, strict=True
            )
        ]
        return tuple(bound) if self.positional else dict(zip(self.names, bound, strict=True))


#: (dialect, driver, table, kind, columns) → _Statement; a few dozen entries at most.
_statements: dict[tuple[str, str, str, str, tuple[str, ...]], _Statement] = {}


def _compiled(
    connection: sa.Connection, table: sa.Table, kind: str, columns: tuple[str, ...]
) -> _Statement:
    """The INSERT (``insert_many``: with the primary key given), or the UPDATE by primary key
    (binds ``pk_<column>``), of ``columns``.

    Executing a Core statement builds its cache key, looks the compiled form up and sets up
    bind processing again on every call; the send path writes the same few statements for
    every message, so they are compiled once (with SQLAlchemy's compiler and its type
    processors: JSON, UTC timestamps and booleans behave exactly as through ``execute``) and
    run with ``exec_driver_sql``, which keeps SQLAlchemy's events and error handling.
    """
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, table.name, kind, columns)
    statement = _statements.get(key)
    if statement is not None:
        return statement
    binds = {name: sa.bindparam(name, type_=table.c[name].type) for name in columns}
    if kind == "insert":
        core = sa.insert(table).values(binds)
        if dialect.name != "sqlite":  # SQLite reports the new id as lastrowid
            core = core.returning(*table.primary_key.columns)
    elif kind == "insert_many":  # the ids are among the columns: nothing to read back
        core = sa.insert(table).values(binds)
    else:
        core = (
            sa.update(table)
            .values(binds)
            .where(
                *(
                    column == sa.bindparam(f"pk_{column.key}", type_=column.type)
                    for column in table.primary_key.columns
                )
            )
        )
    compiled = core.compile(dialect=dialect)
    names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    statement = _Statement(str(compiled), names, compiled.positional, processors)
    _statements[key] = statement
    return statement


def _default(column: sa.Column, which: str) -> Any:
    """The value of a column's Python-side ``default`` or ``onupdate`` (None without one)."""
    default = getattr(column, which)
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps plain callables to take a context
    raise TypeError(f"{column} has a {which} this module does not compute: {default!r}")


@dataclass(frozen=True)
class _Plan:
    """What the writes need to know of a mapped class, read off it once."""

    table: sa.Table
    #: (relationship, ((column, attribute, parent's attribute), ...)) per many-to-one
    parents: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]
    #: (column key, attribute, left to the database when unset (autoincrement key), column)
    columns: tuple[tuple[str, str, bool, sa.Column], ...]
    primary_key: tuple[tuple[str, str], ...]  # (column key, attribute)
    column_of: Mapping[str, str]  # attribute → column key
    attribute_of: Mapping[str, str]  # column key → attribute
    onupdate: tuple[sa.Column, ...]


_plans: dict[sa.orm.Mapper, _Plan] = {}


def _plan(mapper: sa.orm.Mapper) -> _Plan:
    plan = _plans.get(mapper)
    if plan is not None:
        return plan
    table = mapper.local_table
    attribute_of = {
        column.key: mapper.get_property_by_column(column).key for column in table.columns
    }
    parents = tuple(
        (
            relationship.key,
            tuple(
                (
                    local.key,
                    mapper.get_property_by_column(local).key,
                    relationship.mapper.get_property_by_column(remote).key,
                )
                for local, remote in relationship.local_remote_pairs
            ),
        )
        for relationship in mapper.relationships
        if relationship.direction is MANYTOONE
    )
    columns = tuple(
        (
            column.key,
            attribute_of[column.key],
            bool(column.primary_key and column.autoincrement in (True, "auto")),
            column,
        )
        for column in table.columns
    )
    plan = _Plan(
        table=table,
        parents=parents,
        columns=columns,
        primary_key=tuple(
            (column.key, attribute_of[column.key]) for column in table.primary_key.columns
        ),
        column_of={attribute: column for column, attribute in attribute_of.items()},
        attribute_of=attribute_of,
        onupdate=tuple(column for column in table.columns if column.onupdate is not None),
    )
    _plans[mapper] = plan
    return plan
