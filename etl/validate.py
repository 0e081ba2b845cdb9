"""Validate every row of a dataset, column by column (vectorised: no Python loop per row).

:func:`validate_dataset` reads the files of a folder (:mod:`etl.read`), checks each row against
the contract of DESIGN.md and splits every file into *clean* rows (typed, ready to be written to
the graph) and *rejected* rows (the original values plus a ``reason``). :func:`write_rejects`
rewrites ``<dataset>/rejects/<file>.csv`` from the result. Files are checked in dependency order
(users, hosts, events, then the relationship files), so a row that references a rejected row is
rejected too and says so.

Reject reasons
--------------
A reason names the field and the rule, ``<field>: <value> <rule>``; several broken rules are joined
with ``"; "``. "row N" is the N-th data row of the file (the header is not counted; in a CSV
without multi-line fields it is on line N + 1). The reasons are:

- ``id: required value is missing`` (any required field)
- ``birth_year: abc is not a number`` (any number field)
- ``lat: 123.4 is outside [-90, 90]``, ``lon: 200 is outside [-180, 180]``
- ``birth_year: 1850 is not a plausible birth year (a whole year from 1900 to <this year>)``
- ``price: -5 is negative (must be >= 0)``
- ``capacity: 0 is not a positive integer``, ``count: 1.5 is not a positive integer``
- ``stars: 6 is not an integer from 1 to 5``
- ``at: 2024-05-01T19:00:00 has no UTC offset (ISO 8601 with an offset is required, e.g.
  2024-05-01T19:00:00+02:00)``
- ``at: tomorrow is not a valid ISO 8601 time``
- ``end_time: 2024-05-01T18:00:00Z is before start_time 2024-05-01T19:00:00Z``
- ``gender: x is not one of female, male, non-binary, other, unknown`` (also ``kind``, ``status``)
- ``friend_id: u1 is the same user as user_id (self-friendship)``
- ``user_id: u999 does not exist`` (neither in this dataset nor in the database)
- ``host_id: h3 was rejected (see rejects/hosts.csv)`` (the referenced row was itself rejected)
- ``id: u5 is a duplicate of row 3`` (ids are unique within a file; the first good row wins)
- ``(user_id, event_id): (u1, e2) is a duplicate of row 4`` (relationship files: the pair)
- ``(user_id, friend_id): (u2, u1) is a duplicate of row 3 (one friendship per pair, in either
  direction)``

Normalisation of clean rows
---------------------------
Times become canonical ISO 8601 strings with their offset (``2024-05-01T19:00:00+02:00``;
``Z`` for UTC; Parquet epoch milliseconds and naive timestamps are UTC), which Neo4j parses into
a ``datetime`` on both write paths. ``gender``, ``kind`` and ``status`` are lower-cased
(``organization`` is spelled ``organisation``; an empty ``status`` is ``going``); an empty
``count`` is 1; ``tags`` are trimmed and re-joined with ``|``; a friendship is stored as
``user_id < friend_id``. Empty (or blank) optional values are missing (``None``/``NaN``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.read import FILE_SPECS, DatasetFile, find_dataset_files, read_file

REJECTS_DIR = "rejects"
GENDERS = ("female", "male", "non-binary", "other", "unknown")
HOST_KINDS = ("person", "organisation")
STATUSES = ("going", "maybe", "declined", "waitlist", "watching")
DEFAULT_STATUS = "going"
MIN_BIRTH_YEAR = 1900
#: Java's ZoneOffset (and so Neo4j) takes offsets up to +-18:00.
MAX_OFFSET_MINUTES = 18 * 60

#: ``existing_ids(label, ids)`` returns those of ``ids`` that already exist as ``(:label {id})``
#: in the database; ``None`` means "nothing exists" (an empty database, or validating offline).
IdLookup = Callable[[str, Sequence[str]], set[str]]

# A time with an offset, in any ISO 8601 spelling pandas and Arrow read; and the canonical
# spelling, which is passed on unchanged (Neo4j parses it the same way on both write paths).
_OFFSET_RE = r"[Tt ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?P<off>[Zz]|[+-]\d{2}(?::?\d{2})?)$"
_CANONICAL_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$"
_NO_OFFSET_RULE = (
    "has no UTC offset (ISO 8601 with an offset is required, e.g. 2024-05-01T19:00:00+02:00)"
)
_CHUNK = 1 << 16


@dataclass
class ValidatedFile:
    """One file after validation: its clean rows (typed) and its rejected rows (as read).

    ``table`` holds the clean rows as Arrow columns (strings, ``int64``, ``double``; times as
    canonical ISO strings; ``null`` where a value is missing); ``clean`` is the same as pandas.
    """

    name: str
    path: Path
    rows_read: int
    table: pa.Table
    rejects: pd.DataFrame
    seconds: float = 0.0

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    @property
    def rows_clean(self) -> int:
        return self.table.num_rows

    @cached_property
    def clean(self) -> pd.DataFrame:
        frame = self.table.to_pandas(
            types_mapper={pa.int64(): pd.Int64Dtype()}.get, ignore_metadata=True
        )
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].where(frame[column].notna(), None)
        return frame


@dataclass
class ValidatedDataset:
    """Every file of a dataset folder after validation, in load order."""

    directory: Path
    files: dict[str, ValidatedFile] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files.values())

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files.values())

    def table(self, name: str) -> pa.Table:
        """The clean rows of ``name``; an empty table when the file is not in the dataset."""
        if name in self.files:
            return self.files[name].table
        return pa.table({c: pa.array([], pa.string()) for c in FILE_SPECS[name].columns})

    def clean(self, name: str) -> pd.DataFrame:
        """The clean rows of ``name`` as pandas; empty when the file is not in the dataset."""
        if name in self.files:
            return self.files[name].clean
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FILE_SPECS[name].columns})


# --- references ----------------------------------------------------------------------------


class _Known:
    """The ids a referencing column may point at: clean rows of a file, else the database."""

    def __init__(self, label: str, file: str, lookup: IdLookup | None) -> None:
        self.label = label
        self.file = file
        self.clean = pa.array([], pa.string())
        self.in_file = pa.array([], pa.string())
        self._lookup = lookup
        self._checked: set[str] = set()
        self._in_db: set[str] = set()

    def set_file(self, all_ids: pa.Array, clean_ids: pa.Array) -> None:
        self.in_file = pc.unique(all_ids.drop_null())
        self.clean = pc.unique(clean_ids.drop_null())

    def in_database(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` in the database (each id is asked for once, in batches)."""
        wanted = [i for i in ids if i not in self._checked]
        if wanted and self._lookup is not None:
            self._in_db |= self._lookup(self.label, wanted)
        self._checked.update(wanted)
        return self._in_db


