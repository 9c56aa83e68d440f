"""A query over days the lake does not hold says which days it holds (issue 13, item 10)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tools import query
from tools.local.lake import lake_days, write_lake


def record(event_id: str, created_at: str) -> dict[str, str | int]:
    return {"eventId": event_id, "action": "viewDoc", "userId": "u1", "objectId": "o1", "bizId": "b1",
            "createdAt": created_at, "receivedAt": created_at, "schemaVersion": 1}  # fmt: skip


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    # Jan 1-3 and Jan 10: a quiet week in between.
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-10"]
    write_lake(tmp_path, [record(f"e{n}", f"{day}T12:00:00.000Z") for n, day in enumerate(days)])
    return tmp_path


def test_the_lake_days_come_from_the_partition_folders(lake: Path) -> None:
    assert lake_days(lake) == [date(2026, 1, d) for d in (1, 2, 3, 10)]
    assert query.day_runs(lake_days(lake)) == [(date(2026, 1, 1), date(2026, 1, 3)), (date(2026, 1, 10),) * 2]


@pytest.mark.parametrize(
    ("first", "last", "note"),
    [
        ("2025-01-01", "2025-01-31", "no event in 2025-01-01 to 2025-01-31: the lake at {lake} holds events on "
                                     "2026-01-01 to 2026-01-03, 2026-01-10"),
        ("2025-12-25", "2026-01-02", "the lake at {lake} holds events from 2026-01-01 to 2026-01-10; "
                                     "nothing on 2025-12-25 to 2025-12-31"),
        ("2025-12-31", "2026-01-12", "the lake at {lake} holds events from 2026-01-01 to 2026-01-10; "
                                     "nothing on 2025-12-31, 2026-01-11 to 2026-01-12"),
        ("2026-01-01", "2026-01-10", None),  # a quiet day inside the lake is no news
        ("2026-01-04", "2026-01-09", "no event in 2026-01-04 to 2026-01-09: the lake at {lake} holds events on "
                                     "2026-01-01 to 2026-01-03, 2026-01-10"),
    ],
)  # fmt: skip
def test_a_range_past_the_lake_is_named_on_stderr_and_the_rows_still_print(
    lake: Path, capsys: pytest.CaptureFixture[str], first: str, last: str, note: str | None
) -> None:
    code = query.main(["dau", "--lake", str(lake), "--param", f"from_date={first}", "--param", f"to_date={last}"])
    printed = capsys.readouterr()
    assert code == 0 and "row" in printed.out
    assert printed.err == ("" if note is None else f"note: {note.format(lake=lake)}\n")
