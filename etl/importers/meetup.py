"""Meetup RSVP crawls (the ACDA data set format) -> an eventgraph dataset folder.

Source format (one crawl per city, e.g. ``rsvp_chicago.csv`` and ``user_group_chicago.csv``; see
``shared/data/meetup-chicago/README.md``)::

    rsvp_<city>.csv        memberId, memberLat, memberLon, eventId, eventTime, eventYesRSVPCount,
                           groupId, venueId, venueLat, venueLon, rsvpTime, rsvpResponse,
                           rsvpRating, eventDay, eventPeriod      (one row per RSVP)
    user_group_<city>.csv  userId, groupId                         (group memberships; optional)

Mapping (and why):

* member -> ``users.csv``: id = memberId, lat/lon = memberLat/memberLon (Meetup's home location,
  rounded to 0.01 degree by the crawl), city = the crawl's city. Name, birth year, gender, locale
  and join date are left empty: the data has none, and an invented name would look like a fact.
* group -> ``hosts.csv``: kind ``organisation`` (a Meetup group is run by organisers the data does
  not name, so ``user_id`` stays empty). A group becomes a Host when it hosts at least one event
  in the RSVP file.
* event -> ``events.csv``: id = eventId *as a string* (Chicago mixes numeric ids with ids such as
  ``wgrqklyvgbjc``), host_id = groupId, start_time = eventTime (epoch ms, UTC) as ISO 8601 with
  ``+00:00``, lat/lon = the venue's, city/country = the crawl's. Title, description, category,
  tags, end time, price, capacity and created_at are empty because the crawl has none of them.
* RSVP -> ``registrations.csv``: ``yes`` -> going, ``no`` -> declined, ``waitlist`` -> waitlist,
  ``watching`` -> watching; at = rsvpTime. Some rsvpTime values lie years before the event
  (recurring series keep their first RSVP date); they are kept as they are, since that is when the
  member said yes as far as the data knows.
* membership -> ``follows.csv`` with an empty ``at``: the crawl has no join date, so a membership
  counts as known at every temporal cutoff (as ``gnn.history`` treats timeless facts). That is an
  optimistic bias for anything that uses follows in a time split (a membership may have begun
  after the cutoff); the only alternative would be dropping memberships altogether.

What is deliberately *not* mapped:

* ``eventYesRSVPCount`` is the event's yes count at crawl time (April 2016), i.e. it includes RSVPs
  made after any cutoff we would evaluate at. Storing it as an event property would leak the
  future into popularity features; popularity is computed from REGISTERED edges before the cutoff.
* ``rsvpRating`` is not a rating: in Chicago it is 1 for every yes/waitlist/watching RSVP and 0 for
  every ``no`` (20 826 / 2 089, no other value), i.e. a copy of the response. Mapping it to RATED
  would add a second, redundant copy of the registrations that looks like explicit feedback.
* ``eventDay`` / ``eventPeriod`` are derived from eventTime (local time); ``venueId`` has no place
  in the schema (the venue's coordinates become the event's location, so "same venue" is still
  visible as "same point").

Decisions on messy rows (nothing disappears silently):

* Several RSVPs of one member to one event: only the latest (by rsvpTime, then by line) is kept,
  because Meetup stores one current answer per member and event and a later answer replaces the
  earlier one. The superseded rows go to ``rejects/import.csv`` with the line they lost to.
  (Chicago has none; other crawls may.)
* Venue ``0.0, 0.0`` is Meetup's "no venue / hidden venue" value, not a point in the Gulf of
  Guinea. Such an event gets the coordinates of its group's most common venue (the venue with
  the most of the group's events; ties -> the smaller venueId) when the group has one, because
  groups mostly meet at the same places. In Chicago 368 of 9 133 events have no venue and only
  27 of them belong to a group with a known venue; the other 341 are written with empty lat/lon,
  so the loader rejects them (lat/lon required) and their 419 RSVPs (408 of them yes) with
  reasons, instead of us inventing a location (a city centre would fake distances). A member
  at ``0.0, 0.0`` is likewise written with empty lat/lon.
* Values that do not parse (a non-numeric time or coordinate, an unknown response) are written
  through unchanged, so the loader rejects the row and says which field broke which rule.
* The importer itself drops only what it cannot map at all, each into ``rejects/import.csv`` with
  a reason: lines with the wrong number of fields, rows without a memberId / eventId (the keys
  everything hangs on), superseded duplicate RSVPs, and memberships whose member or group does
  not appear in the RSVP file (a member without RSVPs has no home location, so cannot be a User;
  a group without events in this city is not a Host of this dataset — in Chicago that is 7 486 of
  12 096 memberships, which point at 2 745 groups with no Chicago event in the crawl).

Accounting: every RSVP line ends up either as one ``registrations.csv`` row or one
``rejects/import.csv`` row; the same for membership lines and ``follows.csv``. The loader then
splits each written file into loaded rows and ``rejects/<file>.csv`` (it rewrites only its own
files there, so ``rejects/import.csv`` stays).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

RSVP_COLUMNS = (
    "memberId", "memberLat", "memberLon", "eventId", "eventTime", "eventYesRSVPCount", "groupId",
    "venueId", "venueLat", "venueLon", "rsvpTime", "rsvpResponse", "rsvpRating", "eventDay",
    "eventPeriod",
)  # fmt: skip
MEMBERSHIP_COLUMNS = ("userId", "groupId")

#: Meetup's rsvpResponse -> the registration status of the input format.
STATUS = {"yes": "going", "no": "declined", "waitlist": "waitlist", "watching": "watching"}

#: Output columns, in the order of the input-format table (DESIGN.md).
USER_COLUMNS = (
    "id", "name", "birth_year", "gender", "locale", "city", "lat", "lon", "joined_at",
)  # fmt: skip
HOST_COLUMNS = ("id", "name", "kind", "user_id")
EVENT_COLUMNS = (
    "id", "host_id", "title", "description", "category", "tags", "start_time", "end_time",
    "price", "currency", "capacity", "lat", "lon", "city", "country", "created_at",
)  # fmt: skip
REGISTRATION_COLUMNS = ("user_id", "event_id", "at", "status")
FOLLOW_COLUMNS = ("user_id", "host_id", "at")
REJECT_COLUMNS = ("source", "line", "reason", "record")

#: The cities of the published ACDA crawl, by the code used in their file names. Any other code
#: works too; its label is then the code, titled, and its country empty unless given.
KNOWN_CITIES: dict[str, tuple[str, str]] = {
    "chicago": ("Chicago", "US"),
    "ny": ("New York", "US"),
    "sfo": ("San Francisco", "US"),
    "dc": ("Washington", "US"),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class MeetupImport:
    """What :func:`convert_meetup` wrote, for the CLI summary and for tests."""

    out: Path
    city: str
    country: str
    rsvp_lines: int = 0
    membership_lines: int = 0
    #: rows written per output file (without the header), e.g. ``{"users": 8118, ...}``
    rows: dict[str, int] = field(default_factory=dict)
    #: import rejects per reason kind (``duplicate_rsvp``, ``membership_unknown_group``, ...)
    rejects: Counter[str] = field(default_factory=Counter)
    events_without_venue: int = 0
    events_venue_from_group: int = 0

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


@dataclass
class _Rsvp:
    line: int
    fields: dict[str, str]
    time_key: float  # rsvpTime as a number (-inf when it does not parse) for "latest" ordering


def meetup_files(source: Path, city: str) -> tuple[Path, Path | None]:
    """The RSVP file (required) and the membership file (optional) of ``city`` in ``source``."""
    code = city.strip().lower()
    rsvp = source / f"rsvp_{code}.csv"
    if not rsvp.is_file():
        found = sorted(p.name for p in source.glob("rsvp_*.csv")) if source.is_dir() else []
        hint = f" (found: {', '.join(found)})" if found else ""
        raise FileNotFoundError(f"no {rsvp.name} in {source}{hint}")
    groups = source / f"user_group_{code}.csv"
    return rsvp, groups if groups.is_file() else None


def ms_to_iso(raw: str) -> str:
    """Epoch milliseconds (UTC) -> ISO 8601 with ``+00:00``; anything else is returned as is.

    Integer arithmetic (timedelta of ms), so no float rounding; an unparseable value passes
    through unchanged for the loader to reject with a reason.
    """
    text = raw.strip()
    try:
        ms = int(text)
    except ValueError:
        return raw
    try:
        at = _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return raw
    return at.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _coordinates(lat: str, lon: str) -> tuple[str, str]:
    """Meetup's ``0,0`` (no location) -> empty strings; everything else passes through as is."""
    la, lo = _number(lat), _number(lon)
    if la == 0.0 and lo == 0.0:
        return "", ""
    return lat.strip(), lon.strip()