# --- row checks ----------------------------------------------------------------------------


@dataclass
class _Column:
    text: pa.Array  # the value as text; null where missing or blank
    present: np.ndarray  # bool per row


class _Rows:
    """The checks of one file; each adds reasons to the rows that break a rule."""

    def __init__(self, name: str, raw: pa.Table) -> None:
        self.name = name
        self.raw = raw
        self.n = raw.num_rows
        self.reasons = np.full(self.n, "", dtype=object)
        self.out: dict[str, pa.Array] = {}
        self._columns: dict[str, _Column] = {}
        self._instants: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._codes: dict[str, tuple[np.ndarray, pa.Array]] = {}

    # -- plumbing --
    def fail(self, mask: np.ndarray, messages: np.ndarray | str) -> None:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        current = self.reasons[idx]
        self.reasons[idx] = np.where(current == "", messages, current + "; " + messages)

    def raw_column(self, col: str) -> pa.Array | None:
        if col not in self.raw.column_names:
            return None
        return self.raw.column(col).combine_chunks()

    def column(self, col: str) -> _Column:
        if col not in self._columns:
            self._columns[col] = _as_text(self.raw_column(col), self.n)
        return self._columns[col]

    def values(self, col: str, mask: np.ndarray) -> np.ndarray:
        """The text of ``col`` in the rows of ``mask``, for messages."""
        return np.array(self.column(col).text.filter(pa.array(mask)).to_pylist(), dtype=object)

    @property
    def valid(self) -> np.ndarray:
        return self.reasons == ""

    # -- rules --
    def required(self, *cols: str) -> None:
        for col in cols:
            self.fail(~self.column(col).present, f"{col}: required value is missing")

    def string(self, *cols: str) -> None:
        for col in cols:
            self.out[col] = self.column(col).text

    def number(
        self,
        col: str,
        rule: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        integer: bool = False,
        default: int | None = None,
    ) -> None:
        column = self.column(col)
        present = column.present
        arr = _floats(self.raw_column(col), column)
        with np.errstate(invalid="ignore"):
            not_number = present & ~np.isfinite(arr)
            broken = np.zeros(self.n, dtype=bool)
            if integer:  # whole, and exact as a float (Neo4j stores a 64-bit integer)
                broken |= (np.mod(arr, 1) != 0) | (np.abs(arr) > 2**53)
            if lo is not None:
                broken |= arr < lo
            if hi is not None:
                broken |= arr > hi
            broken &= present & ~not_number
        self.fail(not_number, f"{col}: " + self.values(col, not_number) + " is not a number")
        self.fail(broken, f"{col}: " + self.values(col, broken) + " " + rule)
        good = present & ~not_number & ~broken
        if integer:
            ints = np.where(good, arr, 0).round().astype("int64")
            mask = ~good
            if default is not None:
                ints = np.where(present, ints, default)
                mask = present & ~good
            self.out[col] = pa.array(ints, type=pa.int64(), mask=mask)
        else:
            self.out[col] = pa.array(np.where(good, arr, 0.0), type=pa.float64(), mask=~good)

    def enum(
        self,
        col: str,
        allowed: Sequence[str],
        *,
        aliases: dict[str, str] | None = None,
        default: str | None = None,
    ) -> None:
        column = self.column(col)
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(column.text))
        for alias, target in (aliases or {}).items():
            lowered = pc.if_else(pc.equal(lowered, alias), target, lowered)
        known = pc.is_in(lowered, value_set=pa.array(allowed)).to_numpy(zero_copy_only=False)
        bad = column.present & ~known
        self.fail(bad, f"{col}: " + self.values(col, bad) + f" is not one of {', '.join(allowed)}")
        cleaned = pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), lowered)
        if default is not None:
            cleaned = pc.fill_null(cleaned, default)
        self.out[col] = cleaned

    def time(self, col: str) -> None:
        column = self.column(col)
        parsed = _parse_times(self.raw_column(col), column)
        self.fail(
            parsed.no_offset,
            f"{col}: " + self.values(col, parsed.no_offset) + " " + _NO_OFFSET_RULE,
        )
        self.fail(
            parsed.bad_offset,
            f"{col}: " + self.values(col, parsed.bad_offset) + " has an offset beyond +-18:00",
        )
        self.fail(
            parsed.unparseable,
            f"{col}: " + self.values(col, parsed.unparseable) + " is not a valid ISO 8601 time",
        )
        self.out[col] = parsed.canonical
        self._instants[col] = (parsed.utc_ns, parsed.ok)

    def not_before(self, col: str, other: str) -> None:
        (later, later_ok), (earlier, earlier_ok) = self._instants[col], self._instants[other]
        bad = later_ok & earlier_ok & (later < earlier)
        self.fail(
            bad,
            f"{col}: " + self.values(col, bad) + f" is before {other} " + self.values(other, bad),
        )

    def tags(self, col: str) -> None:
        raw = self.raw_column(col)
        if raw is not None and (pa.types.is_list(raw.type) or pa.types.is_large_list(raw.type)):
            # Parquet may hold a list per row; join it so both formats share one rule.
            text = pc.binary_join(pc.cast(raw, pa.list_(pa.string())), "|")
        else:
            text = self.column(col).text
        tidy = pc.replace_substring_regex(text, r"\s*\|\s*", "|")
        tidy = pc.replace_substring_regex(tidy, r"\|{2,}", "|")
        tidy = pc.utf8_trim(tidy, characters="| \t\r\n")
        self.out[col] = pc.if_else(pc.equal(tidy, ""), pa.scalar(None, pa.string()), tidy)

    def reference(self, col: str, known: _Known) -> None:
        column = self.column(col)
        text, present = column.text, column.present
        index = pc.index_in(text, value_set=known.in_file)
        in_file = index.is_valid().to_numpy(zero_copy_only=False)
        # When no row of the referenced file was rejected, "in the file" is "good".
        same = len(known.clean) == len(known.in_file)
        ok = in_file.copy() if same else _is_in(text, known.clean)
        outside = present & ~in_file
        if outside.any():
            ids = pc.unique(text.filter(pa.array(outside))).to_pylist()
            in_db = known.in_database(ids)
            if in_db:
                ok |= _is_in(text, pa.array(sorted(in_db), pa.string()))
        else:
            # Every value is an id of the file: its position there is a ready-made key code.
            codes = pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype("int64")
            self._codes[col] = (codes, known.in_file)
        rejected = present & ~ok & in_file
        missing = present & ~ok & ~in_file
        self.fail(
            rejected,
            f"{col}: "
            + self.values(col, rejected)
            + f" was rejected (see {REJECTS_DIR}/{known.file}.csv)",
        )
        self.fail(missing, f"{col}: " + self.values(col, missing) + " does not exist")
        self.out[col] = text

    def _key_codes(self, keys: Sequence[str], unordered_pair: bool) -> list[tuple[np.ndarray, int]]:
        """An integer code per row for each key column (-1 where missing), and the code range."""
        cached = [self._codes.get(k) for k in keys]
        if all(c is not None for c in cached) and (
            not unordered_pair or cached[0][1] is cached[1][1]  # type: ignore[index]
        ):
            return [(c, len(values)) for c, values in cached]  # type: ignore[misc]
        if unordered_pair:  # one dictionary for both columns, so that codes compare
            both = pc.dictionary_encode(pa.concat_arrays([self.out[k] for k in keys]))
            codes = pc.fill_null(both.indices, -1).to_numpy(zero_copy_only=False)
            size = len(both.dictionary)
            return [
                (codes[: self.n].astype("int64"), size),
                (codes[self.n :].astype("int64"), size),
            ]
        out = []
        for key in keys:
            encoded = pc.dictionary_encode(self.out[key])
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            out.append((codes.astype("int64"), len(encoded.dictionary)))
        return out

    def unique(self, *keys: str, unordered_pair: bool = False) -> None:
        """Reject every later good row whose key (or unordered pair) a good row already has."""
        valid = self.valid
        if not valid.any():
            return
        parts = [self.out[k] for k in keys]
        coded = self._key_codes(keys, unordered_pair)
        if unordered_pair:
            swap = pc.fill_null(pc.greater(parts[0], parts[1]), False)
            parts = [pc.if_else(swap, parts[1], parts[0]), pc.if_else(swap, parts[0], parts[1])]
            self.out[keys[0]], self.out[keys[1]] = parts
            (a, size), (b, _) = coded
            coded = [(np.minimum(a, b), size), (np.maximum(a, b), size)]
        code = np.zeros(self.n, dtype="int64")
        for codes, size in coded:
            code = code * (size + 1) + (codes + 1)
        rows = np.flatnonzero(valid)
        keyed = pd.Series(code[rows])
        later_in_valid = keyed.duplicated(keep="first").to_numpy()
        if not later_in_valid.any():
            return
        # The first row of each repeated key (hashing: no sort of the whole file).
        involved = np.flatnonzero(keyed.duplicated(keep=False).to_numpy())
        first = (
            pd.Series(involved)
            .groupby(keyed.to_numpy()[involved], sort=False)
            .transform("first")
            .to_numpy()
        )
        is_later = later_in_valid[involved]
        duplicate_rows = rows[involved[is_later]]
        later = np.zeros(self.n, dtype=bool)
        later[duplicate_rows] = True
        first_of = np.zeros(self.n, dtype="int64")
        first_of[duplicate_rows] = rows[first[is_later]]
        first_text = (first_of[later] + 1).astype(str).astype(object)
        if len(keys) == 1:
            what = f"{keys[0]}: " + self.values(keys[0], later)
        else:
            what = (
                f"({', '.join(keys)}): ("
                + self.values(keys[0], later)
                + ", "
                + self.values(keys[1], later)
                + ")"
            )
        note = " (one friendship per pair, in either direction)" if unordered_pair else ""
        self.fail(later, what + " is a duplicate of row " + first_text + note)

    # -- result --
    def result(self, path: Path, columns: Sequence[str]) -> ValidatedFile:
        valid = self.valid
        keep = pa.array(valid)
        clean = pa.table({c: self.out[c] for c in columns}).filter(keep)
        rejects = self.raw.filter(pc.invert(keep)).to_pandas()
        rejects["reason"] = self.reasons[~valid]
        return ValidatedFile(self.name, path, self.n, clean, rejects)


