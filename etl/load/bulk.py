"""The initial-load path: clean rows -> import files for ``neo4j-admin database import full``.

The tables here must describe exactly the graph that the MERGE path writes
(``graph/cypher/upsert_*.cypher``): same labels, keys, property names and types (``long`` for
integers, ``double`` for floats, ``datetime`` from the same ISO strings, WGS-84 points, string
arrays for tags). ``tests/test_load.py`` compares the two graphs.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from etl.load import derived
from etl.validate import ValidatedDataset
from graph.bulk_import import ImportTable

POINT = "location:point{crs:WGS-84}"


def import_tables(dataset: ValidatedDataset) -> list[ImportTable]:
    """Every node and relationship table of the dataset's clean rows, in the importer's format."""
    users = dataset.table("users")
    hosts = dataset.table("hosts")
    events = dataset.table("events")
    cities = pa.Table.from_pandas(derived.cities(dataset), preserve_index=False)
    categories = pa.Table.from_pandas(derived.categories(dataset), preserve_index=False)
    tables = [
        _nodes(
            "User",
            {
                "id:ID(User)": users["id"],
                "name": users["name"],
                "birth_year:long": users["birth_year"],
                "gender": users["gender"],
                "locale": users["locale"],
                "city": users["city"],
                POINT: _points(users),
                "joined_at:datetime": users["joined_at"],
            },
        ),
        _nodes("Host", {"id:ID(Host)": hosts["id"], "name": hosts["name"], "kind": hosts["kind"]}),
        _nodes(
            "Event",
            {
                "id:ID(Event)": events["id"],
                "title": events["title"],
                "description": events["description"],
                "category": events["category"],
                "tags:string[]": events["tags"],
                "start_time:datetime": events["start_time"],
                "end_time:datetime": events["end_time"],
                "price:double": events["price"],
                "currency": events["currency"],
                "capacity:long": events["capacity"],
                POINT: _points(events),
                "city": events["city"],
                "country": events["country"],
                "created_at:datetime": events["created_at"],
                "status": pa.array(["scheduled"] * events.num_rows, pa.string()),
            },
        ),
        _nodes("Category", {"name:ID(Category)": categories["name"]}),
        _nodes("City", {"name:ID(City)": cities["name"], "country": cities["country"]}),
        _rels("LIVES_IN", "User", users["id"], "City", users["city"]),
        _rels("RUNS", "User", hosts["user_id"], "Host", hosts["id"]),
        _rels("HOSTS", "Host", events["host_id"], "Event", events["id"]),
        _rels("IN_CATEGORY", "Event", events["id"], "Category", events["category"]),
        _rels("IN_CITY", "Event", events["id"], "City", events["city"]),
    ]
    friends = dataset.table("friendships")
    tables.append(
        _rels(
            "FRIENDS_WITH",
            "User",
            friends["user_id"],
            "User",
            friends["friend_id"],
            {"since:datetime": friends["since"]},
        )
    )
    follows = dataset.table("follows")
    tables.append(
        _rels(
            "FOLLOWS",
            "User",
            follows["user_id"],
            "Host",
            follows["host_id"],
            {"at:datetime": follows["at"]},
        )
    )
    for file, rel_type, props in (
        ("registrations", "REGISTERED", {"at:datetime": "at", "status": "status"}),
        ("invitations", "INVITED_TO", {"at:datetime": "at", "by": "by_user_id"}),
        ("views", "VIEWED", {"at:datetime": "at", "count:long": "count"}),
        ("ratings", "RATED", {"stars:long": "stars", "at:datetime": "at"}),
    ):
        table = dataset.table(file)
        tables.append(
            _rels(
                rel_type,
                "User",
                table["user_id"],
                "Event",
                table["event_id"],
                {header: table[column] for header, column in props.items()},
            )
        )
    # Node files even when empty: an import of no rows still replaces the store (with an empty
    # one), as a killed import's leftovers must be.
    return [t for t in tables if t.kind == "nodes" or t.table.num_rows]


def _nodes(label: str, columns: dict[str, pa.ChunkedArray | pa.Array]) -> ImportTable:
    return ImportTable("nodes", label, pa.table(columns))


def _rels(
    rel_type: str,
    start_label: str,
    start: pa.ChunkedArray,
    end_label: str,
    end: pa.ChunkedArray,
    props: dict[str, pa.ChunkedArray] | None = None,
) -> ImportTable:
    table = pa.table(
        {f":START_ID({start_label})": start, f":END_ID({end_label})": end, **(props or {})}
    )
    table = table.filter(pc.and_(pc.is_valid(start), pc.is_valid(end)))
    return ImportTable("relationships", rel_type, table)


def _points(table: pa.Table) -> pa.ChunkedArray:
    # Arrow writes the shortest text that reads back as the same double, so the importer stores
    # the same coordinates the driver sends on the MERGE path.
    return pc.binary_join_element_wise(
        "{latitude:", pc.cast(table["lat"], pa.string()),
        ",longitude:", pc.cast(table["lon"], pa.string()), "}", "",
    )  # fmt: skip
