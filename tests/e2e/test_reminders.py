"""Reminders through simcord: every time format and refusal, time zones across a DST change, delivery
(mentions, reply, nonce), retries with backoff, giving up with a DM, list, remove and limits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from simcord import Message, SimUser
from tests.e2e.community_world import Community, community

# Saturday 27 March 2027, 11:00 UTC = 12:00 in Prague (CET). Clocks there go forward the next night.
DST_EVE = datetime(2027, 3, 27, 11, 0, tzinfo=UTC).timestamp()
PRAGUE = ZoneInfo("Europe/Prague")


@pytest.fixture(scope="module")
async def w(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Community]:
    async with community(
        tmp_path_factory.mktemp("reminders"), start=DST_EVE, reminder_max_pending=25
    ) as world:
        yield world


async def slash(w: Community, who: SimUser, command: str, /, **options: object) -> Message:
    record = await who.run_slash(w.general, command, **options)
    await record.wait_settled()
    response: Message = await w.sim.wait_for(lambda: record.response if record.response else None)
    return response


def due_of(message: Message) -> int:
    match = re.search(r"<t:(\d+):F>", message.text())
    assert match, message.text()
    return int(match.group(1))


def id_of(message: Message) -> int:
    match = re.search(r"`#(\d+)`", message.text())
    assert match, message.text()
    return int(match.group(1))


def local(*args: int) -> int:
    return int(datetime(*args, tzinfo=PRAGUE).timestamp())  # type: ignore[misc]


async def delivered(w: Community, reminder_id: int, timeout: float = 5.0) -> Message:
    channel = w.general
    return await w.sim.wait_for_message(
        channel,
        lambda m: (
            w.from_bot(m)
            and any(e.get("footer", {}).get("text") == f"Reminder #{reminder_id}" for e in m.embeds)
        ),
        timeout=timeout,
    )


async def timer_armed(w: Community, seconds: float) -> None:
    """Wait until something (normally the reminder timer) sleeps at most `seconds` from now."""
    await w.sim.wait_for(lambda: any(left <= seconds + 0.01 for left in w.clock.pending()))


def deliveries(w: Community, reminder_id: int) -> list[Message]:
    return [
        m
        for m in w.sim.messages(w.general, include_deleted=True)
        if any(e.get("footer", {}).get("text") == f"Reminder #{reminder_id}" for e in m.embeds)
    ]


async def test_time_zone_and_dst(w: Community) -> None:
    reply = await slash(w, w.alice, "notify tz", zone="europe/prague")
    assert "Europe/Prague" in reply.text()
    assert "12:00" in reply.text(), "it is noon in Prague at the start"
    assert w.rows("SELECT timezone FROM user_timezones WHERE user_id = ?", w.alice.id) == [("Europe/Prague",)]

    # `tomorrow` keeps the wall-clock time: 12:00 CEST on Sunday is only 23 hours away.
    tomorrow = await slash(w, w.alice, "notify me", time="tomorrow", note="dst tomorrow")
    assert due_of(tomorrow) == local(2027, 3, 28, 12, 0)
    assert due_of(tomorrow) - DST_EVE == 23 * 3600
    # `1d` is a duration: exactly 24 hours.
    day = await slash(w, w.alice, "notify me", time="1d", note="dst one day")
    assert due_of(day) - DST_EVE == 24 * 3600
    # Dates on either side of the change use that day's offset.
    before = await slash(w, w.alice, "notify me", time="27-03-2027 18:30", note="dst before")
    assert due_of(before) == int(datetime(2027, 3, 27, 17, 30, tzinfo=UTC).timestamp())
    after = await slash(w, w.alice, "notify me", time="28-03-2027 18:30", note="dst after")
    assert due_of(after) == int(datetime(2027, 3, 28, 16, 30, tzinfo=UTC).timestamp())

    # Bob has no zone of his own: the server's applies once set, else the bot's default (UTC).
    utc = await slash(w, w.bob, "notify me", time="18:30", note="bob utc")
    assert due_of(utc) == int(datetime(2027, 3, 27, 18, 30, tzinfo=UTC).timestamp())
    refused = await slash(w, w.bob, "notify servertz", zone="Asia/Tokyo")
    assert "Manage Server" in refused.text()
    await slash(w, w.mod, "notify servertz", zone="Asia/Tokyo")
    tokyo = await slash(w, w.bob, "notify me", time="2027-03-28T09:00", note="bob tokyo")
    assert due_of(tokyo) == int(datetime(2027, 3, 28, 0, 0, tzinfo=UTC).timestamp())

    # Delivery happens at the instant: nothing at 23 h minus a second, the reminder at 23 h.
    await w.sim.wait_for(lambda: w.clock.pending())
    await w.clock.advance(23 * 3600 - 1)
    assert deliveries(w, id_of(tomorrow)) == []
    await w.clock.advance(1)
    message = await delivered(w, id_of(tomorrow))
    assert "dst tomorrow" in message.text()
    for earlier in (before, utc, tokyo):
        assert len(deliveries(w, id_of(earlier))) == 1
    assert deliveries(w, id_of(day)) == []
    assert deliveries(w, id_of(after)) == []
    await timer_armed(w, 3600)
    await w.clock.advance(3600)
    await delivered(w, id_of(day))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10m", lambda now: now + 600),
        ("1h30m", lambda now: now + 5400),
        ("1h 30m", lambda now: now + 5400),
        ("2 days 4 hours", lambda now: now + 2 * 86400 + 4 * 3600),
        ("1mo", lambda now: now + 30 * 86400),
        ("week", lambda now: now + 7 * 86400),
        ("1-1-2028", lambda now: local(2028, 1, 1, 9, 0)),
        ("01-01-2028 18:30", lambda now: local(2028, 1, 1, 18, 30)),
        ("01-01-2028_18:30", lambda now: local(2028, 1, 1, 18, 30)),
        ("2028-01-01T18:30", lambda now: local(2028, 1, 1, 18, 30)),
        ("2028-01-01T18:30+00:00", lambda now: int(datetime(2028, 1, 1, 18, 30, tzinfo=UTC).timestamp())),
    ],
)
async def test_every_time_format(w: Community, typed: str, expected: object) -> None:
    now = int(w.clock.now())
    reply = await slash(w, w.alice, "notify me", time=typed, note=f"format {typed}")
    assert reply.embeds[0]["title"] == "🔔  Notification created"
    assert due_of(reply) == expected(now)  # type: ignore[operator]
    assert f"<t:{due_of(reply)}:R>" in reply.text(), "relative time shown too"
    stored = w.rows("SELECT due_ms FROM reminders WHERE id = ?", id_of(reply))
    assert stored == [(due_of(reply) * 1000,)]


async def test_clock_time_is_the_next_occurrence(w: Community) -> None:
    now = datetime.fromtimestamp(w.clock.now(), PRAGUE)
    later = (now.hour + 1) % 24
    reply = await slash(w, w.alice, "notify me", time=f"{later:02d}:{now.minute:02d}", note="clock next")
    assert 0 < due_of(reply) - w.clock.now() <= 3600
    earlier = (now.hour - 1) % 24
    reply = await slash(
        w, w.alice, "notify me", time=f"{earlier:02d}:{now.minute:02d}", note="clock tomorrow"
    )
    assert 22 * 3600 <= due_of(reply) - w.clock.now() <= 24 * 3600


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0m", "not a time I understand"),
        ("soon", "not a time I understand"),
        ("10 min", "not a time I understand"),
        ("31-02-2028", "not a time I understand"),
        ("1-1-2020", "in the past"),
        ("2020-01-01T10:00", "in the past"),
        ("13mo", "more than a year ahead"),
        ("1-1-2040 10:00", "more than a year ahead"),
    ],
)
async def test_refused_times_store_nothing(w: Community, typed: str, reason: str) -> None:
    count = w.rows("SELECT count(*) FROM reminders")
    typed_message = await w.alice.send(w.general, f"!notify me {typed} refused")
    reply = await w.reply_to(typed_message)
    assert reply.embeds[0]["title"] == "🚫  Invalid notify format"
    assert reason in reply.text()
    assert w.rows("SELECT count(*) FROM reminders") == count


async def test_prefix_form_with_spaces_and_a_multiline_note(w: Community) -> None:
    now = w.clock.now()
    typed = await w.alice.send(w.general, "!remind me 1h 30m buy milk\nand eggs")
    reply = await w.reply_to(typed)
    assert due_of(reply) == int(now) + 5400
    assert "buy milk\nand eggs" in reply.text()
    assert reply.referenced is typed
    assert w.rows("SELECT note FROM reminders WHERE id = ?", id_of(reply)) == [("buy milk\nand eggs",)]


async def test_delivery_pings_only_the_owner_and_replies_to_the_confirmation(w: Community) -> None:
    reply = await slash(w, w.alice, "notify me", time="5m", note=f"@everyone <@{w.bob.id}> look")
    reminder_id = id_of(reply)
    key = w.rows("SELECT delivery_key FROM reminders WHERE id = ?", reminder_id)[0][0]
    await w.clock.advance(300)
    message = await delivered(w, reminder_id)
    assert message.content == f"||<@{w.alice.id}>||"
    assert [u.id for u in message.mentions] == [w.alice.id], "the note's mentions ping nobody"
    assert not message.mention_everyone
    assert message.referenced is reply, "delivered as a reply to the confirmation"
    assert message.nonce == key, "the idempotency key is the message nonce"
    assert "Requested at:" in message.text()
    await w.until(lambda: w.rows("SELECT count(*) FROM reminders WHERE id = ?", reminder_id) == [(0,)])


async def test_deleted_confirmation_does_not_block_delivery(w: Community) -> None:
    reply = await slash(w, w.alice, "notify me", time="5m", note="confirmation deleted")
    w.sim.world.delete_message(reply)
    await w.clock.advance(300)
    message = await delivered(w, id_of(reply))
    assert message.referenced is None, "sent without the reply instead of failing"


async def test_notify_you_targets_in_columns(w: Community) -> None:
    typed = await w.alice.send(
        w.general, f"!notify you {w.bob.mention} {w.mod.mention} 10m standup <@{w.alice.id}>"
    )
    reply = await w.reply_to(typed)
    assert reply.embeds[0]["title"] == "🔔  Reminder set"
    reminder_id = id_of(reply)
    assert w.rows("SELECT owner_id, scheduler_id, note FROM reminders WHERE id = ?", reminder_id) == [
        (w.bob.id, w.alice.id, f"standup <@{w.alice.id}>")
    ]
    assert w.rows(
        "SELECT user_id FROM reminder_targets WHERE reminder_id = ? ORDER BY position", reminder_id
    ) == [
        (w.bob.id,),
        (w.mod.id,),
    ]
    await w.clock.advance(600)
    message = await delivered(w, reminder_id)
    assert {u.id for u in message.mentions} == {w.bob.id, w.mod.id}
    assert f"<@{w.alice.id}>" in message.text(), "From: the scheduler"

    bot_user = w.sim.create_user("helper", bot=True)
    w.sim.add_member(w.guild, bot_user)
    refused = await slash(w, w.alice, "notify you", user=bot_user, time="10m")
    assert "bots" in refused.text()


async def test_list_paginates_and_shows_what_you_scheduled(w: Community) -> None:
    for n in range(11):
        await slash(w, w.mod, "notify me", time=f"{n + 1}h", note=f"mod list {n}")
    await slash(w, w.alice, "notify you", user=w.mod, time="30h", note="from alice to mod")
    listing = await slash(w, w.mod, "notify list")
    assert listing.ephemeral
    assert "Page 1/2" in listing.text()
    await w.mod.click(listing, "page:next")
    await w.sim.wait_for(lambda: "Page 2/2" in listing.text())
    assert f"(from <@{w.alice.id}>)" in listing.text()

    mine = await slash(w, w.alice, "notify list")
    assert f"for <@{w.mod.id}>" in mine.text(), "reminders set for others are listed for their scheduler"


async def test_remove_by_owner_or_scheduler_only(w: Community) -> None:
    reply = await slash(w, w.alice, "notify you", user=w.bob, time="3h", note="to remove")
    reminder_id = id_of(reply)
    stranger = await slash(w, w.mod, "notify remove", id=f"#{reminder_id}")
    assert stranger.embeds[0]["title"] == "🚫  Notification not found"
    removed = await slash(w, w.bob, "notify remove", id=str(reminder_id))
    assert removed.embeds[0]["title"] == "🗑️  Notification removed"
    assert w.rows("SELECT count(*) FROM reminders WHERE id = ?", reminder_id) == [(0,)]
    again = await slash(w, w.alice, "notify remove", id=str(reminder_id))
    assert again.embeds[0]["title"] == "🚫  Notification not found"


async def test_note_and_pending_limits(w: Community) -> None:
    count = w.rows("SELECT count(*) FROM reminders")
    long = await slash(w, w.bob, "notify me", time="1h", note="x" * 1001)
    assert "1000" in long.text()
    assert w.rows("SELECT count(*) FROM reminders") == count
    w.bot.settings.reminder_max_pending = (
        len(w.rows("SELECT id FROM reminders WHERE scheduler_id = ?", w.bob.id)) + 1
    )
    try:
        await slash(w, w.bob, "notify me", time="1h", note="last allowed")
        over = await slash(w, w.bob, "notify me", time="1h", note="one too many")
        assert over.embeds[0]["title"] == "🚫  Too many reminders"
        assert not w.rows("SELECT id FROM reminders WHERE note = 'one too many'")
    finally:
        w.bot.settings.reminder_max_pending = 25


async def test_failed_sends_are_retried_with_backoff(w: Community) -> None:
    reply = await slash(w, w.alice, "notify me", time="1m", note="retry me")
    reminder_id = id_of(reply)
    rule = w.sim.faults.inject(f"POST /channels/{w.general.id}/messages", 503, count=2)
    await w.clock.advance(60)
    await w.sim.wait_for(lambda: rule.remaining == 1)
    await w.sim.wait_for(
        lambda: w.rows("SELECT state, attempts FROM reminders WHERE id = ?", reminder_id) == [("pending", 1)]
    )
    await timer_armed(w, 30)
    await w.clock.advance(29)
    assert rule.remaining == 1, "no retry before 30 s"
    await w.clock.advance(1)
    await w.sim.wait_for(lambda: rule.remaining == 0)
    await w.until(
        lambda: w.rows("SELECT state, attempts FROM reminders WHERE id = ?", reminder_id) == [("pending", 2)]
    )
    await timer_armed(w, 60)
    await w.clock.advance(60)
    await delivered(w, reminder_id)
    assert len(deliveries(w, reminder_id)) == 1


async def test_undeliverable_reminder_is_given_up_after_a_day_with_a_dm(w: Community) -> None:
    record = await w.bob.run_slash(w.random, "notify me", time="1m", note="never arrives")
    reply = await w.sim.wait_for(lambda: record.response)
    reminder_id = id_of(reply)
    rule = w.sim.faults.inject(f"POST /channels/{w.random.id}/messages", 503, count=1000)
    due = w.clock.now() + 60
    attempts = 0
    try:
        while rows := w.rows("SELECT next_attempt_ms, attempts FROM reminders WHERE id = ?", reminder_id):
            next_ms, attempts = rows[0]
            wait = max(next_ms / 1000 - w.clock.now(), 0)
            await w.clock.advance(wait)
            # The attempt is over once the row is pending again with one more attempt, or gone.
            await w.until(
                lambda a=attempts: (
                    w.rows("SELECT state, attempts FROM reminders WHERE id = ?", reminder_id)
                    in ([], [("pending", a + 1)])
                )
            )
    finally:
        rule.remaining = 0
    notice = await w.sim.wait_for(lambda: next(iter(w.direct_messages(w.bob)), None))
    assert notice.embeds[0]["title"] == "⚠️  Reminder not delivered"
    assert "never arrives" in notice.text()
    assert 23 * 3600 <= w.clock.now() - due <= 24 * 3600
    assert 20 <= attempts <= 40, "exponential backoff capped at an hour"
    assert w.sim.messages(w.random) == [reply], "nothing was posted in the channel"