def _as_text(raw: pa.Array | None, n: int) -> _Column:
    if raw is None:
        return _Column(pa.nulls(n, pa.string()), np.zeros(n, dtype=bool))
    if pa.types.is_large_string(raw.type):
        raw = raw.cast(pa.string())
    if not pa.types.is_string(raw.type):
        raw = _typed_to_text(raw)
    blank = pc.fill_null(pc.or_(pc.equal(pc.binary_length(raw), 0), pc.utf8_is_space(raw)), True)
    blank_np = blank.to_numpy(zero_copy_only=False)
    if blank_np.any():
        raw = pc.if_else(blank, pa.scalar(None, pa.string()), raw)
    return _Column(raw, ~blank_np)


def _typed_to_text(raw: pa.Array) -> pa.Array:
    """Parquet values that are not text: ids and numbers as people write them (7, not 7.0)."""
    if pa.types.is_floating(raw.type):
        values = raw.to_numpy(zero_copy_only=False)
        finite = values[np.isfinite(values)]
        if len(finite) and np.all(np.mod(finite, 1) == 0) and np.all(np.abs(finite) < 2**53):
            return pc.cast(pc.cast(raw, pa.int64()), pa.string())
    if pa.types.is_timestamp(raw.type) or pa.types.is_list(raw.type):
        series = raw.to_pandas().astype(str)
        return pa.array(series.where(pd.notna(raw.to_pandas()), None), pa.string())
    try:
        return pc.cast(raw, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in raw.to_pylist()], pa.string())


