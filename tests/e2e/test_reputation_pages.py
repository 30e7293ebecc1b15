"""Reputation history and leaderboard through simcord: layout, windows, pagination (clicks acknowledged and
applied in order by the core click stream), and per-server isolation."""

from __future__ import annotations

import asyncio

from pytunes.reputation.model import DAY
from simcord import Outcome
from tests.e2e.conftest import BotWorld
from tests.e2e.reputation_world import (
    field,
    labels,
    next_day,
    open_room,
    page_label,
    rep_number,
    rooms,
    say,
    seed,
)

__all__ = ["next_day"]  # the autouse fixture, used by name


async def test_history_pages_newest_first_fit_discord_and_follow_clicks_in_order(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=13)
    receiver, *givers = room.members
    # Longest reasons with a line break every few characters: quoting makes them longer still.
    reason = ("ab\n" * 100)[:300]
    numbers = [
        rep_number(await say(w, g, room.channel, f"!+rep {receiver.mention} {reason}")) for g in givers
    ]
    stranger = givers[0]

    pages = await say(w, receiver, room.channel, "!reps")
    embed = pages.embeds[0]
    assert embed["description"] == f"**👤 User:** {receiver.mention}"
    assert [f["name"] for f in embed["fields"]] == [f"#{n} · +1 💚" for n in numbers[::-1][:5]]
    assert all(
        f["value"].startswith(f"from <@{g.id}>") for f, g in zip(embed["fields"], givers[::-1], strict=False)
    )
    assert embed["footer"]["text"] == "📊 Overall rep: +12 | 📑 Reps: 12"
    assert labels(pages) == [("⬅️ Previous", True), ("1/3", True), ("Next ➡️", False)]

    refused = await stranger.click(pages, "Next ➡️")
    notice = await w.sim.wait_for(lambda: [m for m in refused.followups if m.ephemeral])
    assert "Only the person who ran this command can navigate the list" in notice[0].content
    clicks = [await receiver.click(pages, "Next ➡️") for _ in range(2)]
    await asyncio.gather(*(c.wait_settled() for c in clicks))
    assert all(c.outcome is Outcome.ACKNOWLEDGED for c in clicks)
    await w.sim.wait_for(lambda: page_label(pages.to_json()) == "3/3")
    assert [page_label(v) for v in pages.history] == ["1/3", "2/3"]
    assert [f["name"] for f in pages.embeds[0]["fields"]] == [f"#{n} · +1 💚" for n in numbers[1::-1]]
    assert labels(pages)[-1] == ("Next ➡️", True)
    await (await receiver.click(pages, "⬅️ Previous")).wait_settled()
    await w.sim.wait_for(lambda: page_label(pages.to_json()) == "2/3")

    # Two minutes without a click: the buttons go, the page stays.
    await w.sim.wait_for(lambda: 120 in w.clock.pending())
    await w.clock.advance(120)
    await w.sim.wait_for(lambda: pages.components == [])
    assert not pages.deleted

    single = await say(w, givers[0], room.channel, f"!repinfo {givers[1].mention}")
    assert single.components == []
    assert "no reputation yet" in single.text()


