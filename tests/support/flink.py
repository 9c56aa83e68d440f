"""Where the PyFlink virtualenv is: the Flink job runs in its own interpreter (see `make setup`)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLINK_PYTHON = REPO / "streaming" / ".venv" / "bin" / "python"
