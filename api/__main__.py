"""``python -m api --host H --port P [--model DIR]``: the API in the foreground (``serve --detach``
starts this in the background)."""

from __future__ import annotations

import argparse
from pathlib import Path

from api.cli import run

parser = argparse.ArgumentParser(prog="python -m api")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8000)
parser.add_argument("--model", type=Path, default=None)
parser.add_argument("--log-level", default="info")
args = parser.parse_args()
run(args.host, args.port, args.model, args.log_level)
