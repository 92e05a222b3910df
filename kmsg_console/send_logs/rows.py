"""How the send path writes its rows: Core statements, with the ORM objects kept in step.

Every message costs a handful of writes that must be on disk at fixed points (the row and
its first attempt before a provider is called, the outcome right after). Written through the
ORM's unit of work, each of those commits spent more CPU sorting, diffing and cascading five
objects than the database spent storing them (``bench/otp_profile.py``: about a third of an
OTP start). Here each row is one Core ``INSERT`` or ``UPDATE`` by primary key, executed at
once on the session's connection (so in its transaction), and the ORM object is then made to
look as if it had been loaded from that row: persistent, with no pending history, and with
every column the statement wrote (defaults included) loaded. Callers keep reading
``log.status`` or ``log.attempts`` as before, and anything they change afterwards through
the ORM is flushed as usual.

The rules that keep this truthful:

- :func:`new_row` builds such a new object without the ORM's per-attribute bookkeeping (its
  column values go straight into the object's dict): nothing about a new object needs
  tracking before ``insert_rows`` writes it, and the object is then reset as if loaded;
- objects given to :func:`insert_rows` are new (transient); parents come before their
  children, whose foreign keys are copied from the parent objects they hold;
- column defaults are computed here, in Python, so the object knows the values written
  (only scalar and plain callable defaults exist in these tables; anything else is refused);
- :func:`update_row` writes the given values (and ``onupdate`` columns) and sets them as the
  object's committed state; the object must have no unflushed changes of its own;
- :func:`commit_kept` commits without reloading what this request wrote;
- writes a caller prepares early (an OTP verification, before the message exists) are queued
  with :func:`write_at_commit` and run by the session's next commit, right before it, so the
  database's write lock (SQLite's is one per database) is held for the statements and the
  commit only, not for the routing and rendering work in between. ``insert_rows`` and
  ``update_row`` with ``at_commit=True`` compute their rows at once and queue only the
  statements: the send path builds each durability point's rows first and then takes
  SQLite's writer queue for the commit alone. A rollback drops the queue;
- :func:`commit_kept` takes that queue for ``Session.commit()`` alone: the objects its
  queued inserts wrote are made persistent (and the rest of the session expired) after the
  commit, once the queue is free for the next writer.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import MANYTOONE, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from kmsg_console import sqlite_writers
from kmsg_console.extensions import db

T = TypeVar("T")

#: ``Session.info`` key: the objects this session wrote (see ``commit_kept``).
_WRITTEN = "kmsg_written"
#: ``Session.info`` key: writes to run right before the next commit (see ``write_at_commit``).
_QUEUED = "kmsg_queued_writes"
#: ``Session.info`` key: objects ``insert_rows`` attached since the last commit.
_UNCOMMITTED = "kmsg_uncommitted_inserts"
#: ``Session.info`` keys: set while ``commit_kept`` commits, so the objects written by the
#: commit's queued inserts are attached after it (outside SQLite's writer queue); the list.
_DEFER_ATTACH = "kmsg_defer_attach"
_TO_ATTACH = "kmsg_attach_after_commit"


@sa.event.listens_for(db.session, "pending_to_persistent")
def _remember_inserted(session: sa.orm.Session, instance: object) -> None:
    session.info.setdefault(_WRITTEN, weakref.WeakSet()).add(instance)


@sa.event.listens_for(db.session, "before_commit")
def _run_queued_writes(session: sa.orm.Session) -> None:
    while queued := session.info.pop(_QUEUED, None):
        for write in queued:
            write()


@sa.event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back(session: sa.orm.Session, previous: sa.orm.SessionTransaction) -> None:
    if previous.nested:
        return
    session.info.pop(_QUEUED, None)
    session.info.pop(_TO_ATTACH, None)
    # What insert_rows attached in the rolled-back transaction has no row any more; the ORM
    # expunges its own inserts the same way (a later row may even get the same id).
    for obj in session.info.pop(_UNCOMMITTED, ()):
        if obj in session:
            session.expunge(obj)


@sa.event.listens_for(db.session, "after_commit")
def _inserts_committed(session: sa.orm.Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


def write_at_commit(write: Callable[[], None]) -> Callable[[], None]:
    """Run ``write`` (statements of this module) in this transaction, right before its commit.

    Any commit runs it, ``commit_kept`` or a plain ``commit()``; a rollback discards it, and
    so does :func:`unqueue` with what this returns.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement still drops the queue
    session.info.setdefault(_QUEUED, []).append(write)
    return write