def _valid_point(lat: str, lon: str) -> bool:
    la, lo = _number(lat), _number(lon)
    return (
        la is not None
        and lo is not None
        and not (la == 0.0 and lo == 0.0)
        and -90 <= la <= 90
        and -180 <= lo <= 180
    )


def _read(
    path: Path, columns: tuple[str, ...]
) -> Iterator[tuple[int, list[str], list[str] | None]]:
    """(line number, raw fields, wanted fields) per data row; wanted is None for a bad width.

    The header must name every column in ``columns`` (else the file is not in this format at
    all, and that is an error, not a reject); extra columns are allowed and ignored.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path.name}: header lacks column(s) {', '.join(missing)}")
        order = [header.index(c) for c in columns]
        width = len(header)
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line (e.g. at the end of the file) is not a record
            wanted = [row[i].strip() for i in order] if len(row) == width else None
            yield reader.line_num, row, wanted


def _width_reason(path: Path, row: list[str]) -> str:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        width = len(next(csv.reader(fh)))
    return f"line: expected {width} fields (as the header), got {len(row)}"


def _record(fields: list[str]) -> str:
    """A row as one CSV line, for the ``record`` column of the reject file."""
    from io import StringIO

    buf = StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> int:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def convert_meetup(
    source: Path,
    city: str,
    out: Path,
    *,
    city_label: str | None = None,
    country: str | None = None,
) -> MeetupImport:
    """Convert one city's Meetup files in ``source`` into the dataset folder ``out``.

    ``city`` is the code in the file names (``chicago`` for ``rsvp_chicago.csv``). ``city_label``
    and ``country`` name the city on users and events (defaults: :data:`KNOWN_CITIES`, else the
    code titled and no country). Existing output files are overwritten, so a re-run gives the
    same folder. See the module docstring for the mapping and every decision it takes.
    """
    code = city.strip().lower()
    rsvp_path, group_path = meetup_files(source, code)
    known_label, known_country = KNOWN_CITIES.get(code, (code.title(), ""))
    label = city_label or known_label
    country_name = known_country if country is None else country
    result = MeetupImport(out=out, city=label, country=country_name)
    rejects: list[dict[str, str]] = []

    def reject(source_name: str, line: int, kind: str, reason: str, fields: list[str]) -> None:
        result.rejects[kind] += 1
        rejects.append(
            {"source": source_name, "line": str(line), "reason": reason, "record": _record(fields)}
        )

    # --- read the RSVPs; keep the latest answer per (member, event) ---------------------------
    latest: dict[tuple[str, str], _Rsvp] = {}
    superseded: list[_Rsvp] = []
    for line, row, wanted in _read(rsvp_path, RSVP_COLUMNS):
        result.rsvp_lines += 1
        if wanted is None:
            reject(rsvp_path.name, line, "bad_line", _width_reason(rsvp_path, row), row)
            continue
        fields = dict(zip(RSVP_COLUMNS, wanted, strict=True))
        if not fields["memberId"] or not fields["eventId"]:
            which = "memberId" if not fields["memberId"] else "eventId"
            reject(rsvp_path.name, line, "missing_id", f"{which}: empty", row)
            continue
        t = _number(fields["rsvpTime"])
        rsvp = _Rsvp(line, fields, t if t is not None else -math.inf)
        key = (fields["memberId"], fields["eventId"])
        previous = latest.get(key)
        if previous is None:
            latest[key] = rsvp
        elif (rsvp.time_key, rsvp.line) > (previous.time_key, previous.line):
            superseded.append(previous)
            latest[key] = rsvp
        else:
            superseded.append(rsvp)
    for old in superseded:
        winner = latest[(old.fields["memberId"], old.fields["eventId"])]
        reject(
            rsvp_path.name, old.line, "duplicate_rsvp",
            f"rsvp: superseded by the member's later answer to this event (line {winner.line})",
            [old.fields[c] for c in RSVP_COLUMNS],
        )  # fmt: skip
    kept = sorted(latest.values(), key=lambda r: r.line)  # file order: stable, diff-friendly

    # --- users and events take their attributes from their latest RSVP row ---------------------
    # (within one crawl they are constant per member / event; "latest" only settles conflicts)
    member_row: dict[str, _Rsvp] = {}
    event_row: dict[str, _Rsvp] = {}
    for r in kept:
        for index, key in ((member_row, r.fields["memberId"]), (event_row, r.fields["eventId"])):
            cur = index.get(key)
            if cur is None or (r.time_key, r.line) > (cur.time_key, cur.line):
                index[key] = r

    users = []
    for member_id in dict.fromkeys(r.fields["memberId"] for r in kept):  # first seen
        f = member_row[member_id].fields
        lat, lon = _coordinates(f["memberLat"], f["memberLon"])
        users.append(
            {"id": member_id, "name": "", "birth_year": "", "gender": "", "locale": "",
             "city": label, "lat": lat, "lon": lon, "joined_at": ""}
        )  # fmt: skip

    # The group's most common venue with real coordinates, counted over the group's events.
    venue_events: dict[str, Counter[str]] = {}
    venue_point: dict[str, tuple[str, str]] = {}
    for r in event_row.values():
        f = r.fields
        if f["groupId"] and _valid_point(f["venueLat"], f["venueLon"]):
            venue_events.setdefault(f["groupId"], Counter())[f["venueId"]] += 1
            venue_point.setdefault(f["venueId"], (f["venueLat"], f["venueLon"]))
    group_venue: dict[str, tuple[str, str]] = {}
    for group_id, counts in venue_events.items():
        venue = min(counts, key=lambda v: (-counts[v], _sort_id(v)))
        group_venue[group_id] = venue_point[venue]

    events = []
    for event_id in dict.fromkeys(r.fields["eventId"] for r in kept):
        f = event_row[event_id].fields
        lat, lon = _coordinates(f["venueLat"], f["venueLon"])
        if not lat and not lon:
            result.events_without_venue += 1
            if f["groupId"] in group_venue:
                lat, lon = group_venue[f["groupId"]]
                result.events_venue_from_group += 1
        # eventYesRSVPCount is deliberately not written: it is the count at crawl time, so at
        # any earlier cutoff it would tell the model about RSVPs that had not happened yet.
        events.append(
            {"id": event_id, "host_id": f["groupId"], "title": "", "description": "",
             "category": "", "tags": "", "start_time": ms_to_iso(f["eventTime"]),
             "end_time": "", "price": "", "currency": "", "capacity": "", "lat": lat,
             "lon": lon, "city": label, "country": country_name, "created_at": ""}
        )  # fmt: skip

    group_ids = sorted({e["host_id"] for e in events if e["host_id"]}, key=_sort_id)
    hosts = [{"id": g, "name": "", "kind": "organisation", "user_id": ""} for g in group_ids]

    registrations = [
        {
            "user_id": r.fields["memberId"],
            "event_id": r.fields["eventId"],
            "at": ms_to_iso(r.fields["rsvpTime"]),
            # an unknown answer passes through unchanged, so the loader names it in its reject
            "status": STATUS.get(r.fields["rsvpResponse"].lower(), r.fields["rsvpResponse"]),
        }
        for r in kept
    ]

    # --- memberships -> follows ----------------------------------------------------------------
    follows: list[dict[str, str]] = []
    if group_path is not None:
        hosts_known = set(group_ids)
        seen: dict[tuple[str, str], int] = {}
        for line, row, wanted in _read(group_path, MEMBERSHIP_COLUMNS):
            result.membership_lines += 1
            if wanted is None:
                reject(group_path.name, line, "bad_line", _width_reason(group_path, row), row)
                continue
            user_id, group_id = wanted
            if not user_id or not group_id:
                which = "userId" if not user_id else "groupId"
                reject(group_path.name, line, "missing_id", f"{which}: empty", row)
            elif user_id not in member_row:
                reject(
                    group_path.name, line, "membership_unknown_member",
                    "userId: member has no RSVP in the city's file (no home location, no User)",
                    row,
                )  # fmt: skip
            elif group_id not in hosts_known:
                reject(
                    group_path.name, line, "membership_unknown_group",
                    "groupId: group hosts no event in the city's RSVP file (not a Host here)",
                    row,
                )  # fmt: skip
            elif (user_id, group_id) in seen:
                reject(
                    group_path.name, line, "duplicate_membership",
                    f"membership: repeats line {seen[(user_id, group_id)]}", row,
                )  # fmt: skip
            else:
                seen[(user_id, group_id)] = line
                follows.append({"user_id": user_id, "host_id": group_id, "at": ""})

    # --- write -----------------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    result.rows["users"] = _write(out / "users.csv", USER_COLUMNS, users)
    result.rows["hosts"] = _write(out / "hosts.csv", HOST_COLUMNS, hosts)
    result.rows["events"] = _write(out / "events.csv", EVENT_COLUMNS, events)
    result.rows["registrations"] = _write(
        out / "registrations.csv", REGISTRATION_COLUMNS, registrations
    )
    follows_path = out / "follows.csv"
    if group_path is not None:
        result.rows["follows"] = _write(follows_path, FOLLOW_COLUMNS, follows)
    elif follows_path.exists():
        follows_path.unlink()  # left by an earlier run with a membership file: not ours now
    reject_path = out / "rejects" / "import.csv"
    if rejects:
        reject_path.parent.mkdir(parents=True, exist_ok=True)
        _write(reject_path, REJECT_COLUMNS, rejects)
    elif reject_path.exists():
        reject_path.unlink()
    return result


def _sort_id(value: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the others alphabetically (deterministic ties)."""
    return (0, int(value), "") if value.isdigit() else (1, 0, value)
