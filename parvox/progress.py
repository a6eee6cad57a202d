"""Progress bars (rate and ETA) for long work, and markdown summary tables."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, unit: str = "it", total: int | None = None,
             enabled: bool = True) -> Iterable[T]:
    """Wrap ``items`` in a progress bar on stderr showing count, rate and ETA."""
    if not enabled:
        return items
    return tqdm(items, desc=desc, unit=unit, total=total, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5, smoothing=0.1)


def progress_bar(total: int, *, desc: str, unit: str = "it", enabled: bool = True,
                 initial: int = 0) -> tqdm:
    """A manual progress bar (call ``update(n)``) on stderr with rate and ETA, starting at
    ``initial`` done (a resumed run: its rate and ETA count only the work of this run)."""
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5, smoothing=0.1, disable=not enabled)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; floats are shown with 3 decimals."""

    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
