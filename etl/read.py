"""Find and read the files of a dataset folder (the input-format contract of DESIGN.md).

A dataset is a folder with one file per node or relationship type, named after the type:
``users.csv`` or ``users.parquet`` and so on. Only ``users`` and ``events`` are required. Other
files and sub-folders (``truth/``, ``rejects/``) are ignored.

Reading keeps every value as it was written, so that a rejected row can be written back unchanged:
CSV columns are read as text (``007`` stays ``007``, an empty field is ``""``); Parquet columns keep
their types (ids are turned into text by the validator). Parsing and checking are the validator's
job (:mod:`etl.validate`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class DatasetError(Exception):
    """The folder cannot be loaded at all: missing, a required file absent, or a file unreadable.

    The CLI turns it into exit code 2; the message says which file and why.
    """


@dataclass(frozen=True)
class FileSpec:
    """One file of the contract: its columns, the required ones, and which hold times."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    required_file: bool = False


#: The files of a dataset, in the order they are validated and written (referenced files first).
FILE_SPECS: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec(
            "users",
            ("id", "name", "birth_year", "gender", "locale", "city", "lat", "lon", "joined_at"),
            ("id", "lat", "lon"),
            required_file=True,
        ),
        FileSpec("hosts", ("id", "name", "kind", "user_id"), ("id",)),
        FileSpec(
            "events",
            (
                "id",
                "host_id",
                "title",
                "description",
                "category",
                "tags",
                "start_time",
                "end_time",
                "price",
                "currency",
                "capacity",
                "lat",
                "lon",
                "city",
                "country",
                "created_at",
            ),
            ("id", "host_id", "start_time", "lat", "lon"),
            required_file=True,
        ),
        FileSpec("friendships", ("user_id", "friend_id", "since"), ("user_id", "friend_id")),
        FileSpec(
            "registrations", ("user_id", "event_id", "at", "status"), ("user_id", "event_id", "at")
        ),
        FileSpec(
            "invitations",
            ("user_id", "event_id", "by_user_id", "at"),
            ("user_id", "event_id", "at"),
        ),
        FileSpec("views", ("user_id", "event_id", "at", "count"), ("user_id", "event_id", "at")),
        FileSpec("follows", ("user_id", "host_id", "at"), ("user_id", "host_id")),
        FileSpec(
            "ratings", ("user_id", "event_id", "stars", "at"), ("user_id", "event_id", "stars")
        ),
    )
}

FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class DatasetFile:
    """A file found in the folder, not yet read."""

    spec: FileSpec
    path: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")


def find_dataset_files(directory: Path) -> list[DatasetFile]:
    """The contract's files present in ``directory``, in load order.

    Raises :class:`DatasetError` when the folder does not exist, a required file is missing, or
    a type is present both as CSV and as Parquet (which one to load would be a guess).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory} is not a folder")
    found: list[DatasetFile] = []
    for spec in FILE_SPECS.values():
        paths = [directory / f"{spec.name}.{fmt}" for fmt in FORMATS]
        present = [p for p in paths if p.is_file()]
        if len(present) > 1:
            raise DatasetError(
                f"{directory}: both {present[0].name} and {present[1].name} exist; keep one"
            )
        if not present:
            if spec.required_file:
                raise DatasetError(
                    f"{directory}: required file {spec.name}.csv (or {spec.name}.parquet) "
                    "is missing"
                )
            continue
        found.append(DatasetFile(spec, present[0]))
    return found


def read_file(file: DatasetFile) -> pa.Table:
    """The rows of one file, values as written (an Arrow table).

    Every required column must be in the header (else :class:`DatasetError`); optional columns
    that are missing count as empty; extra columns are kept (they go back into reject files)
    and otherwise ignored.
    """
    try:
        table = _read_parquet(file.path) if file.format == "parquet" else _read_csv(file.path)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{file.path}: cannot be read: {_first_line(exc)}") from exc
    missing = [c for c in file.spec.required if c not in table.column_names]
    if missing:
        raise DatasetError(
            f"{file.path}: required column(s) {', '.join(missing)} missing from the header "
            f"(expected columns: {', '.join(file.spec.columns)})"
        )
    return table


def _read_csv(path: Path) -> pa.Table:
    # Every column as text, empty fields as "" (not NaN): the validator decides what is missing,
    # and a reject file gets back exactly what was read. Quoted fields may span lines.
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig").rstrip("\r\n")
    if not header.strip():
        raise DatasetError(f"{path}: empty file (a CSV needs a header line)")
    column_names = next(csv.reader([header]))
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=True, block_size=16 << 20, encoding="utf8"),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in column_names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _read_parquet(path: Path) -> pa.Table:
    return pq.read_table(path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