def _floats(raw: pa.Array | None, column: _Column) -> np.ndarray:
    """The column as float64, NaN where missing or not a number."""
    if raw is not None and (pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type)):
        return pc.cast(raw, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    try:
        values = pc.cast(column.text, pa.float64())
        return values.to_numpy(zero_copy_only=False).astype("float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        text = pd.Series(column.text.to_pylist(), dtype=object)
        return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")


def _is_in(text: pa.Array, values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.is_in(text, value_set=values), False).to_numpy(zero_copy_only=False)


# --- times ---------------------------------------------------------------------------------


@dataclass
class _Times:
    canonical: pa.Array  # ISO strings, null where missing or invalid
    utc_ns: np.ndarray
    ok: np.ndarray
    no_offset: np.ndarray
    bad_offset: np.ndarray
    unparseable: np.ndarray


def _parse_times(raw: pa.Array | None, column: _Column) -> _Times:
    n = len(column.present)
    utc_ns = np.zeros(n, dtype="int64")
    offset_min = np.zeros(n, dtype="int64")
    ok = np.zeros(n, dtype=bool)
    no_offset = np.zeros(n, dtype=bool)
    unparseable = np.zeros(n, dtype=bool)
    present = column.present
    keep_text = np.zeros(n, dtype=bool)  # already canonical: passed on as written
    source = column.text

    if raw is not None and pa.types.is_timestamp(raw.type):
        stamps = raw.to_pandas()
        if getattr(stamps.dt, "tz", None) is None:
            stamps = stamps.dt.tz_localize("UTC")  # naive Parquet timestamps are UTC
        utc = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        wall = stamps.dt.tz_localize(None)
        ok = stamps.notna().to_numpy()
        utc_ns[ok] = utc[ok].to_numpy("datetime64[ns]").astype("int64")
        offset_min[ok] = ((wall[ok] - utc[ok]).dt.total_seconds() // 60).astype("int64")
    elif raw is not None and (pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type)):
        millis = pc.cast(raw, pa.float64()).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(millis) & (np.mod(millis, 1) == 0) & (np.abs(millis) < 9.2e12)
        unparseable = present & ~ok
        utc_ns[ok] = millis[ok].astype("int64") * 1_000_000  # epoch milliseconds, UTC
    else:
        text = source = column.text
        # Most values are canonical already (one regex pass); only the others are searched for
        # an offset in another spelling (and RFC 3339's lower-case t and z).
        canonical_form = _filled(pc.match_substring_regex(text, _CANONICAL_RE))
        has_offset = canonical_form.copy()
        utc_form = _filled(pc.ends_with(text, "Z")) | _filled(pc.ends_with(text, "+00:00"))
        offset_rows = canonical_form & ~utc_form
        if offset_rows.any():
            tail = pc.utf8_slice_codeunits(text.filter(pa.array(offset_rows)), -6)
            offset_min[offset_rows] = _offset_minutes(tail)
        other = present & ~canonical_form
        if other.any():
            text = source = _upper_t_and_z(text, other)
            rows = np.flatnonzero(other)
            match = pc.extract_regex(text.filter(pa.array(other)), _OFFSET_RE)
            found = match.is_valid().to_numpy(zero_copy_only=False)
            has_offset[rows[found]] = True
            offset_min[rows[found]] = _offset_minutes(match.filter(match.is_valid()).field("off"))
        rows = np.flatnonzero(has_offset)
        sub = text.filter(pa.array(has_offset))
        # Arrow parses the values with an offset fast; a chunk that fails as a whole (some value
        # in it is not a valid time) is parsed again value by value with pandas.
        for start in range(0, len(sub), _CHUNK):
            chunk = sub.slice(start, _CHUNK)
            where = rows[start : start + _CHUNK]
            try:
                ns = chunk.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
                utc_ns[where] = ns.to_numpy(zero_copy_only=False)
                ok[where] = True
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                parsed = pd.to_datetime(
                    pd.Series(chunk.to_pylist(), dtype=object),
                    utc=True,
                    format="ISO8601",
                    errors="coerce",
                )
                good = parsed.notna().to_numpy()
                utc_ns[where[good]] = parsed[good].to_numpy("datetime64[ns]").astype("int64")
                ok[where[good]] = True
                unparseable[where[~good]] = True
        keep_text = ok & canonical_form
        without = np.flatnonzero(present & ~has_offset)
        if without.size:
            # Without an offset: say so when the value is a time otherwise, else "not valid".
            values = pd.Series(text.take(pa.array(without)).to_pylist(), dtype=object)
            parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
            naive_ok = parsed.notna().to_numpy()
            no_offset[without[naive_ok]] = True
            unparseable[without[~naive_ok]] = True
    bad_offset = ok & (np.abs(offset_min) > MAX_OFFSET_MINUTES)
    ok &= ~bad_offset
    keep_text &= ok
    render = ok & ~keep_text
    canonical = pc.if_else(pa.array(keep_text), source, pa.scalar(None, pa.string()))
    if render.any():
        rendered = pa.array(_render(utc_ns[render], offset_min[render]), pa.string())
        canonical = pc.replace_with_mask(canonical, pa.array(render), rendered)
    return _Times(canonical, utc_ns, ok, no_offset, bad_offset, unparseable)


def _upper_t_and_z(text: pa.Array, rows: np.ndarray) -> pa.Array:
    """RFC 3339 allows ``t`` and ``z``; Arrow's parser wants ``T`` and ``Z`` (only ``rows``)."""
    mask = pa.array(rows)
    fixed = pc.replace_substring_regex(text.filter(mask), r"^(\d{4}-\d{2}-\d{2})t", r"\1T")
    fixed = pc.replace_substring_regex(fixed, r"z$", "Z")
    return pc.replace_with_mask(text, mask, fixed)


def _offset_minutes(offsets: pa.Array) -> np.ndarray:
    encoded = pc.dictionary_encode(offsets)
    lookup = np.array([_one_offset(v) for v in encoded.dictionary.to_pylist()] or [0])
    return lookup[encoded.indices.to_numpy(zero_copy_only=False).astype("int64")]


def _one_offset(text: str) -> int:
    if text in ("Z", "z"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))


def _render(utc_ns: np.ndarray, offset_min: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM`` (``Z`` for UTC), each at the precision it needs."""
    local = (utc_ns + offset_min * 60_000_000_000).astype("datetime64[ns]")
    stamps = np.empty(len(utc_ns), dtype=object)
    todo = np.ones(len(utc_ns), dtype=bool)
    for unit, step in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        rows = todo & (utc_ns % step == 0)
        if rows.any():
            stamps[rows] = np.datetime_as_string(
                local[rows].astype(f"datetime64[{unit}]"), unit=unit
            ).astype(object)
            todo &= ~rows
    uniq, inverse = np.unique(offset_min, return_inverse=True)
    labels = np.array([_offset_label(int(m)) for m in uniq], dtype=object)
    return stamps + labels[inverse]


def _offset_label(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


# --- per-file rules ------------------------------------------------------------------------


def _check_users(rows: _Rows, known: dict[str, _Known]) -> None:
    year = datetime.now(UTC).year
    rows.required("id", "lat", "lon")
    rows.string("id", "name", "locale", "city")
    rows.number(
        "birth_year",
        f"is not a plausible birth year (a whole year from {MIN_BIRTH_YEAR} to {year})",
        lo=MIN_BIRTH_YEAR,
        hi=year,
        integer=True,
    )
    rows.enum("gender", GENDERS, aliases={"nonbinary": "non-binary"})
    _coordinates(rows)
    rows.time("joined_at")
    rows.unique("id")


def _check_hosts(rows: _Rows, known: dict[str, _Known]) -> None:
    rows.required("id")
    rows.string("id", "name")
    rows.enum("kind", HOST_KINDS, aliases={"organization": "organisation"})
    rows.reference("user_id", known["User"])
    rows.unique("id")


def _check_events(rows: _Rows, known: dict[str, _Known]) -> None:
    rows.required("id", "host_id", "start_time", "lat", "lon")
    rows.string("id", "title", "description", "category", "currency", "city", "country")
    rows.reference("host_id", known["Host"])
    rows.tags("tags")
    rows.time("start_time")
    rows.time("end_time")
    rows.not_before("end_time", "start_time")
    rows.number("price", "is negative (must be >= 0)", lo=0)
    rows.number("capacity", "is not a positive integer", lo=1, integer=True)
    _coordinates(rows)
    rows.time("created_at")
    rows.unique("id")


def _check_friendships(rows: _Rows, known: dict[str, _Known]) -> None:
    rows.required("user_id", "friend_id")
    rows.reference("user_id", known["User"])
    rows.reference("friend_id", known["User"])
    user, friend = rows.column("user_id"), rows.column("friend_id")
    same = _filled(pc.equal(user.text, friend.text))
    rows.fail(
        same,
        "friend_id: " + rows.values("friend_id", same) + " is the same user as user_id "
        "(self-friendship)",
    )
    rows.time("since")
    # One friendship per unordered pair, stored from the smaller id to the larger one.
    rows.unique("user_id", "friend_id", unordered_pair=True)


def _check_registrations(rows: _Rows, known: dict[str, _Known]) -> None:
    _user_event(rows, known)
    rows.time("at")
    rows.enum("status", STATUSES, default=DEFAULT_STATUS)
    rows.unique("user_id", "event_id")


def _check_invitations(rows: _Rows, known: dict[str, _Known]) -> None:
    _user_event(rows, known)
    rows.reference("by_user_id", known["User"])
    rows.time("at")
    rows.unique("user_id", "event_id")


def _check_views(rows: _Rows, known: dict[str, _Known]) -> None:
    _user_event(rows, known)
    rows.time("at")
    rows.number("count", "is not a positive integer", lo=1, integer=True, default=1)
    rows.unique("user_id", "event_id")


def _check_follows(rows: _Rows, known: dict[str, _Known]) -> None:
    rows.required("user_id", "host_id")
    rows.reference("user_id", known["User"])
    rows.reference("host_id", known["Host"])
    rows.time("at")
    rows.unique("user_id", "host_id")


def _check_ratings(rows: _Rows, known: dict[str, _Known]) -> None:
    _user_event(rows, known)
    rows.number("stars", "is not an integer from 1 to 5", lo=1, hi=5, integer=True)
    rows.time("at")
    rows.unique("user_id", "event_id")


def _user_event(rows: _Rows, known: dict[str, _Known]) -> None:
    spec = FILE_SPECS[rows.name]
    rows.required(*spec.required)
    rows.reference("user_id", known["User"])
    rows.reference("event_id", known["Event"])


def _coordinates(rows: _Rows) -> None:
    rows.number("lat", "is outside [-90, 90]", lo=-90, hi=90)
    rows.number("lon", "is outside [-180, 180]", lo=-180, hi=180)


_CHECKS: dict[str, Callable[[_Rows, dict[str, _Known]], None]] = {
    "users": _check_users,
    "hosts": _check_hosts,
    "events": _check_events,
    "friendships": _check_friendships,
    "registrations": _check_registrations,
    "invitations": _check_invitations,
    "views": _check_views,
    "follows": _check_follows,
    "ratings": _check_ratings,
}
#: Node files whose ids other files reference: file -> label.
_NODE_FILES = {"users": "User", "hosts": "Host", "events": "Event"}


# --- the dataset ---------------------------------------------------------------------------


def validate_dataset(
    directory: Path,
    *,
    existing_ids: IdLookup | None = None,
    tables: dict[str, pa.Table] | None = None,
    on_file: Callable[[ValidatedFile], None] | None = None,
) -> ValidatedDataset:
    """Read (unless ``tables`` holds them already) and validate every file of ``directory``.

    ``existing_ids`` answers which referenced ids the database already has; it is asked only for
    ids that no row of the referenced file carries. ``on_file`` is called after each file (for
    progress). Raises :class:`etl.read.DatasetError` for a folder that cannot be loaded at all.
    """
    directory = Path(directory)
    files = find_dataset_files(directory)
    known = {label: _Known(label, file, existing_ids) for file, label in _NODE_FILES.items()}
    dataset = ValidatedDataset(directory)
    for file in files:
        started = time.perf_counter()
        raw = tables[file.name] if tables and file.name in tables else read_file(file)
        result = validate_table(file, raw, known)
        result.seconds = time.perf_counter() - started
        dataset.files[file.name] = result
        if on_file is not None:
            on_file(result)
    return dataset


def validate_table(file: DatasetFile, raw: pa.Table, known: dict[str, _Known]) -> ValidatedFile:
    """Check one file's rows (``known``: the ids of the files it may reference)."""
    rows = _Rows(file.name, raw)
    _CHECKS[file.name](rows, known)
    result = rows.result(file.path, file.spec.columns)
    if file.name in _NODE_FILES:
        known[_NODE_FILES[file.name]].set_file(rows.column("id").text, result.table.column("id"))
    return result


def write_rejects(dataset: ValidatedDataset) -> Path:
    """Rewrite the loader's files in ``<dataset>/rejects/``: ``<file>.csv`` for each input file
    with rejected rows. Other files there (an importer's own rejects) are left alone."""
    folder = dataset.directory / REJECTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILE_SPECS:
        (folder / f"{name}.csv").unlink(missing_ok=True)
    for result in dataset.files.values():
        if result.rows_rejected:
            result.rejects.to_csv(folder / f"{result.name}.csv", index=False)
    return folder


def _filled(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
