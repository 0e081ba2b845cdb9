"""Execute a notebook with nbclient and read values back out of its kernel.

Used by ``tests/test_notebooks.py``; kept separate so the test module holds only what each notebook
needs prepared and checked. The kernel is the ``python3`` kernelspec that ipykernel installs into
the virtual environment (jupyter_client starts it with the interpreter running the tests), so it
sees the same packages and inherits this process's environment: set ``EVENTGRAPH_*`` variables
(``monkeypatch.setenv``) before calling :func:`execute_notebook` to point the notebook at a server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import find_kernel_specs
from nbclient import NotebookClient

KERNEL_NAME = "python3"
_PROBE_MARK = "__notebook_probe__="


@dataclass
class ExecutedNotebook:
    """An executed copy of a notebook (never written back to the repository)."""

    path: Path
    notebook: nbformat.NotebookNode
    seconds: float
    #: The probe expressions' values, evaluated in the kernel after the last cell (JSON types).
    values: dict[str, Any] = field(default_factory=dict)

    def outputs(self) -> list[nbformat.NotebookNode]:
        return [out for cell in self.notebook.cells for out in cell.get("outputs", [])]

    def count_mime(self, mime: str) -> int:
        """How many outputs carry ``mime`` (e.g. ``image/png`` for an inline matplotlib figure)."""
        return sum(1 for out in self.outputs() if mime in out.get("data", {}))

    def text(self) -> str:
        """Every stream and plain-text output, joined (for messages such as printed numbers)."""
        parts = []
        for out in self.outputs():
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "text/plain" in out.get("data", {}):
                parts.append(out["data"]["text/plain"])
        return "\n".join(parts)


def kernel_available(name: str = KERNEL_NAME) -> bool:
    return name in find_kernel_specs()


def has_outputs(notebook: nbformat.NotebookNode) -> bool:
    """True when any code cell has outputs or an execution count (i.e. was saved executed)."""
    return any(
        cell.get("outputs") or cell.get("execution_count") is not None
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def execute_notebook(
    path: Path,
    *,
    cwd: Path,
    timeout: float = 300,
    probes: Mapping[str, str] | None = None,
) -> ExecutedNotebook:
    """Run every cell of ``path`` in a fresh kernel started in ``cwd``; raise on the first error.

    ``probes`` maps names to Python expressions evaluated in the kernel after the notebook's last
    cell; their values (which must be JSON-serialisable) come back in ``values``. An error in a
    cell raises ``nbclient.exceptions.CellExecutionError`` with the cell's source and traceback.
    """
    if not kernel_available():
        raise RuntimeError(
            f"no {KERNEL_NAME!r} kernelspec found (ipykernel provides it: pip install ipykernel)"
        )
    notebook = nbformat.read(path, as_version=4)
    n_cells = len(notebook.cells)
    if probes:
        body = ", ".join(f"{json.dumps(name)}: ({expr})" for name, expr in probes.items())
        notebook.cells.append(
            nbformat.v4.new_code_cell(
                f"import json as _json\nprint({_PROBE_MARK!r} + _json.dumps({{{body}}}))"
            )
        )
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        startup_timeout=120,
        resources={"metadata": {"path": str(cwd)}},
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    values: dict[str, Any] = {}
    if probes:
        probe = notebook.cells.pop()
        text = "".join(out.get("text", "") for out in probe.get("outputs", []))
        line = next(ln for ln in text.splitlines() if ln.startswith(_PROBE_MARK))
        values = json.loads(line[len(_PROBE_MARK) :])
    assert len(notebook.cells) == n_cells
    return ExecutedNotebook(path=path, notebook=notebook, seconds=seconds, values=values)
