"""Gather's storage on SQLite and PostgreSQL: a gathering replayed from its stored events is the
gathering that was running; the end and the attendance are written together."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.gather.events import Action, Expect, Extend, PingSent, Press, Rules, Tick, VoiceJoined, VoiceLeft
from pytunes.gather.state import Gathering
from pytunes.gather.store import GatherStore, decode, encode, ms_time

# The storage fixtures, so that every test taking `engine` runs on SQLite and on PostgreSQL.
from tests.storage.conftest import (  # noqa: F401
    backend,
    database_url,
    engine,
    fresh_postgres_url,
    postgres_database,
)

T0 = 1_800_000_000.0
GUILD, VOICE, TEXT = 10, 20, 30
ORG, BOB, CAROL = 1, 2, 3


def test_every_event_survives_encoding() -> None:
    events = [
        VoiceJoined(T0 + 0.25, BOB),
        VoiceLeft(T0 + 1, BOB),
        Press(T0 + 2, CAROL, Action.HERE, True),
        Expect(T0 + 3, ORG, (BOB, CAROL), False),
        Extend(T0 + 4, ORG, 90.5, True),
        PingSent(T0 + 5),
        Tick(T0 + 6),
    ]
    for event in events:
        row = encode(event)
        assert decode(row["kind"], row["at_ms"], row["user_id"], row["data"]) == event


async def play(store: GatherStore, g: Gathering, gathering_id: int, events: list[object], seq: int) -> int:
    changed = [e for e in events if g.handle(e).changed]  # type: ignore[arg-type]
    await store.record(gathering_id, GUILD, seq, changed, g)  # type: ignore[arg-type]
    return seq + len(changed)


async def test_a_running_gathering_is_rebuilt_from_its_events(engine: AsyncEngine) -> None:  # noqa: F811
    store = GatherStore(engine)
    rules = Rules(grace=30, deadline=600)
    g = Gathering.create(organizer=ORG, at=T0, rules=rules, countdown=120, present=[ORG])
    gathering_id = await store.create(
        guild_id=GUILD,
        voice_channel_id=VOICE,
        text_channel_id=TEXT,
        gathering=g,
        label="in 2 minutes",
        present=[ORG],
    )
    await store.attach_message(gathering_id, 99)
    first = [Press(T0 + 1, BOB, Action.JOIN), Extend(T0 + 2, ORG, 60), Press(T0 + 3, CAROL, Action.JOIN)]
    seq = await play(store, g, gathering_id, first, 0)
    seq = await play(
        store,
        g,
        gathering_id,
        [VoiceJoined(ms_time(T0 + 190.123), BOB), Press(T0 + 200, CAROL, Action.JOIN), Tick(T0 + 200)],
        seq,
    )
    assert g.started_at == T0 + 180

    (stored,) = await store.open_gatherings()
    assert (stored.message_id, stored.label, stored.rules) == (99, "in 2 minutes", rules)
    rebuilt = stored.replay()
    rebuilt.handle(Tick(T0 + 200))
    assert rebuilt.snapshot() == g.snapshot()
    assert await store.end_reason(gathering_id) == ""

    await play(store, g, gathering_id, [Tick(T0 + 5000)], seq)
    assert await store.open_gatherings() == []
    assert await store.end_reason(gathering_id) == "timed_out"
    history = await store.history(GUILD)
    assert sorted((r.user, r.status, r.lateness) for r in history) == [
        (ORG, "on_time", 0.0),
        (BOB, "on_time", 0.0),
        (CAROL, "missed", None),
    ]
    assert await store.history(GUILD, since=T0 + 5000) == []


async def test_a_gathering_whose_message_never_went_out_is_discarded(engine: AsyncEngine) -> None:  # noqa: F811
    store = GatherStore(engine)
    g = Gathering.create(organizer=ORG, at=T0, rules=Rules(), countdown=None, present=[])
    gathering_id = await store.create(
        guild_id=GUILD, voice_channel_id=VOICE, text_channel_id=TEXT, gathering=g, label=None, present=[]
    )
    await store.discard(gathering_id)
    assert await store.end_reason(gathering_id) is None
    assert await store.open_gatherings() == []


@pytest.mark.parametrize("count", [0, 3])
async def test_cancelled_gatherings_leave_no_attendance(engine: AsyncEngine, count: int) -> None:  # noqa: F811
    store = GatherStore(engine)
    g = Gathering.create(organizer=ORG, at=T0, rules=Rules(), countdown=60, present=range(100, 100 + count))
    gathering_id = await store.create(
        guild_id=GUILD, voice_channel_id=VOICE, text_channel_id=TEXT, gathering=g, label=None, present=[]
    )
    await play(store, g, gathering_id, [Press(T0 + 1, ORG, Action.CANCEL)], 0)
    assert await store.end_reason(gathering_id) == "cancelled"
    assert await store.history(GUILD) == []