def unqueue(*writes: Callable[[], None] | None) -> None:
    """Take queued writes (as returned by ``write_at_commit``, ``insert_rows`` or
    ``update_row``) off the queue before the commit runs them."""
    queued = db.session().info.get(_QUEUED, [])
    for write in writes:
        if write in queued:
            queued.remove(write)


def _written(session: sa.orm.Session) -> weakref.WeakSet:
    return session.info.setdefault(_WRITTEN, weakref.WeakSet())


@contextmanager
def writing() -> Iterator[None]:
    """One durability point's statements and its commit, in SQLite's writer queue.

    On SQLite the block waits its turn behind the other writers of the send path and the
    throttle (``sqlite_writers``) instead of polling for the database's write lock; elsewhere
    it does nothing.
    """
    connection = db.session().connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    with sqlite_writers.hold(
        connection.engine, already_writing=sqlite_writers.session_has_written(connection)
    ):
        yield


def commit_kept(*, in_writer_queue: bool = False) -> None:
    """Commit, keeping loaded the rows this request wrote; expire the rest as usual.

    ``in_writer_queue``: a durability point of the send path, whose commit waits its turn in
    SQLite's writer queue (``writing``); only the commit itself is held there.

    The send path commits several times on purpose (the row, then each attempt, must be on
    disk before a provider is called). ``Session.commit()`` expires every object, so each of
    those commits was followed by SELECTs of the rows just written. Objects this session
    wrote (here or through the ORM) are after the commit exactly what is in memory (nothing
    on these rows is filled in by the database except primary keys, which are read back), so
    they stay loaded. Everything else in the session (rows loaded from the database, which
    another process may change) is expired as ``commit()`` always does. The commits
    themselves, and so every durability point, are unchanged.
    """
    session = db.session()
    changed = set(session.dirty)
    previous = session.expire_on_commit
    session.expire_on_commit = False
    session.info[_DEFER_ATTACH] = True
    try:
        with writing() if in_writer_queue else nullcontext():
            session.commit()
    except BaseException:
        session.info.pop(_TO_ATTACH, None)  # nothing of it was committed
        raise
    finally:
        session.expire_on_commit = previous
        session.info.pop(_DEFER_ATTACH, None)
    _attach(session, session.info.pop(_TO_ATTACH, ()), committed=True)
    written = session.info.get(_WRITTEN, ())
    for obj in list(session.identity_map.values()):
        if obj not in changed and obj not in written:
            session.expire(obj)


@dataclass(frozen=True)
class _Statement:
    """A statement compiled once for a dialect, with its parameters' bind processors."""

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


#: (dialect, table, kind, columns) → _Statement; a few dozen entries at most.
_statements: dict[tuple[str, str, str, str, tuple[str, ...]], _Statement] = {}


def _compiled(
    connection: sa.Connection, table: sa.Table, kind: str, columns: tuple[str, ...]
) -> _Statement:
    """The INSERT or UPDATE (by primary key, binds named ``pk_<column>``) of ``columns``.

    Executing a Core statement builds its cache key, looks the compiled form up and sets up
    bind processing again on every call; the send path writes the same few statements for
    every message, so they are compiled once here (with SQLAlchemy's compiler and its type
    processors: JSON, UTC timestamps, booleans behave exactly as through ``execute``) and run
    with ``exec_driver_sql``, which keeps SQLAlchemy's events, error wrapping and
    disconnect handling.
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
    else:
        core = (
            sa.update(table)
            .values(binds)
            .where(
                sa.and_(
                    *(
                        column == sa.bindparam(f"pk_{column.key}", type_=column.type)
                        for column in table.primary_key.columns
                    )
                )
            )
        )
    compiled = core.compile(dialect=dialect)
    names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    statement = _statements[key] = _Statement(str(compiled), names, compiled.positional, processors)
    return statement


def _default(column: sa.Column, which: str) -> tuple[bool, Any]:
    """``(True, value)`` for a column's Python-side ``default``/``onupdate``, else ``(False, None)``."""
    default = getattr(column, which)
    if default is None:
        return False, None
    if default.is_scalar:
        return True, default.arg
    if default.is_callable:
        return True, default.arg(None)  # SQLAlchemy wraps plain callables to take a context
    raise TypeError(f"{column} has a {which} this module does not compute: {default!r}")


