"""Reputation rules, free of Discord and the database: who may rep whom, with what reason, how often, and
how the leaderboard is laid out (docs/commands.md, 'Reputation': per guild, no bot targets, a bounded
reason, a daily budget, and refusals that say when to try again).

Times are seconds since the epoch (the bot's clock). Refusals carry the text the user sees; a time in it
is a Discord timestamp (`<t:…:R>`), which every client shows in the reader's own zone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

REASON_MAX = 300
DEFAULT_COOLDOWN_SECONDS = 600
DEFAULT_DAILY_BUDGET = 10
BUDGET_WINDOW_SECONDS = 86_400
COOLDOWN_MAX_SECONDS = 86_400
BUDGET_MAX = 1000
DAY = 86_400

HISTORY_PAGE_SIZE = 5
SUMMARY_TOP = 5
SUMMARY_BOTTOM = 5
DETAIL_PAGE_SIZE = 10


class Period(Enum):
    """Which reps a leaderboard counts: all of them, or those of the rolling last 30 or 7 days."""

    ALL = "all"
    MONTH = "30d"
    WEEK = "7d"

    @property
    def seconds(self) -> int | None:
        return {Period.ALL: None, Period.MONTH: 30 * DAY, Period.WEEK: 7 * DAY}[self]

    @property
    def label(self) -> str:
        return {Period.ALL: "all time", Period.MONTH: "last 30 days", Period.WEEK: "last 7 days"}[self]


@dataclass(frozen=True)
class RepSettings:
    """Per-guild limits, changed by admins with `rep config`."""

    cooldown_seconds: int = DEFAULT_COOLDOWN_SECONDS
    daily_budget: int = DEFAULT_DAILY_BUDGET


@dataclass(frozen=True)
class Source:
    """What created a rep: the `!+rep` message, or the `/add_rep` interaction."""

    channel_id: int
    message_id: int | None = None
    interaction_id: int | None = None

    def __post_init__(self) -> None:
        if (self.message_id is None) == (self.interaction_id is None):
            raise ValueError("a rep comes from exactly one message or one interaction")


@dataclass(frozen=True)
class NewRep:
    guild_id: int
    giver_id: int
    receiver_id: int
    value: int
    reason: str
    source: Source


@dataclass(frozen=True)
class Given:
    rep_id: int
    rep: NewRep
    created_at: float
    receiver_total: int


@dataclass(frozen=True)
class RepEntry:
    """One rep as the history shows it."""

    rep_id: int
    giver_id: int
    value: int
    reason: str
    created_at: float


@dataclass(frozen=True)
class Revoked:
    rep_id: int
    guild_id: int
    giver_id: int
    receiver_id: int
    value: int
    revoked_by: int
    receiver_total: int


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1-based
    user_id: int
    total: int
    reps: int


class RefusalKind(Enum):
    SELF = "self"
    BOT = "bot"
    NO_REASON = "no reason"
    LONG_REASON = "long reason"
    COOLDOWN = "cooldown"
    BUDGET = "budget"
    BAD_SETTING = "bad setting"
    BAD_ID = "bad id"
    NOT_FOUND = "not found"
    ALREADY_REVOKED = "already revoked"


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    title: str
    text: str
    retry_at: float | None = None  # when the same request can succeed, for time-based refusals


def relative(ts: float) -> str:
    """A Discord relative timestamp; rounded up so it never promises a moment too early."""
    return f"<t:{math.ceil(ts)}:R>"


def describe_duration(seconds: int) -> str:
    """10 minutes, 1 hour 30 minutes, 45 seconds."""
    if seconds <= 0:
        return "no time"
    parts = []
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(parts)


# ------------------------------------------------------------------------------------------ giving


def check_target(giver_id: int, receiver_id: int, *, receiver_is_bot: bool) -> Refusal | None:
    if giver_id == receiver_id:
        return Refusal(RefusalKind.SELF, "🚫  Invalid target", "You can't give reputation to yourself.")
    if receiver_is_bot:
        return Refusal(
            RefusalKind.BOT, "🚫  Invalid target", "Bots don't collect reputation; pick a person instead."
        )
    return None


# `@` followed by what Discord would turn into a ping: @everyone, @here, <@id>, <@!id>, <@&role>.
_PING = re.compile(r"@(?=everyone|here|[!&]?\d)")
ZERO_WIDTH_SPACE = "\u200b"


def neutralise_mentions(text: str) -> str:
    """The text with every ping defused: it reads the same, but a zero-width space stops Discord from
    treating it as a mention, wherever the text is shown later (embed, message content, logs)."""
    return _PING.sub("@" + ZERO_WIDTH_SPACE, text)


def clean_reason(raw: str) -> str | Refusal:
    """The reason as stored: trimmed, 1–300 characters (counted as the user typed them), pings defused."""
    text = raw.strip()
    if not text:
        return Refusal(
            RefusalKind.NO_REASON,
            "🚫  Reason required",
            f"Say why after the user: a reason of 1–{REASON_MAX} characters.",
        )
    if len(text) > REASON_MAX:
        return Refusal(
            RefusalKind.LONG_REASON,
            "🚫  Reason too long",
            f"Your reason has {len(text)} characters; the limit is {REASON_MAX}. Shorten it and try again.",
        )
    return neutralise_mentions(text)


def check_limits(
    now: float,
    settings: RepSettings,
    receiver_id: int,
    *,
    last_to_receiver: float | None,
    given_last_day: Sequence[float],
) -> Refusal | None:
    """The pair cooldown and the giver's rolling 24 h budget.

    `last_to_receiver` is the giver's newest rep to this receiver (any sign), `given_last_day` the times of
    all the giver's reps in (now − 24 h, now], oldest first. When both limits apply, the one that lasts
    longer is reported: its time is when the giver can actually succeed.
    """
    refusals: list[Refusal] = []
    if last_to_receiver is not None and now < last_to_receiver + settings.cooldown_seconds:
        retry = last_to_receiver + settings.cooldown_seconds
        refusals.append(
            Refusal(
                RefusalKind.COOLDOWN,
                "🚫  Too fast",
                f"You gave <@{receiver_id}> reputation {relative(last_to_receiver)}; each person can be "
                f"repped once every {describe_duration(settings.cooldown_seconds)}. "
                f"You can rep them again {relative(retry)}.",
                retry,
            )
        )
    recent = [t for t in given_last_day if t > now - BUDGET_WINDOW_SECONDS]
    if len(recent) >= settings.daily_budget:
        # The budget frees up when enough of the oldest reps have left the 24 h window; if an admin
        # lowered the budget, more than one has to leave.
        retry = sorted(recent)[len(recent) - settings.daily_budget] + BUDGET_WINDOW_SECONDS
        refusals.append(
            Refusal(
                RefusalKind.BUDGET,
                "🚫  Daily limit reached",
                f"You have given {len(recent)} reps in the last 24 hours; this server allows "
                f"{settings.daily_budget}. You can give another {relative(retry)}.",
                retry,
            )
        )
    return max(refusals, key=lambda r: r.retry_at or 0.0, default=None)


# ------------------------------------------------------------------------------------------ settings

_DURATION = re.compile(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?", re.IGNORECASE)


def parse_cooldown(text: str) -> int | Refusal:
    """`10m`, `90s`, `1h30m`, a bare number of minutes, or `0`/`off` for no cooldown."""
    raw = text.strip().lower()
    bad = Refusal(
        RefusalKind.BAD_SETTING,
        "🚫  Invalid cooldown",
        f"`{clip_plain(text, 40)}` is not a duration. Use e.g. `10m`, `90s`, `1h30m` or `off`; "
        f"at most {describe_duration(COOLDOWN_MAX_SECONDS)}.",
    )
    if raw in {"off", "none"}:
        return 0
    if raw.isdigit():
        seconds = int(raw) * 60
    else:
        match = _DURATION.fullmatch(raw)
        if not raw or match is None or not any(match.groups()):
            return bad
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds > COOLDOWN_MAX_SECONDS:
        return bad
    return seconds


def parse_budget(text: str) -> int | Refusal:
    raw = text.strip()
    if raw.isdigit() and 1 <= int(raw) <= BUDGET_MAX:
        return int(raw)
    return Refusal(
        RefusalKind.BAD_SETTING,
        "🚫  Invalid budget",
        f"`{clip_plain(text, 40)}` is not a number of reps from 1 to {BUDGET_MAX} per 24 hours.",
    )


def parse_rep_id(text: str) -> int | Refusal:
    raw = text.strip().removeprefix("#")
    if raw.isdigit() and 0 < int(raw) < 2**31:
        return int(raw)
    return Refusal(
        RefusalKind.BAD_ID,
        "🚫  Invalid rep number",
        f"`{clip_plain(text, 40)}` is not a rep number; the history (`reps @user`) shows them, e.g. `#12`.",
    )


def no_such_rep(rep_id: int) -> Refusal:
    return Refusal(RefusalKind.NOT_FOUND, "🚫  No such rep", f"There is no rep #{rep_id} in this server.")


def already_revoked(rep_id: int, revoked_at: float, revoked_by: int | None) -> Refusal:
    by = f" by <@{revoked_by}>" if revoked_by else ""
    return Refusal(
        RefusalKind.ALREADY_REVOKED,
        "🚫  Already revoked",
        f"Rep #{rep_id} was revoked {relative(revoked_at)}{by}; nothing changed.",
    )


def clip_plain(text: str, limit: int) -> str:
    """User text echoed inside inline code: bounded, without backticks or pings."""
    cleaned = neutralise_mentions(text.replace("`", "'"))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------ layout


@dataclass(frozen=True)
class BoardPage:
    """Which ranks a leaderboard page shows: `top` as (offset, count) from rank 1, then, on the summary
    page of a board with more than 10 users, the last `bottom` ranks after a separator for `hidden`."""

    top: tuple[int, int]
    bottom: int = 0
    hidden: int = 0


@dataclass(frozen=True)
class Board:
    """One leaderboard page as read in one go: how many are ranked, the layout, and the rows it shows."""

    ranked: int
    layout: BoardPage
    top: list[Ranked]
    bottom: list[Ranked]


def board_pages(ranked: int) -> int:
    """Page 1 summarises (top 5, bottom 5); detail pages of 10 start at rank 6 when there are more than 10."""
    if ranked == 0:
        return 0
    if ranked <= SUMMARY_TOP + SUMMARY_BOTTOM:
        return 1
    return 1 + math.ceil((ranked - SUMMARY_TOP) / DETAIL_PAGE_SIZE)


def board_page(ranked: int, page: int) -> BoardPage:
    """The layout of page `page` (0-based, clamped to the pages there are)."""
    page = min(max(page, 0), max(board_pages(ranked) - 1, 0))
    if page == 0:
        if ranked <= SUMMARY_TOP + SUMMARY_BOTTOM:
            return BoardPage(top=(0, ranked))
        return BoardPage(
            top=(0, SUMMARY_TOP), bottom=SUMMARY_BOTTOM, hidden=ranked - SUMMARY_TOP - SUMMARY_BOTTOM
        )
    offset = SUMMARY_TOP + (page - 1) * DETAIL_PAGE_SIZE
    return BoardPage(top=(offset, min(DETAIL_PAGE_SIZE, ranked - offset)))


def history_pages(count: int) -> int:
    return math.ceil(count / HISTORY_PAGE_SIZE)
