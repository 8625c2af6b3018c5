"""What every command prints: JSON on stdout, so scripts read the answer and stderr carries logs.

Its own module because the commands share it and the command line (`ingest_app/cli.py`) loads
the commands: a command never imports the command line.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