@dataclass
class _Insert:
    """One new object's row, its values computed (``insert_rows``), waiting to be executed."""

    obj: object
    table: sa.Table
    mapper: sa.orm.Mapper
    values: dict[str, Any]
    #: (column, attribute, parent object, parent's attribute): foreign keys copied from the
    #: parent objects ``obj`` holds (``event.message = log``) when the row is written, since
    #: a parent written in the same batch has no primary key before that.
    links: list[tuple[str, str, object, str]]


@dataclass(frozen=True)
class _InsertPlan:
    """What ``_prepare_insert`` reads off a mapped class, worked out once per class."""

    table: sa.Table
    #: (relationship attribute, ((column, attribute, parent's attribute), ...)) per many-to-one
    parents: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]
    #: (column key, attribute, left to the database when unset (autoincrement key), column)
    columns: tuple[tuple[str, str, bool, sa.Column], ...]
    attributes: frozenset[str]  # the columns' attribute names (the rest are relationships)


_plans: dict[sa.orm.Mapper, _InsertPlan] = {}


def _plan(mapper: sa.orm.Mapper) -> _InsertPlan:
    plan = _plans.get(mapper)
    if plan is not None:
        return plan
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
    table = mapper.local_table
    columns = tuple(
        (
            column.key,
            mapper.get_property_by_column(column).key,
            bool(column.primary_key and column.autoincrement in (True, "auto")),
            column,
        )
        for column in table.columns
    )
    plan = _plans[mapper] = _InsertPlan(
        table, parents, columns, frozenset(key for _, key, _, _ in columns)
    )
    return plan


def new_row(cls: type[T], **values: Any) -> T:
    """A new (transient) ``cls`` object for :func:`insert_rows`, holding ``values``.

    ``cls(**values)`` runs the ORM's attribute machinery for every column: an event, a
    history entry and a "modified" flag each (about a hundred microseconds for a message row,
    half of it per start in objects nobody inspects). Column values go straight into the
    object's dict here, which is where an INSERT (ours or the ORM's) reads them from;
    relationships are set as usual, so collections are instrumented and backrefs kept.
    """
    mapper = sa.inspect(cls)
    columns = _plan(mapper).attributes
    obj = mapper.class_manager.new_instance()
    given = instance_dict(obj)
    for key, value in values.items():
        if key in columns:
            given[key] = value
        elif hasattr(cls, key):
            setattr(obj, key, value)
        else:
            raise TypeError(f"{key!r} is not an attribute of {cls.__name__}")
    return obj


def _prepare_insert(obj: object) -> _Insert:
    state = sa.inspect(obj)
    if not state.transient:
        raise ValueError(f"{obj!r} is not a new object")
    mapper = state.mapper
    plan = _plan(mapper)
    given = state.dict
    links = [
        (column_key, key, parent, parent_key)
        for relationship_key, pairs in plan.parents
        if (parent := given.get(relationship_key)) is not None
        for column_key, key, parent_key in pairs
    ]
    values: dict[str, Any] = {}
    for column_key, key, left_to_database, column in plan.columns:
        if key in given:
            value = given[key]
        elif left_to_database:
            continue
        else:
            _, value = _default(column, "default")  # None when the column has none
            # Straight into the dict: the object is new, its history is reset when attached.
            given[key] = value
        values[column_key] = value
    return _Insert(obj, plan.table, mapper, values, links)


def _execute_inserts(inserts: list[_Insert]) -> None:
    session = db.session()
    connection = session.connection()
    for insert in inserts:
        given = instance_dict(insert.obj)
        for column_key, key, parent, parent_key in insert.links:
            value = getattr(parent, parent_key)
            if value is None:
                raise ValueError(
                    f"{parent!r} has no primary key yet: insert it before its children"
                )
            given[key] = value  # the object is still new: no history to keep
            insert.values[column_key] = value
        statement = _compiled(connection, insert.table, "insert", tuple(insert.values))
        result = connection.exec_driver_sql(statement.sql, statement.params(insert.values))
        primary_key = (result.lastrowid,) if connection.dialect.name == "sqlite" else result.one()
        for column, value in zip(insert.table.primary_key.columns, primary_key, strict=True):
            given[insert.mapper.get_property_by_column(column).key] = value
    if session.info.get(_DEFER_ATTACH):
        session.info.setdefault(_TO_ATTACH, []).extend(inserts)  # by commit_kept, after the commit
    else:
        _attach(session, inserts, committed=False)


