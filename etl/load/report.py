"""What a load did: rows read, loaded and rejected per file, the write path, and the speed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: ``bulk``: neo4j-admin offline import into the empty local database; ``merge``: batched
#: ``UNWIND ... MERGE`` transactions; ``none``: nothing was written (``--strict`` with rejects).
WritePath = Literal["bulk", "merge", "none"]


@dataclass
class FileReport:
    """One input file. ``seconds`` is its share of the load's time (reading, validating and
    writing; the bulk import's time is shared among the files by rows)."""

    name: str
    source: str
    read: int
    loaded: int
    rejected: int
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LoadReport:
    """The result of :func:`etl.load.load_dataset`."""

    directory: Path
    path: WritePath
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    strict_failed: bool = False
    rejects_dir: Path | None = None
    #: wall time of the phases (read, validate, write, bulk import, server stop/start, ...)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def rows_per_s(self) -> float:
        """Rows read per second of the whole load (reading, validating and writing)."""
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "path": self.path,
            "seconds": round(self.seconds, 3),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_per_s": round(self.rows_per_s, 1),
            "strict_failed": self.strict_failed,
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "files": [
                {
                    "name": f.name,
                    "source": f.source,
                    "read": f.read,
                    "loaded": f.loaded,
                    "rejected": f.rejected,
                    "seconds": round(f.seconds, 3),
                }
                for f in self.files
            ],
        }
