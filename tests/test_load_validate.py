"""The loader's reading and validation rules, without a database (etl/read.py, etl/validate.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl.read import DatasetError, find_dataset_files, read_file
from etl.validate import ValidatedDataset, validate_dataset, write_rejects

DATA = Path(__file__).parent / "data" / "load"
USERS_HEADER = "id,name,birth_year,gender,locale,city,lat,lon,joined_at\n"
EVENTS_HEADER = (
    "id,host_id,title,description,category,tags,start_time,end_time,price,currency,capacity,"
    "lat,lon,city,country,created_at\n"
)


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    files.setdefault("users", USERS_HEADER)
    files.setdefault("events", EVENTS_HEADER)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _reasons(dataset: ValidatedDataset, name: str) -> list[str]:
    return dataset.files[name].rejects["reason"].tolist()


def test_ids_stay_text(tmp_path: Path) -> None:
    folder = _folder(tmp_path, users=USERS_HEADER + "007,,,,,,1,2,\n12a,,,,,,1,2,\n1e3,,,,,,1,2,\n")
    dataset = validate_dataset(folder)
    assert dataset.clean("users")["id"].tolist() == ["007", "12a", "1e3"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2024-05-01T19:00:00+02:00", "2024-05-01T19:00:00+02:00"),
        ("2024-05-01T19:00:00.250Z", "2024-05-01T19:00:00.250Z"),
        ("2024-05-01 19:00:00+0200", "2024-05-01T19:00:00+02:00"),
        ("2024-05-01T19:00+02", "2024-05-01T19:00:00+02:00"),
        ("2024-05-01T19:00:00.5-03:30", "2024-05-01T19:00:00.5-03:30"),
        ("2024-05-01t19:00:00z", "2024-05-01T19:00:00Z"),
        ("2024-05-01T19:00:00.123456+05:30", "2024-05-01T19:00:00.123456+05:30"),
    ],
)
def test_times_with_an_offset_are_kept_in_canonical_form(
    tmp_path: Path, written: str, stored: str
) -> None:
    folder = _folder(tmp_path, users=USERS_HEADER + f"u1,,,,,,1,2,{written}\n")
    dataset = validate_dataset(folder)
    assert dataset.clean("users")["joined_at"].tolist() == [stored]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (
            "2024-05-01T19:00:00",
            "joined_at: 2024-05-01T19:00:00 has no UTC offset (ISO 8601 with an offset is "
            "required, e.g. 2024-05-01T19:00:00+02:00)",
        ),
        (
            "2024-05-01",
            "joined_at: 2024-05-01 has no UTC offset (ISO 8601 with an offset is required, "
            "e.g. 2024-05-01T19:00:00+02:00)",
        ),
        ("2024-02-30T10:00:00Z", "joined_at: 2024-02-30T10:00:00Z is not a valid ISO 8601 time"),
        ("soon", "joined_at: soon is not a valid ISO 8601 time"),
        (
            "2024-05-01T10:00:00+19:00",
            "joined_at: 2024-05-01T10:00:00+19:00 has an offset beyond +-18:00",
        ),
    ],
)
def test_bad_times_are_rejected_with_the_rule(tmp_path: Path, written: str, reason: str) -> None:
    # A good row after the bad one: a bad value must not spoil the rest of its chunk.
    folder = _folder(
        tmp_path,
        users=USERS_HEADER + f"u1,,,,,,1,2,{written}\nu2,,,,,,1,2,2024-05-01T19:00:00+02:00\n",
    )
    dataset = validate_dataset(folder)
    assert _reasons(dataset, "users") == [reason]
    assert dataset.clean("users")["joined_at"].tolist() == ["2024-05-01T19:00:00+02:00"]


def test_defaults_and_normalisation(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        users=USERS_HEADER + "b,,,Non-Binary,,,1,2,\na,,1990.0,nonbinary,,,1,2,\n",
        hosts="id,name,kind,user_id\nh1,,Organization,\nh2,,PERSON,a\n",
        events=EVENTS_HEADER + "e1,h1,,,,  x |y||  z ,2025-01-01T10:00:00Z,,,,,1,2,,,\n",
        friendships="user_id,friend_id,since\nb,a,\n",
        registrations="user_id,event_id,at,status\na,e1,2025-01-01T10:00:00Z,\n"
        "b,e1,2025-01-01T10:00:00Z, Watching \n",
        views="user_id,event_id,at,count\na,e1,2025-01-01T10:00:00Z,\n",
    )
    dataset = validate_dataset(folder)
    assert dataset.rows_rejected == 0
    users = dataset.clean("users")
    assert users["gender"].tolist() == ["non-binary", "non-binary"]
    assert users["birth_year"].tolist()[1] == 1990
    assert dataset.clean("hosts")["kind"].tolist() == ["organisation", "person"]
    assert dataset.clean("events")["tags"].tolist() == ["x|y|z"]
    friends = dataset.clean("friendships")
    assert (friends["user_id"].tolist(), friends["friend_id"].tolist()) == (["a"], ["b"])
    assert dataset.clean("registrations")["status"].tolist() == ["going", "watching"]
    assert dataset.clean("views")["count"].tolist() == [1]


def test_every_rule_of_the_bad_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(DATA / "bad", folder)
    dataset = validate_dataset(folder)
    assert _reasons(dataset, "users")[:4] == [
        "lat: 123.4 is outside [-90, 90]",
        "lon: 200 is outside [-180, 180]",
        "lat: required value is missing",
        "id: required value is missing",
    ]
    assert _reasons(dataset, "friendships")[0] == (
        "(user_id, friend_id): (u10, u1) is a duplicate of row 1 (one friendship per pair, "
        "in either direction)"
    )
    assert {f.name: f.rows_clean for f in dataset.files.values()} == {
        "users": 2, "hosts": 1, "events": 2, "friendships": 1, "registrations": 3,
        "invitations": 1, "views": 1, "follows": 1, "ratings": 1,
    }  # fmt: skip


def test_rejects_folder_is_rewritten(tmp_path: Path) -> None:
    folder = _folder(tmp_path, users=USERS_HEADER + "u1,,,,,,100,2,\n")
    (folder / "rejects").mkdir()
    (folder / "rejects" / "events.csv").write_text("stale\n")
    (folder / "rejects" / "import.csv").write_text("an importer's own file\n")
    write_rejects(validate_dataset(folder))
    rejects = pd.read_csv(folder / "rejects" / "users.csv", dtype=str, keep_default_na=False)
    assert rejects.to_dict("records") == [
        {
            "id": "u1",
            "name": "",
            "birth_year": "",
            "gender": "",
            "locale": "",
            "city": "",
            "lat": "100",
            "lon": "2",
            "joined_at": "",
            "reason": "lat: 100 is outside [-90, 90]",
        }
    ]
    assert not (folder / "rejects" / "events.csv").exists()
    assert (folder / "rejects" / "import.csv").exists()


def test_parquet_typed_columns(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "id": pa.array([7, 12]),
                "birth_year": pa.array([1990.0, None]),
                "lat": pa.array([1.5, 2.5]),
                "lon": pa.array([3.0, 4.0]),
                "joined_at": pa.array([1_700_000_000_000, None], pa.int64()),
            }
        ),
        folder / "users.parquet",
    )
    starts = pd.Series(pd.to_datetime(["2025-06-01 18:00"])).dt.tz_localize("Europe/Berlin")
    pq.write_table(
        pa.table(
            {
                "id": ["e1"],
                "host_id": ["h1"],
                "tags": pa.array([["a", " b "]]),
                "start_time": pa.Array.from_pandas(starts),
                "lat": [1.0],
                "lon": [2.0],
            }
        ),
        folder / "events.parquet",
    )
    (folder / "hosts.csv").write_text("id,name,kind,user_id\nh1,,,7\n")
    dataset = validate_dataset(folder)
    assert dataset.rows_rejected == 0, dataset.files["events"].rejects
    users = dataset.clean("users")
    assert users["id"].tolist() == ["7", "12"]
    assert users["joined_at"].tolist() == ["2023-11-14T22:13:20Z", None]
    events = dataset.clean("events")
    assert events["start_time"].tolist() == ["2025-06-01T18:00:00+02:00"]
    assert events["tags"].tolist() == ["a|b"]


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is not a folder"):
        find_dataset_files(tmp_path / "nowhere")
    only_users = tmp_path / "only-users"
    only_users.mkdir()
    (only_users / "users.csv").write_text(USERS_HEADER)
    with pytest.raises(DatasetError, match=r"required file events\.csv"):
        find_dataset_files(only_users)
    both = _folder(tmp_path)
    pq.write_table(pa.table({"id": ["u1"]}), both / "users.parquet")
    with pytest.raises(DatasetError, match=r"both users\.csv and users\.parquet"):
        find_dataset_files(both)


def test_file_errors(tmp_path: Path) -> None:
    folder = _folder(tmp_path, users="id,name,lon\nu1,x,2\n")
    users = find_dataset_files(folder)[0]
    with pytest.raises(DatasetError, match=r"required column\(s\) lat missing"):
        read_file(users)
    (folder / "users.csv").write_bytes(USERS_HEADER.encode() + b"u1,\xff\xfe,,,,,1,2,\n")
    with pytest.raises(DatasetError, match="cannot be read"):
        read_file(users)


def test_subfolders_and_other_files_are_ignored(tmp_path: Path) -> None:
    folder = _folder(tmp_path, users=USERS_HEADER + "u1,,,,,,1,2,\n")
    (folder / "truth").mkdir()
    (folder / "truth" / "users.csv").write_text("not,a,dataset\n")
    (folder / "notes.txt").write_text("hello")
    assert [f.name for f in find_dataset_files(folder)] == ["users", "events"]


def test_number_rules(tmp_path: Path) -> None:
    events = EVENTS_HEADER + "".join(
        f"e{i},h1,,,,,2025-01-01T10:00:00Z,,{price},,{capacity},1,2,,,\n"
        for i, (price, capacity) in enumerate(
            [("9.99", "12"), ("inf", ""), ("", "1e300"), ("", "3.0"), ("1e2", "-1")]
        )
    )
    folder = _folder(
        tmp_path,
        hosts="id,name,kind,user_id\nh1,,,\n",
        events=events,
        users=USERS_HEADER + "u1,,,,,,1,2,\n",
        ratings="user_id,event_id,stars,at\nu1,e0,4.0,\nu1,e3,0,\n",
    )
    dataset = validate_dataset(folder)
    assert _reasons(dataset, "events") == [
        "price: inf is not a number",
        "capacity: 1e300 is not a positive integer",
        "capacity: -1 is not a positive integer",
    ]
    clean = dataset.clean("events")
    assert clean["price"].tolist()[0] == 9.99
    assert clean["capacity"].tolist() == [12, 3]
    assert dataset.clean("ratings")["stars"].tolist() == [4]
    assert _reasons(dataset, "ratings") == ["stars: 0 is not an integer from 1 to 5"]