def _attach(session: sa.orm.Session, inserts: Iterable[_Insert], *, committed: bool) -> None:
    """Make the objects of written rows persistent in ``session``, as if just loaded."""
    written = _written(session)
    uncommitted = None if committed else session.info.setdefault(_UNCOMMITTED, [])
    for insert in inserts:
        # History is reset as if the row had just been loaded; every column is in memory.
        make_transient_to_detached(insert.obj)
    for insert in inserts:
        # Detached with an identity: persistent, no INSERT at the next flush. Adding a parent
        # cascades to the children it holds, so most of a batch is in the session already
        # (and each add walks every relationship of the object again).
        if insert.obj not in session:
            session.add(insert.obj)
        written.add(insert.obj)
        if uncommitted is not None:
            uncommitted.append(insert.obj)


def insert_rows(*objects: object, at_commit: bool = False) -> Callable[[], None] | None:
    """INSERT each new object's row, in order, and make the objects loaded and persistent.

    The rows' values (defaults included) are computed now. ``at_commit``: the statements run
    right before the next commit (``write_at_commit``), and the objects become persistent
    then, so on SQLite the database's write lock is held for the statements and the commit
    only, not for building them; without it they run at once. Returns the queued write
    (for ``unqueue``) when ``at_commit``.
    """
    inserts = [_prepare_insert(obj) for obj in objects]
    if at_commit:
        return write_at_commit(lambda: _execute_inserts(inserts))
    _execute_inserts(inserts)
    return None


@dataclass(frozen=True)
class _UpdatePlan:
    """What ``update_row`` reads off a mapped class, worked out once per class."""

    column_of: Mapping[str, str]  # attribute → column key
    attribute_of: Mapping[str, str]  # column key → attribute
    onupdate: tuple[sa.Column, ...]
    primary_key: tuple[tuple[str, str], ...]  # (column key, attribute)


_update_plans: dict[sa.orm.Mapper, _UpdatePlan] = {}


def _update_plan(mapper: sa.orm.Mapper) -> _UpdatePlan:
    plan = _update_plans.get(mapper)
    if plan is None:
        table = mapper.local_table
        attribute_of = {
            column.key: mapper.get_property_by_column(column).key for column in table.columns
        }
        plan = _update_plans[mapper] = _UpdatePlan(
            column_of={attribute: column for column, attribute in attribute_of.items()},
            attribute_of=attribute_of,
            onupdate=tuple(column for column in table.columns if column.onupdate is not None),
            primary_key=tuple(
                (column.key, attribute_of[column.key]) for column in table.primary_key.columns
            ),
        )
    return plan


def update_row(
    obj: object, values: Mapping[str, Any], *, at_commit: bool = False
) -> Callable[[], None] | None:
    """UPDATE ``obj``'s row with ``values`` (attribute names) and set them on ``obj`` now.

    ``at_commit``: the statement runs right before the next commit (``write_at_commit``);
    ``obj`` shows the new values at once. Returns the queued write when ``at_commit``.
    """
    session = db.session()
    state = sa.inspect(obj)
    if not state.persistent or state.modified:
        raise ValueError(f"{obj!r} must be persistent without unflushed changes")
    mapper = state.mapper
    table = mapper.local_table
    plan = _update_plan(mapper)
    columns = {plan.column_of[key]: value for key, value in values.items()}
    for column in plan.onupdate:
        if column.key not in columns:
            columns[column.key] = _default(column, "onupdate")[1]
    params = {
        **columns,
        **{f"pk_{column_key}": getattr(obj, key) for column_key, key in plan.primary_key},
    }

    def write() -> None:
        connection = session.connection()
        statement = _compiled(connection, table, "update", tuple(columns))
        connection.exec_driver_sql(statement.sql, statement.params(params))

    queued = write_at_commit(write) if at_commit else None
    if queued is None:
        write()
    for column_key, value in columns.items():
        set_committed_value(obj, plan.attribute_of[column_key], value)
    _written(session).add(obj)
    return queued


def add_to_loaded(parent: object, collection: str, children: Iterable[object]) -> None:
    """Show ``children`` (already written) in ``parent.<collection>`` if it is loaded.

    An unloaded collection is left alone: when it is read, it loads from the database and
    finds them there.
    """
    state = sa.inspect(parent)
    if collection in state.dict:
        set_committed_value(parent, collection, [*state.dict[collection], *children])
