"""Progress of a long command (``kap12 verify --reexecute``, ``kap12 arkiv``): one line on stderr
that counts up while the command works, shown only when stderr is a terminal. In a pipe, a cron
job's mail or a log file there is nothing but the result."""
from __future__ import annotations

from typing import TextIO

import click


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None):
        self.label = label
        self.stream = stream if stream is not None else click.get_text_stream("stderr")
        isatty = getattr(self.stream, "isatty", None)
        self.active = bool(isatty and isatty())

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if self.active:
            # \r and "erase line": the counter rewrites itself instead of scrolling.
            self.stream.write(f"\r\x1b[K{self.label}: {done}/{total} {what}".rstrip())
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
