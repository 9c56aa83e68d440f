"""Argument types the command-line tools share, so each states an input's form the same way."""

from __future__ import annotations

import argparse
from datetime import date


def iso_day(text: str) -> date:
    """A `YYYY-MM-DD` argument as a date; argparse reports anything else with the form expected."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
