"""User-facing errors.

Every problem a user can cause (a bad file, a bad flag, missing data) is raised as a
:class:`ParvoxError` whose message is one line naming the culprit. The CLI prints that line
and exits non-zero without a traceback.
"""

from __future__ import annotations

import os


class ParvoxError(Exception):
    """An error caused by user input, reported as one line without a traceback."""


class DataError(ParvoxError):
    """A dataset file is missing, unreadable or malformed. The message is one line whatever
    ``problem`` holds: decoders' own messages (quoted in it) may end in or hold line breaks
    (libheif's do), which become spaces."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = " ".join(line.strip() for line in problem.splitlines() if line.strip())
        super().__init__(f"{self.path}: {self.problem}")
