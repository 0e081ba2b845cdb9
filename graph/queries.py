"""Named Cypher queries, kept as ``graph/cypher/<name>.cypher`` files.

A query file holds one statement, or several separated by lines that end in ``;`` (schema
files). Values always travel as parameters (``$name``); nothing is ever formatted into the text.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def query(name: str) -> str:
    """The text of ``graph/cypher/<name>.cypher``."""
    text = resources.files("graph").joinpath(f"cypher/{name}.cypher").read_text(encoding="utf-8")
    return text.strip().rstrip(";")


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file, comments (``//``) dropped."""
    lines = [ln for ln in query(name).splitlines() if not ln.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
