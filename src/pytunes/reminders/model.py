"""Reminders as plain data: limits, the note's safety, and the retry policy. No Discord, no database."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

NOTE_MAX = 1000
TARGETS_MAX = 3
RETRY_WINDOW_SECONDS = 24 * 3600.0  # how long a failing delivery keeps being retried
FIRST_RETRY_SECONDS = 30.0
RETRY_CAP_SECONDS = 3600.0
DELIVERY_KEY_LENGTH = 20  # hex characters; Discord allows nonces of up to 25

PENDING = "pending"
SENDING = "sending"


class ReminderError(ValueError):
    """Bad input, said in words for the user; nothing was stored."""


@dataclass(frozen=True)
class Reminder:
    id: int
    guild_id: int
    channel_id: int
    owner_id: int  # who the reminder is for (the first target of `notify you`)
    scheduler_id: int  # who created it
    targets: tuple[int, ...]  # everyone pinged on delivery, owner first
    note: str | None
    source_message_id: int | None  # the bot's confirmation message: replied to and linked on delivery
    created_at: float  # epoch seconds
    due_at: float
    next_attempt_at: float
    state: str
    attempts: int
    first_attempt_snowflake: int | None  # Discord id bound: where to look for an earlier send
    delivery_key: str  # the message nonce: one per reminder, identical on every attempt

    @property
    def for_others(self) -> bool:
        return self.targets != (self.scheduler_id,)

    @property
    def attempted(self) -> bool:
        """An earlier attempt may have reached Discord, so a retry must check before sending again."""
        return self.first_attempt_snowflake is not None


def new_delivery_key() -> str:
    return secrets.token_hex(DELIVERY_KEY_LENGTH // 2)


def check_note(note: str | None) -> str | None:
    """The note to store (None for none), or ReminderError when it is too long."""
    if note is None or not note.strip():
        return None
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ReminderError(f"The note is {len(note)} characters long; the limit is {NOTE_MAX}.")
    return note


_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>|@(everyone|here)")


def neutralise(text: str) -> str:
    """Text that cannot ping anyone or break out of a code block, whatever the user typed.

    Mentions are defused with a zero-width space (they still read the same) and code fences are split.
    Deliveries also restrict `allowed_mentions` to the targets; this is the second line of defence,
    for clients that render the note outside a code block (notification previews, for one).
    """

    def defuse(match: re.Match[str]) -> str:
        return match.group(0).replace("@", "@\u200b").replace("<#", "<\u200b#")

    return _MENTION.sub(defuse, text).replace("```", "`\u200b`\u200b`")


def next_retry(now: float, due_at: float, attempts: int) -> float | None:
    """When to try again after `attempts` failed tries, or None once the retry window is used up.

    Exponential from 30 s, capped at an hour: a short Discord outage is ridden out within minutes,
    a long one costs at most 24 attempts a day.
    """
    delay = min(FIRST_RETRY_SECONDS * 2.0 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    at = now + delay
    if at > due_at + RETRY_WINDOW_SECONDS:
        return None
    return at


def parse_reminder_id(text: str) -> int | None:
    """`#12` or `12` → 12."""
    text = text.strip().removeprefix("#")
    return int(text) if text.isdigit() and len(text) < 12 else None
