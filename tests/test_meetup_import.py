"""The Meetup importer: exact output on a hand-made city, and the real Chicago crawl end to end.

The Chicago checks recompute every expected count from the raw files with pandas, independently
of the importer's own code, so a mapping bug cannot hide behind a self-consistent count.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver

from etl.importers.meetup import RSVP_COLUMNS, convert_meetup, meetup_files
from etl.load import load_dataset

# --- a tiny hand-made city ------------------------------------------------------------------------

# (memberId, memberLat, memberLon, eventId, eventTime, groupId, venueId, venueLat, venueLon,
#  rsvpTime, rsvpResponse); the other columns get filler values.
_TINY_RSVPS = [
    ("1", "41.90", "-87.60", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1459733856000", "yes"),  # noqa: E501
    ("2", "41.80", "-87.65", "abc1x", "1461607200000", "10", "1001", "41.8", "-87.6", "1460000000000", "no"),  # noqa: E501
    ("3", "41.70", "-87.70", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1450000000000", "waitlist"),  # noqa: E501
    ("1", "41.90", "-87.60", "abc1x", "1461607200000", "10", "1001", "41.8", "-87.6", "1460000000001", "watching"),  # noqa: E501
    # member 2 answers event 100 twice: the later answer (declined) is listed first and wins
    ("2", "41.80", "-87.65", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1461000000000", "no"),  # noqa: E501
    ("2", "41.80", "-87.65", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1459733857000", "yes"),  # noqa: E501
    # no venue, and group 20 has no venue anywhere: written with empty lat/lon for the loader
    ("3", "41.70", "-87.70", "300", "1462000000000", "20", "2000", "0.0", "0.0", "1460000000000", "yes"),  # noqa: E501
    # no venue: the event gets group 10's most common venue (1000 and 1001 tie: the smaller id)
    ("1", "41.90", "-87.60", "400", "1462000000000", "10", "3000", "0.0", "0.0", "1461000000000", "yes"),  # noqa: E501
    # a member without home coordinates: written through, the loader rejects the user
    ("4", "", "", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1460000000000", "yes"),
    # an answer the mapping does not know: passed through for the loader to reject
    ("3", "41.70", "-87.70", "abc1x", "1461607200000", "10", "1001", "41.8", "-87.6", "1460000000000", "maybe?"),  # noqa: E501
    # no member id: the importer cannot map it
    ("", "41.70", "-87.70", "100", "1461520800000", "10", "1000", "41.9", "-87.7", "1460000000000", "yes"),  # noqa: E501
]  # fmt: skip
_BAD_LINE = "5,41.7,-87.7,100,1461520800000"


def _tiny_city(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "rsvp_testville.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(RSVP_COLUMNS)
        for i, (m, mla, mlo, e, et, g, v, vla, vlo, rt, resp) in enumerate(_TINY_RSVPS):
            rating = "0" if resp == "no" else "1"
            writer.writerow(
                [m, mla, mlo, e, et, "7", g, v, vla, vlo, rt, resp, rating, "SUNDAY", "DAY"]
            )
            if i == 3:
                fh.write(_BAD_LINE + "\n")  # line 6 of the file
    (folder / "user_group_testville.csv").write_text(
        "userId,groupId\n1,10\n1,99\n77,10\n1,10\n2,20\n", encoding="utf-8"
    )
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _blank(columns: str, **values: str) -> dict[str, str]:
    return {c: values.get(c, "") for c in columns.split(",")}


USER_COLS = "id,name,birth_year,gender,locale,city,lat,lon,joined_at"
EVENT_COLS = (
    "id,host_id,title,description,category,tags,start_time,end_time,price,currency,capacity,"
    "lat,lon,city,country,created_at"
)


def test_tiny_city_exact_output(tmp_path: Path) -> None:
    src = _tiny_city(tmp_path / "src")
    out = tmp_path / "dataset"
    result = convert_meetup(src, "testville", out)

    assert _rows(out / "users.csv") == [
        _blank(USER_COLS, id="1", city="Testville", lat="41.90", lon="-87.60"),
        _blank(USER_COLS, id="2", city="Testville", lat="41.80", lon="-87.65"),
        _blank(USER_COLS, id="3", city="Testville", lat="41.70", lon="-87.70"),
        _blank(USER_COLS, id="4", city="Testville"),
    ]
    assert _rows(out / "hosts.csv") == [
        {"id": "10", "name": "", "kind": "organisation", "user_id": ""},
        {"id": "20", "name": "", "kind": "organisation", "user_id": ""},
    ]
    ev = {"city": "Testville", "country": ""}
    assert _rows(out / "events.csv") == [
        _blank(EVENT_COLS, id="100", host_id="10", start_time="2016-04-24T18:00:00+00:00",
               lat="41.9", lon="-87.7", **ev),
        _blank(EVENT_COLS, id="abc1x", host_id="10", start_time="2016-04-25T18:00:00+00:00",
               lat="41.8", lon="-87.6", **ev),
        _blank(EVENT_COLS, id="300", host_id="20", start_time="2016-04-30T07:06:40+00:00", **ev),
        _blank(EVENT_COLS, id="400", host_id="10", start_time="2016-04-30T07:06:40+00:00",
               lat="41.9", lon="-87.7", **ev),
    ]  # fmt: skip
    assert _rows(out / "registrations.csv") == [
        {"user_id": "1", "event_id": "100", "at": "2016-04-04T01:37:36+00:00", "status": "going"},
        {"user_id": "2", "event_id": "abc1x", "at": "2016-04-07T03:33:20+00:00",
         "status": "declined"},
        {"user_id": "3", "event_id": "100", "at": "2015-12-13T09:46:40+00:00",
         "status": "waitlist"},
        {"user_id": "1", "event_id": "abc1x", "at": "2016-04-07T03:33:20.001+00:00",
         "status": "watching"},
        {"user_id": "2", "event_id": "100", "at": "2016-04-18T17:20:00+00:00",
         "status": "declined"},
        {"user_id": "3", "event_id": "300", "at": "2016-04-07T03:33:20+00:00", "status": "going"},
        {"user_id": "1", "event_id": "400", "at": "2016-04-18T17:20:00+00:00", "status": "going"},
        {"user_id": "4", "event_id": "100", "at": "2016-04-07T03:33:20+00:00", "status": "going"},
        {"user_id": "3", "event_id": "abc1x", "at": "2016-04-07T03:33:20+00:00",
         "status": "maybe?"},
    ]  # fmt: skip
    assert _rows(out / "follows.csv") == [
        {"user_id": "1", "host_id": "10", "at": ""},
        {"user_id": "2", "host_id": "20", "at": ""},
    ]
    rejects = _rows(out / "rejects" / "import.csv")
    assert [(r["source"], r["line"], r["reason"].split(":")[0]) for r in rejects] == [
        ("rsvp_testville.csv", "6", "line"),
        ("rsvp_testville.csv", "13", "memberId"),
        ("rsvp_testville.csv", "8", "rsvp"),
        ("user_group_testville.csv", "3", "groupId"),
        ("user_group_testville.csv", "4", "userId"),
        ("user_group_testville.csv", "5", "membership"),
    ]
    assert rejects[0]["record"] == _BAD_LINE
    assert "line 7" in rejects[2]["reason"]  # the duplicate names the answer that replaced it

    assert result.rsvp_lines == 12 and result.membership_lines == 5
    assert result.rows == {
        "users": 4, "hosts": 2, "events": 4, "registrations": 9, "follows": 2,
    }  # fmt: skip
    assert result.events_without_venue == 2 and result.events_venue_from_group == 1
    # every source line is accounted for: written once, or rejected once with a reason
    assert result.rows["registrations"] + sum(r["source"].startswith("rsvp") for r in rejects) == 12
    assert result.rows["follows"] + sum(r["source"].startswith("user_group") for r in rejects) == 5


def test_rerun_gives_the_same_files_and_clears_stale_rejects(tmp_path: Path) -> None:
    src = _tiny_city(tmp_path / "src")
    out = tmp_path / "dataset"
    convert_meetup(src, "testville", out)
    first = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    convert_meetup(src, "testville", out)
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == first

    # without a membership file (it is optional) follows.csv goes; clean rows leave no rejects
    (src / "user_group_testville.csv").unlink()
    (src / "rsvp_testville.csv").write_text(
        ",".join(RSVP_COLUMNS) + "\n"
        "1,41.9,-87.6,100,1461520800000,7,10,1000,41.9,-87.7,1459733856000,yes,1,SUNDAY,DAY\n",
        encoding="utf-8",
    )
    result = convert_meetup(src, "testville", out)
    assert result.rows == {"users": 1, "hosts": 1, "events": 1, "registrations": 1}
    assert not (out / "follows.csv").exists()
    assert not (out / "rejects" / "import.csv").exists()


def test_missing_files_and_wrong_format_say_so(tmp_path: Path) -> None:
    (tmp_path / "rsvp_other.csv").write_text("memberId\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"rsvp_testville\.csv.*found: rsvp_other\.csv"):
        meetup_files(tmp_path, "Testville")
    with pytest.raises(ValueError, match="header lacks column"):
        convert_meetup(tmp_path, "other", tmp_path / "out")


def test_known_city_label_and_country(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "rsvp_ny.csv").write_text(
        ",".join(RSVP_COLUMNS) + "\n"
        "1,40.7,-74.0,e1,1461520800000,7,10,1000,40.7,-74.0,1459733856000,yes,1,SUNDAY,DAY\n",
        encoding="utf-8",
    )
    result = convert_meetup(src, "ny", tmp_path / "a")
    assert (result.city, result.country) == ("New York", "US")
    event = _rows(tmp_path / "a" / "events.csv")[0]
    assert (event["city"], event["country"]) == ("New York", "US")
    result = convert_meetup(src, "ny", tmp_path / "b", city_label="NYC", country="")
    assert (result.city, result.country) == ("NYC", "")


# --- the real Chicago crawl -----------------------------------------------------------------------


def _raw(meetup_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rsvp = pd.read_csv(meetup_dir / "rsvp_chicago.csv", dtype=str, keep_default_na=False)
    groups = pd.read_csv(meetup_dir / "user_group_chicago.csv", dtype=str, keep_default_na=False)
    return rsvp, groups


def test_chicago_conversion_counts(meetup_dir: Path, tmp_path: Path) -> None:
    rsvp, groups = _raw(meetup_dir)
    result = convert_meetup(meetup_dir, "chicago", tmp_path / "ds")
    latest = rsvp.sort_values("rsvpTime", key=lambda s: s.astype("int64"), kind="stable")
    latest = latest.drop_duplicates(["memberId", "eventId"], keep="last")
    member_of = groups[groups.userId.isin(rsvp.memberId) & groups.groupId.isin(rsvp.groupId)]
    assert result.rows == {
        "users": rsvp.memberId.nunique(),
        "hosts": rsvp.groupId.nunique(),
        "events": rsvp.eventId.nunique(),
        "registrations": len(latest),
        "follows": len(member_of.drop_duplicates()),
    }
    assert result.rows["users"] == 8118 and result.rows["events"] == 9133  # the README's numbers
    assert result.rows["hosts"] == 592 and result.rsvp_lines == 22915
    assert result.rows["registrations"] + result.rejects["duplicate_rsvp"] == len(rsvp)
    assert result.rows["follows"] + result.rejected - result.rejects["duplicate_rsvp"] == len(
        groups
    )

    regs = pd.read_csv(tmp_path / "ds" / "registrations.csv", dtype=str, keep_default_na=False)
    expected_status = latest.rsvpResponse.map(
        {"yes": "going", "no": "declined", "waitlist": "waitlist", "watching": "watching"}
    )
    assert regs.status.value_counts().to_dict() == expected_status.value_counts().to_dict()
    events = pd.read_csv(tmp_path / "ds" / "events.csv", dtype=str, keep_default_na=False)
    assert "eventYesRSVPCount" not in events.columns and "yes_count" not in events.columns
    no_venue = rsvp[(rsvp.venueLat == "0.0") & (rsvp.venueLon == "0.0")].eventId.nunique()
    assert result.events_without_venue == no_venue
    assert (events.lat == "").sum() == no_venue - result.events_venue_from_group
    assert events.id.str.fullmatch(r"\d+").sum() < len(events)  # letter ids kept as strings


def _count(driver: Driver, cypher: str) -> int:
    records, _, _ = driver.execute_query(cypher)
    return int(records[0]["n"])


@pytest.mark.neo4j
def test_chicago_loads_into_neo4j_with_nothing_lost(
    meetup_dir: Path, tmp_path: Path, empty_graph: Driver
) -> None:
    rsvp, groups = _raw(meetup_dir)
    out = tmp_path / "meetup-chicago"
    result = convert_meetup(meetup_dir, "chicago", out)
    report = load_dataset(out, empty_graph, progress=False)

    # What should load, recomputed from the raw files: an event has a location when its venue
    # has one or its group has at least one event at a located venue (the fallback).
    no_venue = (rsvp.venueLat == "0.0") & (rsvp.venueLon == "0.0")
    located_groups = set(rsvp.loc[~no_venue, "groupId"])
    located = ~no_venue | rsvp.groupId.isin(located_groups)
    loaded_rsvp = rsvp[located]
    members = set(rsvp.memberId)
    memberships = groups[groups.userId.isin(members) & groups.groupId.isin(set(rsvp.groupId))]

    expected_nodes = {
        "User": rsvp.memberId.nunique(),
        "Host": rsvp.groupId.nunique(),
        "Event": loaded_rsvp.eventId.nunique(),
    }
    for label, n in expected_nodes.items():
        assert _count(empty_graph, f"MATCH (x:{label}) RETURN count(x) AS n") == n, label
    assert (
        _count(empty_graph, "MATCH (:Host)-[r:HOSTS]->(:Event) RETURN count(r) AS n")
        == (expected_nodes["Event"])
    )
    assert _count(empty_graph, "MATCH (:User)-[r:FOLLOWS]->(:Host) RETURN count(r) AS n") == len(
        memberships.drop_duplicates()
    )
    statuses, _, _ = empty_graph.execute_query(
        "MATCH (:User)-[r:REGISTERED]->(:Event) RETURN r.status AS status, count(r) AS n"
    )
    expected_status = (
        loaded_rsvp.drop_duplicates(["memberId", "eventId"], keep="last")
        .rsvpResponse.map({"yes": "going", "no": "declined"})
        .fillna(loaded_rsvp.rsvpResponse)
        .value_counts()
        .to_dict()
    )
    assert {r["status"]: r["n"] for r in statuses} == expected_status
    assert (
        expected_status["going"]
        == loaded_rsvp[loaded_rsvp.rsvpResponse == "yes"][["memberId", "eventId"]]
        .drop_duplicates()
        .shape[0]
    )

    # Nothing lost: every file's rows are loaded or rejected, and every source line is a written
    # row or an import reject.
    files = {f.name: f for f in report.files}
    for f in report.files:
        assert f.read == f.loaded + f.rejected, f.name
    assert files["registrations"].read + result.rejects["duplicate_rsvp"] == len(rsvp)
    assert files["follows"].read + sum(
        n for k, n in result.rejects.items() if k.startswith("membership")
    ) == len(groups)
    assert files["events"].rejected == result.events_without_venue - result.events_venue_from_group
    assert files["registrations"].rejected == int((~located).sum())
    event_rejects = pd.read_csv(out / "rejects" / "events.csv", dtype=str, keep_default_na=False)
    assert event_rejects.reason.str.contains("lat: required").all()
    import_rejects = pd.read_csv(out / "rejects" / "import.csv", dtype=str)
    assert len(import_rejects) == result.rejected  # kept although the loader rewrote rejects/

    # Ids stay strings, times are datetimes, and the crawl-time yes count is not a property.
    records, _, _ = empty_graph.execute_query(
        "MATCH (e:Event {id: $id}) RETURN e.start_time AS start, e.location AS loc, keys(e) AS k",
        id="wgrqklyvgbjc",
    )
    assert records and records[0]["start"].year == 2016 and records[0]["loc"] is not None
    keys, _, _ = empty_graph.execute_query(
        "MATCH (e:Event) UNWIND keys(e) AS k RETURN collect(DISTINCT k) AS keys"
    )
    assert not {k for k in keys[0]["keys"] if "rsvp" in k.lower() or "yes" in k.lower()}
    assert (
        _count(empty_graph, "MATCH ()-[r:FOLLOWS]->() WHERE r.at IS NOT NULL RETURN count(r) AS n")
        == 0
    )
