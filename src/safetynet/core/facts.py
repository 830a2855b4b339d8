"""Bitemporal, append-only clinical facts.

Every clinical fact knows when it happened (``occurred_at``) and when the service learnt of it (``recorded_at``).
A correction is a new *version* of the same fact (same ``fact_id``), and a mistake is a new version marked
``entered_in_error`` with a reason. Rows are never updated or deleted. That is enforced three times over:

1. services only ever add rows (they have no update or delete paths);
2. the ORM refuses to flush a change or deletion of a fact (``before_flush`` guard below);
3. the database refuses ``UPDATE`` and ``DELETE`` on fact tables (triggers, for SQLite and PostgreSQL), so even
   hand-written SQL through our connections cannot rewrite history.

"As known at T" is then exact: for each fact, the highest version recorded at or before T.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, declared_attr, mapped_column

from safetynet.core.db import Base, UTCDateTime
from safetynet.core.errors import AppendOnlyViolation


class AppendOnly:
    """Marker for tables whose rows are never updated or deleted (clinical facts, audit)."""

    __append_only__ = True


class ClinicalFact(AppendOnly, Base):
    """Columns every clinical fact shares. Subclasses add their own clinical fields."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Looked up through the unique (fact_id, version) index below; a second index of the same key only cost writes.
    fact_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    entered_in_error: Mapped[bool] = mapped_column(Boolean, default=False)
    amendment_reason: Mapped[str | None] = mapped_column(Text, default=None)

    @declared_attr
    def patient_id(self) -> Mapped[str]:
        # Indexed with occurred_at (``__table_args__``): a person's facts, or those since a moment, in one range.
        return mapped_column(String(36), ForeignKey("patients.id"))

    @declared_attr
    def recorded_by_id(self) -> Mapped[str | None]:
        return mapped_column(String(36), ForeignKey("staff.id"), default=None)

    @declared_attr
    def team_id(self) -> Mapped[str | None]:
        """The team the fact belongs to, where there is one (the team that saw, prescribed, was told)."""
        return mapped_column(String(36), ForeignKey("teams.id"), default=None, index=True)

    note: Mapped[str | None] = mapped_column(Text, default=None)

    # Columns a kind adds after (patient_id, occurred_at) in its person index, so that a read needing only those is
    # answered from the index alone (a covering index), without visiting the table's rows.
    __patient_index_includes__: tuple[str, ...] = ()

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 (SQLAlchemy calls it on the class)
        person = ("patient_id", "occurred_at", *cls.__patient_index_includes__)
        return (
            UniqueConstraint("fact_id", "version"),
            Index(f"ix_{cls.__tablename__}_patient_occurred", *person),
            {"info": {"append_only": True}},
        )

    def clinical_fields(self) -> dict[str, Any]:
        """This version's own clinical fields (not the bitemporal bookkeeping), for copying and showing."""
        shared = set(FACT_COLUMNS)
        return {c.key: getattr(self, c.key) for c in self.__mapper__.column_attrs if c.key not in shared}


FACT_COLUMNS = (
    "id",
    "fact_id",
    "version",
    "patient_id",
    "occurred_at",
    "recorded_at",
    "recorded_by_id",
    "entered_in_error",
    "amendment_reason",
)

F = TypeVar("F", bound=ClinicalFact)


def known_at(model: type[F], at: datetime | None = None) -> Select[tuple[F]]:
    """Every fact of ``model`` as known at ``at`` (now if None): its latest version recorded by then.

    Entered-in-error versions are included: risk history shows them struck through, with their reason.
    Callers filter with ``model.entered_in_error.is_(False)`` where a mistake must not count.
    """
    newer = _newer(model)
    later_version = exists().where(newer.fact_id == model.fact_id, newer.version > model.version)
    if at is None:
        return select(model).where(~later_version)
    return select(model).where(model.recorded_at <= at, ~later_version.where(newer.recorded_at <= at))


@cache
def _newer(model: type[F]) -> Any:
    """One alias per model, built once: building an alias per query cost more than running the query."""
    return aliased(model)


def history(model: type[F], fact_id: str) -> Select[tuple[F]]:
    """Every version of one fact, oldest first: the audit trail of its corrections."""
    return select(model).where(model.fact_id == fact_id).order_by(model.version)


def append_only_tables(tables: dict[str, Table]) -> list[str]:
    return sorted(name for name, table in tables.items() if table.info.get("append_only"))


def install_append_only(connection: Connection, tables: list[str]) -> None:
    """Make the database refuse UPDATE and DELETE on these tables (used by migrations and test set-up)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(POSTGRES_REFUSE_FUNCTION)
    for table in tables:
        for statement in append_only_ddl(table, dialect):
            connection.exec_driver_sql(statement)


def remove_append_only(connection: Connection, tables: list[str], *, drop_function: bool = False) -> None:
    """Undo ``install_append_only`` (migrations going down). Only the first migration drops the shared function."""
    dialect = connection.dialect.name
    for table in tables:
        for statement in drop_append_only_ddl(table, dialect):
            connection.exec_driver_sql(statement)
    if dialect == "postgresql" and drop_function:
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS safetynet_refuse_change()")


def append_only_ddl(table: str, dialect: str) -> list[str]:
    """Statements that make the database itself refuse UPDATE and DELETE on ``table``."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only: {table} rows cannot be {done}'); END"
            for verb, done in (("UPDATE", "updated"), ("DELETE", "deleted"))
        ]
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION safetynet_refuse_change()"
        ]
    raise ValueError(f"no append-only triggers for dialect {dialect}")


def drop_append_only_ddl(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


POSTGRES_REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION safetynet_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'append-only: %% rows cannot be %%', TG_TABLE_NAME,
    CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'updated' END
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""


@event.listens_for(Session, "before_flush")
def _refuse_in_place_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AppendOnly):
            raise AppendOnlyViolation(f"{type(obj).__name__} cannot be deleted; mark it entered in error with a reason")
    for obj in session.dirty:
        if isinstance(obj, AppendOnly) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation(f"{type(obj).__name__} cannot be changed in place; record a new version instead")
