"""What reputation messages look like. Sizes are bounded by construction: a history page of five
entries with the longest possible reasons stays under Discord's 6,000-character embed total without
`make_embed` having to drop a single entry."""

from __future__ import annotations

import discord

from pytunes.core.replies import Tone, error_embed, make_embed
from pytunes.reputation.model import (
    REASON_MAX,
    Board,
    Given,
    Period,
    Ranked,
    Refusal,
    RepEntry,
    RepSettings,
    Revoked,
    describe_duration,
    neutralise_mentions,
)

# Five entries of at most ~1,030 characters each, plus title, description and footer, stay below 6,000.
ENTRY_VALUE_MAX = 1000
AMOUNT = {1: "+1 💚", -1: "-1 💔"}
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def signed(total: int) -> str:
    return f"{total:+d}" if total else "0"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def quote(text: str, limit: int) -> str:
    """`text` as a block quote of at most `limit` characters. Reasons are neutralised when stored; doing it
    again here keeps older rows (or rows written by other tools) from pinging anyone either."""
    shown = neutralise_mentions(text)
    if len(shown) > REASON_MAX:
        shown = shown[: REASON_MAX - 1] + "…"
    quoted = "\n".join(f"> {line}" for line in shown.splitlines() or [""])
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def refusal(reason: Refusal) -> discord.Embed:
    return error_embed(reason.text, title=reason.title)


def given(outcome: Given) -> discord.Embed:
    rep = outcome.rep
    up = rep.value > 0
    return make_embed(
        "✅  Reputation Increased" if up else "❌  Reputation Decreased",
        tone=Tone.SUCCESS if up else Tone.ERROR,
        fields=[
            ("Given by", f"<@{rep.giver_id}>", True),
            ("-->", "\u200b", True),
            ("Target", f"<@{rep.receiver_id}>", True),
            ("Amount", AMOUNT[rep.value], True),
            ("\u200b", "\u200b", True),
            ("Current rep", f"`{signed(outcome.receiver_total)}`", True),
            ("Reason", quote(rep.reason, ENTRY_VALUE_MAX), False),
        ],
        footer=f"Rep #{outcome.rep_id}",
    )


def history_page(user_id: int, entries: list[RepEntry], total: int, count: int) -> discord.Embed:
    fields = [
        (
            f"#{e.rep_id} · {AMOUNT.get(e.value, signed(e.value))}",
            quote_entry(e),
            False,
        )
        for e in entries
    ]
    return make_embed(
        "📜  Reputation logs",
        f"**👤 User:** <@{user_id}>",
        fields=fields,
        footer=f"📊 Overall rep: {signed(total)} | 📑 Reps: {count}",
    )


def quote_entry(entry: RepEntry) -> str:
    head = f"from <@{entry.giver_id}> · <t:{int(entry.created_at)}:d>\n"
    return head + quote(entry.reason, ENTRY_VALUE_MAX - len(head))


def history_empty(user_id: int) -> discord.Embed:
    return make_embed(
        "📜  Reputation logs",
        f"**👤 User:** <@{user_id}>\n\nThis user has no reputation yet.",
    )


def board_line(entry: Ranked) -> str:
    marker = MEDALS.get(entry.rank, f"**#{entry.rank}**")
    return f"{marker} <@{entry.user_id}> `{signed(entry.total)}` ({plural(entry.reps, 'rep')})"


def board(period: Period, page: Board) -> discord.Embed:
    lines = [board_line(e) for e in page.top]
    if page.layout.hidden:
        lines.append(f"⋯ *{plural(page.layout.hidden, 'more user')} in between* ⋯")
    lines.extend(board_line(e) for e in page.bottom)
    return make_embed(
        f"🏆  Reputation leaderboard · {period.label}",
        "\n".join(lines),
        footer=f"👥 Ranked users: {page.ranked}",
    )


def board_empty(period: Period, prefix: str) -> discord.Embed:
    text = (
        "No reputation has been given out yet."
        if period is Period.ALL
        else f"No reputation was given in the {period.label}."
    )
    return make_embed(
        f"🏆  Reputation leaderboard · {period.label}",
        text,
        footer=f"Be the first: {prefix}+rep @someone <reason>",
    )


def settings(current: RepSettings, prefix: str) -> discord.Embed:
    cooldown = describe_duration(current.cooldown_seconds) if current.cooldown_seconds else "off"
    return make_embed(
        "⚙️  Reputation settings",
        fields=[
            ("Cooldown per person", f"{cooldown} between two reps from one member to the same person", False),
            ("Daily budget", f"{plural(current.daily_budget, 'rep')} per member per rolling 24 hours", False),
        ],
        footer=f"Change: {prefix}rep config cooldown 10m · {prefix}rep config budget 10",
    )


def revoked(outcome: Revoked) -> discord.Embed:
    return make_embed(
        "🗑️  Rep revoked",
        f"Rep #{outcome.rep_id} ({AMOUNT.get(outcome.value, signed(outcome.value))} from "
        f"<@{outcome.giver_id}> to <@{outcome.receiver_id}>) was revoked by <@{outcome.revoked_by}>.\n"
        f"<@{outcome.receiver_id}>'s reputation is now `{signed(outcome.receiver_total)}`.",
        tone=Tone.WARNING,
    )
