"""The check-in table: plain text in a code block, so it lines up in every Discord client.

    +-------+---------+
    | User  | Arrived |
    +-------+---------+
    | alice | ON TIME |
    | bob   | +02:10  |
    | carol | OUT     |
    | dave  | --:--   |
    +-------+---------+

Names are cleaned first: emoji become `:short_name:` (they are two columns wide and misalign the
table), wide characters count double, and backticks, which would close the code block, are replaced.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytunes.gather.events import clock_text

NAME_MIN, NAME_MAX, STATUS_MIN = 4, 21, 7
ON_TIME, OUT, MISSING = "ON TIME", "OUT", "--:--"
FENCE = "```"


@dataclass(frozen=True)
class Row:
    user: int
    lateness: float | None = None  # None: not arrived
    out: bool = False

    @property
    def status(self) -> str:
        if self.out:
            return OUT
        if self.lateness is None:
            return MISSING
        return ON_TIME if self.lateness == 0 else f"+{clock_text(self.lateness)}"


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clean_name(name: str | None, user: int) -> str:
    """A display name fit for the table: emoji spelled out, at most 21 columns, never empty."""
    parts: list[str] = []
    for char in name or "":
        category = unicodedata.category(char)
        if category in ("Mn", "Me", "Cf", "Cc", "Cs") or unicodedata.name(char, "").startswith(
            "EMOJI MODIFIER"
        ):
            continue  # joiners, variation selectors, skin tones, control characters
        if category == "So":
            parts.append(f":{unicodedata.name(char, 'emoji').lower().replace(' ', '_')}:")
        else:
            parts.append("'" if char == "`" else char)
    cleaned = " ".join("".join(parts).split())
    if not cleaned:
        cleaned = f"User {user}"
    if width(cleaned) <= NAME_MAX:
        return cleaned
    cut = ""
    for char in cleaned:
        if width(cut + char) > NAME_MAX - 1:
            break
        cut += char
    return cut + "…"


def ordered(rows: Iterable[Row], names: Mapping[int, str]) -> list[Row]:
    """Arrived (least late first), then out, then missing; names break ties, so the order is stable."""

    def key(row: Row) -> tuple[int, float, str, int]:
        name = names.get(row.user, "").casefold()
        if row.out:
            return (1, 0.0, name, row.user)
        if row.lateness is None:
            return (2, 0.0, name, row.user)
        return (0, row.lateness, name, row.user)

    return sorted(rows, key=key)


def pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def table_lines(rows: list[Row], names: Mapping[int, str]) -> tuple[list[str], list[str], str]:
    """(head lines, one line per row, closing border), each line already padded and bordered."""
    shown = [clean_name(names.get(r.user), r.user) for r in rows]
    name_w = min(max([NAME_MIN, *(width(n) for n in shown)]), NAME_MAX)
    status_w = max([STATUS_MIN, *(len(r.status) for r in rows)])
    border = f"+{'-' * (name_w + 2)}+{'-' * (status_w + 2)}+"
    head = [border, f"| {pad('User', name_w)} | {pad('Arrived', status_w)} |", border]
    body = [f"| {pad(n, name_w)} | {pad(r.status, status_w)} |" for n, r in zip(shown, rows, strict=True)]
    return head, body, border


def render(rows: list[Row], names: Mapping[int, str]) -> str:
    """The whole table as one code block."""
    head, body, border = table_lines(rows, names)
    return "\n".join([FENCE, *head, *body, border, FENCE])


def block_size(lines: list[str]) -> int:
    return len(FENCE) * 2 + 2 + sum(len(line) for line in lines) + max(len(lines) - 1, 0)


def split(
    rows: list[Row], names: Mapping[int, str], *, chunk: int = 1024, budget: int = 5000, blocks: int = 20
) -> list[str]:
    """The table as code blocks of at most `chunk` characters each (one per embed field), at most
    `blocks` of them and `budget` characters in all; rows that don't fit are counted in a last line."""
    head, body, border = table_lines(rows, names)
    done: list[list[str]] = []
    current = list(head)
    for index, line in enumerate(body):
        # Every accepted line leaves room for the closing border and a "… and N more" line after it,
        # so stopping is always possible without breaking a limit.
        later = len(body) - index - 1
        reserve = [border, f"… and {later} more"] if later else [border]
        spent = sum(block_size(b) for b in done)
        if block_size([*current, line, *reserve]) <= chunk:
            if spent + block_size([*current, line, *reserve]) <= budget:
                current.append(line)
                continue
        elif len(done) + 1 < blocks and spent + block_size(current) + block_size([line, *reserve]) <= budget:
            done.append(current)
            current = [line]
            continue
        current.append(f"… and {len(body) - index} more")
        break
    current.append(border)
    return [f"{FENCE}\n" + "\n".join(lines) + f"\n{FENCE}" for lines in [*done, current]]
