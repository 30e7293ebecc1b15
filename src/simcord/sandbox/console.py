"""The real terminal's side of the sandbox: reading stdin without blocking, and keeping the prompt tidy."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any


def stdin_reader() -> asyncio.StreamReader:
    """Lines of sys.stdin as a StreamReader fed by a daemon thread.

    A thread rather than `connect_read_pipe`: that puts the (shared) tty into non-blocking mode, which
    makes prints to stdout fail with BlockingIOError, and it refuses stdin redirected from a file.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()

    def hand_over(callback: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while we were blocked in readline
            loop.call_soon_threadsafe(callback, *args)

    def pump() -> None:
        try:
            # sys.stdin is None when the process was started without one (pythonw, some services).
            for line in iter(sys.stdin.buffer.readline if sys.stdin else bytes, b""):
                hand_over(reader.feed_data, line)
        finally:
            hand_over(reader.feed_eof)

    threading.Thread(target=pump, name="sandbox-stdin", daemon=True).start()
    return reader


class Screen:
    """Output plus the prompt.

    `interactive` (stdout is a terminal and ours): the prompt stays on the input line and output that
    arrives while it is shown is drawn above it. `echo` (input that the terminal does not echo, such
    as a piped script): each line is repeated after its prompt so the transcript reads as a dialogue.
    """

    def __init__(self, write: Callable[[str], None], *, interactive: bool, echo: bool = False) -> None:
        self.write = write
        self.interactive = interactive
        self.echo = echo
        self._prompt = ""
        self._prompt_shown = False

    def show(self, text: str) -> None:
        if self._prompt_shown:
            sys.stdout.write("\r\x1b[K")
        self.write(text)
        if self._prompt_shown:
            sys.stdout.write(self._prompt)
            sys.stdout.flush()

    def prompt(self, text: str) -> None:
        self._prompt = text
        if self.interactive:
            sys.stdout.write(text)
            sys.stdout.flush()
            self._prompt_shown = True
        elif not self.echo:
            self.write(text)

    def line_entered(self, line: str | None) -> None:
        """`line` as read, or None at end of input."""
        if self.interactive:
            self._prompt_shown = False
            if line is None or self.echo:
                sys.stdout.write(f"{line or ''}\n")
        elif self.echo and line is not None:
            self.write(self._prompt + line)
