"""Importers: map public data formats onto the eventgraph input format (DESIGN.md).

An importer only *converts*: it writes a dataset folder (users.csv, events.csv, ...) that the
project's loader (:mod:`etl.load`) then validates and loads like any other dataset. Keeping the
two apart means an imported dataset can be inspected, diffed and re-loaded without the source
files, and every validation rule lives in one place (the loader), not once per source format.
"""

from etl.importers.meetup import MeetupImport, convert_meetup, meetup_files

__all__ = ["MeetupImport", "convert_meetup", "meetup_files"]
