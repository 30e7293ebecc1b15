"""What a gathering looks like: its message in each phase, its buttons, and the stats embed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import discord

from pytunes.core.replies import EMBED_TOTAL_MAX, Tone, embed_size, make_embed
from pytunes.core.views import ButtonSpec, render_view
from pytunes.gather import table
from pytunes.gather.events import Action, EndReason, Phase, clock_text
from pytunes.gather.state import Gathering
from pytunes.gather.stats import MemberStats
from pytunes.gather.timeparse import humanize

TITLE = "📣  Voice Channel Gathering"


@dataclass(frozen=True)
class Where:
    gathering_id: int
    voice_channel_id: int
    label: str | None = None


def custom_id(gathering_id: int, action: Action) -> str:
    return f"gather:{gathering_id}:{action.value}"


def parse_custom_id(value: str) -> tuple[int, Action] | None:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "gather" or not parts[1].isdigit():
        return None
    try:
        return int(parts[1]), Action(parts[2])
    except ValueError:
        return None


def view(g: Gathering, where: Where) -> discord.ui.View | None:
    def button(label: str, action: Action, style: discord.ButtonStyle) -> ButtonSpec:
        return ButtonSpec(label, custom_id(where.gathering_id, action), style)

    if g.phase is Phase.COUNTDOWN:
        return render_view(
            [
                [
                    button("Start now", Action.START_NOW, discord.ButtonStyle.primary),
                    button("Cancel", Action.CANCEL, discord.ButtonStyle.danger),
                ],
                [
                    button("Join gathering", Action.JOIN, discord.ButtonStyle.success),
                    button("Leave gathering", Action.LEAVE, discord.ButtonStyle.secondary),
                ],
            ]
        )
    if g.phase is Phase.CHECKIN:
        mute = "🔔 Unmute pings" if g.silent else "🔕 Mute pings"
        return render_view(
            [
                [
                    button("I'm here!", Action.HERE, discord.ButtonStyle.success),
                    button("I'm out", Action.OUT, discord.ButtonStyle.secondary),
                    button(mute, Action.MUTE, discord.ButtonStyle.secondary),
                    button("Cancel", Action.CANCEL, discord.ButtonStyle.danger),
                ]
            ]
        )
    return None


def footer(g: Gathering, names: Mapping[int, str]) -> str | None:
    if g.end_reason is EndReason.COMPLETE:
        return "All checked in. Gathering complete."
    if g.end_reason is EndReason.TIMED_OUT:
        return "Gathering timed out."
    if g.end_reason is EndReason.CANCELLED:
        who = names.get(g.ended_by or 0)
        return f"Cancelled by {table.clean_name(who, g.ended_by or 0)}." if who else "Cancelled."
    return None


def message(g: Gathering, where: Where, names: Mapping[int, str], now: float) -> list[discord.Embed]:
    """The embeds of the gathering message as of `now`."""
    if g.started_at is None:
        return countdown_embeds(g, where, names, now)
    return [checkin_embed(g, where, names, now)]


def countdown_embeds(g: Gathering, where: Where, names: Mapping[int, str], now: float) -> list[discord.Embed]:
    listed = sorted(g.listed, key=lambda u: (table.clean_name(names.get(u), u).casefold(), u))
    lines = [f"{i}. <@{u}>" for i, u in enumerate(listed, start=1)]
    attendees = make_embed(
        f"👥  Attendees ({len(listed)})",
        "\n".join(lines) or "_Nobody yet: join the voice channel or press **Join gathering**._",
        tone=Tone.ATTENDEES,
    )
    ends = g.countdown_ends_at or now
    text = [
        f"<@{g.organizer}> scheduled a gathering {where.label or ''} in <#{where.voice_channel_id}>.".replace(
            "  ", " "
        ),
        f"Time remaining: **{humanize(max(ends - now, 0))}**",
        f"Starts at: <t:{int(ends)}:T> (<t:{int(ends)}:R>)",
    ]
    if g.extension:
        total = (g.countdown or 0) + g.extension
        text.append(f"Extended by: **{humanize(g.extension)}** (total **{humanize(total)}**)")
    text.append(
        "\nWhen the countdown ends, everyone on the list who is in the voice channel is checked in; "
        "whoever comes later is stamped with how late they were."
    )
    info = make_embed(TITLE, "\n".join(text), tone=Tone.INFO, footer=footer(g, names))
    if g.ended:
        attendees.set_footer(text=footer(g, names))
    return [attendees, info]


def checkin_embed(g: Gathering, where: Where, names: Mapping[int, str], now: float) -> discord.Embed:
    assert g.started_at is not None
    grace_ends = g.grace_ends_at or g.started_at
    if g.ended:
        header = f"Gathering in <#{where.voice_channel_id}>, started <t:{int(g.started_at)}:t>."
        tone = Tone.SUCCESS if g.end_reason is not EndReason.CANCELLED else Tone.MUTED
    elif g.in_grace(now):
        header = (
            f"Grace period: **{clock_text(grace_ends - now)}** remaining "
            f"(counting starts at {clock_text(grace_ends - g.started_at)}).\n"
            f"Join <#{where.voice_channel_id}> to check in."
        )
        tone = Tone.INFO
    else:
        header = (
            f"Counting from the start: elapsed **{clock_text(now - g.started_at)}**.\n"
            f"Late arrivals get their time from the start. Join <#{where.voice_channel_id}> to check in."
        )
        tone = Tone.PAUSED
    total = len(g.expected)
    lines = [
        header,
        f"Ghost pings: {'🔕 off' if g.silent else '🔔 on'}",
        f"Attendance: **{len(g.arrived)}/{total}**",
    ]
    embed = make_embed(TITLE, "\n".join(lines), tone=tone, footer=footer(g, names))
    rows = [table.Row(u, lateness=g.arrived.get(u)) for u in g.expected]
    rows += [table.Row(u, out=True) for u in g.out]
    rows = table.ordered(rows, {u: table.clean_name(names.get(u), u) for u in {r.user for r in rows}})
    budget = EMBED_TOTAL_MAX - embed_size(embed) - 100  # field names and a margin
    for index, block in enumerate(table.split(rows, names, budget=budget)):
        embed.add_field(name="Check-in" if index == 0 else "\u200b", value=block, inline=False)
    return embed


def extended(actor: int, seconds: float, g: Gathering) -> discord.Embed:
    ends = g.countdown_ends_at or 0
    total = (g.countdown or 0) + g.extension
    return make_embed(
        "⏱️  Gathering extended",
        f"<@{actor}> extended the countdown by **{humanize(seconds)}**.\n"
        f"New total: **{humanize(total)}**\nStarts at: <t:{int(ends)}:T> (<t:{int(ends)}:R>)",
        tone=Tone.INFO,
    )


def stats_embed(
    member: MemberStats, member_name: str, top: list[MemberStats], names: Mapping[int, str], period: str
) -> discord.Embed:
    if member.gatherings:
        rate = member.on_time_rate
        median = member.median_lateness
        mine = (
            f"Gatherings: **{member.gatherings}**\n"
            f"On time: **{'—' if rate is None else f'{rate:.0%}'}** ({member.on_time} of {member.counted})\n"
            f"Median lateness: **{'—' if median is None else ('on time' if median == 0 else '+' + clock_text(median))}**\n"
            f"No-shows: **{member.missed}** · Said they were out: **{member.out}**"
        )
    else:
        mine = "_No finished gatherings yet._"
    lines = []
    for rank, stats in enumerate(top, start=1):
        name = table.clean_name(names.get(stats.user), stats.user)
        lines.append(
            f"{rank}. **{name}** — {stats.on_time_rate or 0:.0%} on time ({stats.counted}), "
            f"{stats.missed} no-show{'' if stats.missed == 1 else 's'}"
        )
    return make_embed(
        f"📊  Gather stats · {period}",
        None,
        tone=Tone.INFO,
        fields=[
            (table.clean_name(member_name, member.user), mine),
            ("Most punctual", "\n".join(lines) or "_Nobody yet._"),
        ],
    )