async def test_leaderboard_layout_windows_and_detail_pages(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=1)
    people = [w.sim.create_user(f"ranked{next(rooms)}") for _ in range(16)]
    for i, person in enumerate(people, start=1):
        await seed(w, room, person.id, i)  # person i has +i: the 16th leads the recent boards
    await seed(w, room, people[0].id, 20, ago=10 * DAY)  # in the 30-day board, not in the 7-day one
    await seed(w, room, people[1].id, 30, ago=40 * DAY)  # all-time only

    board = await say(w, room.owner, room.channel, "!leaderboard")
    lines = board.embeds[0]["description"].splitlines()
    assert board.embeds[0]["title"] == "🏆  Reputation leaderboard · all time"
    assert lines[0] == f"🥇 {people[1].mention} `+32` (32 reps)"
    assert lines[1] == f"🥈 {people[0].mention} `+21` (21 reps)"
    assert lines[2] == f"🥉 {people[15].mention} `+16` (16 reps)"
    assert lines[3].startswith("**#4** ")
    assert lines[5] == "⋯ *6 more users in between* ⋯"
    assert [line.split()[0] for line in lines[6:]] == ["**#12**", "**#13**", "**#14**", "**#15**", "**#16**"]
    assert lines[-1] == f"**#16** {people[2].mention} `+3` (3 reps)"
    assert board.embeds[0]["footer"]["text"] == "👥 Ranked users: 16"
    assert labels(board) == [("⬅️ Previous", True), ("1/3", True), ("Next ➡️", False)]
    await (await room.owner.click(board, "Next ➡️")).wait_settled()
    await w.sim.wait_for(lambda: page_label(board.to_json()) == "2/3")
    detail = board.embeds[0]["description"].splitlines()
    assert [line.split()[0] for line in detail] == [f"**#{r}**" for r in range(6, 16)]
    await (await room.owner.click(board, "Next ➡️")).wait_settled()
    await w.sim.wait_for(lambda: page_label(board.to_json()) == "3/3")
    assert board.embeds[0]["description"].splitlines() == [f"**#16** {people[2].mention} `+3` (3 reps)"]

    month = await room.owner.run_slash(room.channel, "rep_leaderboard", period="30d")
    await w.sim.wait_for(lambda: month.response is not None and month.response.embeds)
    assert month.response is not None
    assert month.response.embeds[0]["title"].endswith("last 30 days")
    assert (
        month.response.embeds[0]["description"].splitlines()[0] == f"🥇 {people[0].mention} `+21` (21 reps)"
    )
    week = await say(w, room.owner, room.channel, "!toprep 7d")
    assert week.embeds[0]["description"].splitlines()[0] == f"🥇 {people[15].mention} `+16` (16 reps)"
    assert week.embeds[0]["description"].splitlines()[-1] == f"**#16** {people[0].mention} `+1` (1 rep)"
    # The windows roll with the bot's clock.
    await w.clock.advance(7 * DAY)
    assert (
        "No reputation was given in the last 7 days."
        in (await say(w, room.owner, room.channel, "!reptop 7d")).text()
    )


async def test_leaderboard_burst_of_clicks_is_acked_and_applied_in_order(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=1)
    for user_id in range(1, 46):
        await seed(w, room, 10_000 + user_id, 1)
    board = await say(w, room.owner, room.channel, "!leaderboard")
    assert labels(board)[1] == ("1/5", True)
    clicks = [await room.owner.click(board, "Next ➡️") for _ in range(4)]
    await asyncio.gather(*(c.wait_settled() for c in clicks))
    assert all(c.outcome is Outcome.ACKNOWLEDGED and (c.ack_latency or 0) < 3 for c in clicks)
    await w.sim.wait_for(lambda: page_label(board.to_json()) == "5/5")
    assert [page_label(v) for v in board.history] == ["1/5", "2/5", "3/5", "4/5"]
    assert board.embeds[0]["description"].splitlines()[-1].startswith("**#45** ")


async def test_small_empty_and_bad_boards(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=1)
    empty = await say(w, room.owner, room.channel, "!leaderboard")
    assert "No reputation has been given out yet." in empty.text()
    assert "!+rep" in empty.embeds[0]["footer"]["text"]
    for user_id in range(1, 8):
        await seed(w, room, 20_000 + user_id, 8 - user_id)
    seven = await say(w, room.owner, room.channel, "!leaderboard all")
    lines = seven.embeds[0]["description"].splitlines()
    assert [line.split()[0] for line in lines] == ["🥇", "🥈", "🥉", "**#4**", "**#5**", "**#6**", "**#7**"]
    assert seven.components == [], "one page: no buttons at all, not even disabled ones"
    bad = await say(w, room.owner, room.channel, "!leaderboard year")
    assert "Usage" in bad.text()


async def test_guilds_are_isolated(bot_world: BotWorld) -> None:
    w = bot_world
    one, two = await open_room(w, members=2), await open_room(w, members=0)
    bob, carol = one.members
    for person in (bob, carol):
        w.sim.add_member(two.guild, person)
    await w.sim.wait_for(lambda: (g := w.bot.get_guild(two.guild.id)) is not None and g.get_member(carol.id))
    first = rep_number(await say(w, bob, one.channel, f"!+rep {carol.mention} in one"))
    # Same pair, other server, straight away: no cooldown carries over, and the totals are separate.
    second = await say(w, bob, two.channel, f"!-rep {carol.mention} in two")
    assert field(second, "Current rep") == "`-1`"
    assert f"{carol.mention} `+1`" in (await say(w, bob, one.channel, "!leaderboard")).text()
    assert f"{carol.mention} `-1`" in (await say(w, bob, two.channel, "!leaderboard")).text()
    history = await say(w, carol, two.channel, "!reps")
    assert f"#{rep_number(second)}" in history.text()
    assert f"#{first}" not in history.text()
    assert "Reps: 1" in history.text()
