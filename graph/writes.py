"""Single-record writes (the API's write endpoints), each one managed write transaction.

They reuse the loader's upsert statements (``graph/cypher/upsert_*.cypher``), so a user written
through the API and one loaded from a file are the same nodes and relationships. Each function
first checks the ids the record refers to, in the same transaction, and raises
``MissingReference`` naming the field; the upserts MERGE on the unique ids, so writing the same
record twice leaves one node or relationship (views add up, on purpose: each view counts).

Records are plain dicts with the columns of the ETL input format (DESIGN.md), times as ISO 8601
strings with an offset. Validation of values (ranges, enumerations) is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph.queries import query


class MissingReference(LookupError):
    """A record names an id that does not exist; ``field`` says which of its fields."""

    def __init__(self, field: str, value: str, label: str) -> None:
        super().__init__(f"{field}: {label} {value!r} does not exist")
        self.field = field
        self.value = value
        self.label = label


@dataclass(frozen=True)
class WriteResult:
    created: bool
    #: For registrations: the status before this write (None: there was none) and the host.
    previous_status: str | None = None
    host_id: str | None = None


def _missing(
    tx: ManagedTransaction, refs: dict[str, tuple[str, str | None]]
) -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {"users": [], "events": [], "hosts": []}
    for label, value in refs.values():
        if value is not None:
            by_label[label].append(value)
    record = tx.run(query("missing_ids"), **by_label).single(strict=True)
    return {label: list(record[label]) for label in by_label}


def _check(tx: ManagedTransaction, refs: dict[str, tuple[str, str | None]]) -> None:
    """Raise ``MissingReference`` for the first field (in ``refs`` order) naming a missing id."""
    missing = _missing(tx, refs)
    names = {"users": "user", "events": "event", "hosts": "host"}
    for field, (label, value) in refs.items():
        if value is not None and value in missing[label]:
            raise MissingReference(field, value, names[label])


def _exists(tx: ManagedTransaction, label: str, value: str) -> bool:
    return value not in _missing(tx, {"id": (label, value)})[label]


def _upsert(tx: ManagedTransaction, statement: str, row: dict[str, Any]) -> None:
    tx.run(query(statement), rows=[row]).consume()


def _run(driver: Driver, database: str | None, work: Any) -> Any:
    with driver.session(database=database) as session:
        return session.execute_write(work)


def write_user(driver: Driver, row: dict[str, Any], database: str | None = None) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        created = not _exists(tx, "users", row["id"])
        if row.get("city"):
            _upsert(tx, "upsert_cities", {"name": row["city"], "country": None})
        _upsert(tx, "upsert_users", row)
        return WriteResult(created)

    return _run(driver, database, work)


def write_host(driver: Driver, row: dict[str, Any], database: str | None = None) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        _check(tx, {"user_id": ("users", row.get("user_id"))})
        created = not _exists(tx, "hosts", row["id"])
        _upsert(tx, "upsert_hosts", row)
        return WriteResult(created)

    return _run(driver, database, work)


def write_event(driver: Driver, row: dict[str, Any], database: str | None = None) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        _check(tx, {"host_id": ("hosts", row["host_id"])})
        created = not _exists(tx, "events", row["id"])
        if row.get("category"):
            _upsert(tx, "upsert_categories", {"name": row["category"]})
        if row.get("city"):
            _upsert(tx, "upsert_cities", {"name": row["city"], "country": row.get("country")})
        _upsert(tx, "upsert_events", row)
        return WriteResult(created, host_id=row["host_id"])

    return _run(driver, database, work)


def write_friendship(
    driver: Driver, row: dict[str, Any], database: str | None = None
) -> WriteResult:
    """One FRIENDS_WITH per pair, stored from the smaller id to the larger (as the loader does)."""
    a, b = sorted((row["user_id"], row["friend_id"]))

    def work(tx: ManagedTransaction) -> WriteResult:
        _check(tx, {"user_id": ("users", row["user_id"]), "friend_id": ("users", row["friend_id"])})
        existed = tx.run(query("friendship_exists"), user_id=a, friend_id=b).single(strict=True)[
            "exists"
        ]
        _upsert(tx, "upsert_friendships", {"user_id": a, "friend_id": b, "since": row.get("since")})
        return WriteResult(not existed)

    return _run(driver, database, work)


def write_registration(
    driver: Driver, row: dict[str, Any], database: str | None = None
) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        _check(tx, {"user_id": ("users", row["user_id"]), "event_id": ("events", row["event_id"])})
        before = tx.run(
            query("registration_status"), user_id=row["user_id"], event_id=row["event_id"]
        ).single(strict=True)
        _upsert(tx, "upsert_registrations", row)
        return WriteResult(before["status"] is None, before["status"], before["host_id"])

    return _run(driver, database, work)


def write_invitation(
    driver: Driver, row: dict[str, Any], database: str | None = None
) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        _check(
            tx,
            {
                "user_id": ("users", row["user_id"]),
                "event_id": ("events", row["event_id"]),
                "by_user_id": ("users", row.get("by_user_id")),
            },
        )
        _upsert(tx, "upsert_invitations", row)
        return WriteResult(True)

    return _run(driver, database, work)


def write_view(driver: Driver, row: dict[str, Any], database: str | None = None) -> WriteResult:
    def work(tx: ManagedTransaction) -> WriteResult:
        _check(tx, {"user_id": ("users", row["user_id"]), "event_id": ("events", row["event_id"])})
        tx.run(query("record_view"), **row).consume()
        return WriteResult(True)

    return _run(driver, database, work)
