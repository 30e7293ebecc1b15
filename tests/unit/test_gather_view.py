"""What people read: the table, names, times, the message within Discord's limits, stats and the chart."""

from __future__ import annotations

import io
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pytunes.core.replies import EMBED_TOTAL_MAX, FIELD_VALUE_MAX, embed_size
from pytunes.gather import embeds, table
from pytunes.gather.chart import render_chart
from pytunes.gather.events import Action, Press, Rules, Tick, VoiceJoined
from pytunes.gather.state import Gathering
from pytunes.gather.stats import Record, lateness_series, member_stats, top_list
from pytunes.gather.timeparse import humanize, parse_duration, parse_start

T0 = 1_800_000_000.0


def test_table_layout_order_and_statuses() -> None:
    names = {1: "alice", 2: "bob", 3: "carol", 4: "dave", 5: "erin", 6: "aaron"}
    rows = [
        table.Row(4),
        table.Row(3, out=True),
        table.Row(2, lateness=130),
        table.Row(1, lateness=0),
        table.Row(6, lateness=0),
        table.Row(5),
    ]
    text = table.render(table.ordered(rows, names), names)
    assert text == "\n".join(
        [
            "```",
            "+-------+---------+",
            "| User  | Arrived |",
            "+-------+---------+",
            "| aaron | ON TIME |",
            "| alice | ON TIME |",
            "| bob   | +02:10  |",
            "| carol | OUT     |",
            "| dave  | --:--   |",
            "| erin  | --:--   |",
            "+-------+---------+",
            "```",
        ]
    )


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("bob", "bob"),
        ("", "User 7"),
        ("`sneaky`", "'sneaky'"),
        ("party 🎉", "party :party_popper:"),
        ("a-very-long-display-name-indeed", "a-very-long-display-…"),
        ("👍🏽 ok", ":thumbs_up_sign: ok"),
    ],
)
def test_names_are_cleaned_for_the_table(raw: str, shown: str) -> None:
    assert table.clean_name(raw, 7) == shown
    assert table.width(table.clean_name(raw, 7)) <= table.NAME_MAX


@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=400))
def test_the_table_always_fits_its_fields(raw_names: list[str]) -> None:
    names = dict(enumerate(raw_names))
    rows = [table.Row(u, lateness=float(u % 7) * 40 if u % 3 else None) for u in names]
    blocks = table.split(rows, names, budget=5000)
    assert all(len(b) <= FIELD_VALUE_MAX for b in blocks)
    assert sum(len(b) for b in blocks) <= 5000
    assert len(blocks) <= 20
    lines = "\n".join(blocks).splitlines()
    shown = sum(1 for line in lines if line.startswith("| ")) - len(blocks[:1])  # minus the head row
    more = [line for line in lines if line.startswith("… and ")]
    assert shown + (int(more[0].split()[2]) if more else 0) == len(rows)


def big_gathering(people: int) -> Gathering:
    g = Gathering.create(organizer=1, at=T0, rules=Rules(), countdown=60, present=[1])
    for user in range(2, people + 2):
        g.handle(Press(T0 + 1, user, Action.JOIN))
    g.handle(Tick(T0 + 60))
    for user in range(2, people + 2, 2):
        g.handle(VoiceJoined(T0 + 60 + user, user))
    return g


@pytest.mark.parametrize("people", [3, 40, 150, 600])
def test_the_check_in_message_stays_within_discords_limits(people: int) -> None:
    g = big_gathering(people)
    names = {u: f"member-with-a-long-name-{u}" for u in range(people + 2)}
    embed = embeds.checkin_embed(g, embeds.Where(5, 6), names, T0 + 100)
    assert embed_size(embed) <= EMBED_TOTAL_MAX
    assert all(len(f.value or "") <= FIELD_VALUE_MAX for f in embed.fields)
    assert (len(embed.fields) == 1) == (people < 20), "a long table is split across fields"
    if people >= 600:
        assert "more" in (embed.fields[-1].value or "")
    countdown = Gathering.create(organizer=1, at=T0, rules=Rules(), countdown=60, present=range(people))
    for part in embeds.countdown_embeds(countdown, embeds.Where(5, 6), names, T0):
        assert embed_size(part) <= EMBED_TOTAL_MAX


def test_buttons_by_phase() -> None:
    g = Gathering.create(organizer=1, at=T0, rules=Rules(), countdown=60, present=[1])
    g.handle(Press(T0, 2, Action.JOIN))
    view = embeds.view(g, embeds.Where(7, 8))
    assert view is not None
    assert [getattr(b, "custom_id", None) for b in view.children] == [
        "gather:7:start",
        "gather:7:cancel",
        "gather:7:join",
        "gather:7:leave",
    ]
    g.handle(Tick(T0 + 60))
    view = embeds.view(g, embeds.Where(7, 8))
    assert view is not None
    assert [getattr(b, "label", None) for b in view.children] == [
        "I'm here!",
        "I'm out",
        "🔕 Mute pings",
        "Cancel",
    ]
    assert embeds.parse_custom_id("gather:7:here") == (7, Action.HERE)
    assert embeds.parse_custom_id("gather:x:here") is None
    assert embeds.parse_custom_id("gather:7:dance") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10m", 600),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("30s", 30),
        ("2 hours", 7200),
        ("0m", None),
        ("soon", None),
    ],
)
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_clock_times_count_down_to_the_next_occurrence() -> None:
    noon = 1_800_014_400.0  # a moment some hours after T0
    start = parse_start("23:59", noon, UTC)
    assert start is not None
    assert start[1] == "at 23:59"
    assert 0 < start[0] <= 86400
    assert parse_start("24:00", noon, UTC) is None
    assert parse_start("7:60", noon, UTC) is None
    assert humanize(3900) == "1 hour 5 minutes"


def records() -> list[Record]:
    return [
        Record(1, 10, T0, "on_time", 0),
        Record(1, 20, T0, "late", 120),
        Record(1, 30, T0, "missed"),
        Record(2, 10, T0 + 86400, "on_time", 0),
        Record(2, 20, T0 + 86400, "late", 300),
        Record(2, 30, T0 + 86400, "out"),
        Record(3, 20, T0 + 2 * 86400, "on_time", 0),
    ]


def test_member_stats_and_top_list() -> None:
    bob = member_stats(records(), 20)
    assert (bob.gatherings, bob.on_time, bob.late, bob.missed) == (3, 1, 2, 0)
    assert bob.median_lateness == 120
    assert bob.on_time_rate == pytest.approx(1 / 3)
    carol = member_stats(records(), 30)
    assert (carol.gatherings, carol.out, carol.missed, carol.on_time_rate) == (2, 1, 1, 0)
    assert [s.user for s in top_list(records())] == [10, 20, 30]
    assert member_stats(records(), 99).gatherings == 0


def test_chart_is_a_png() -> None:
    series = lateness_series(records(), 20)
    assert [p.lateness for p in series.mine] == [120, 300, 0]
    for data in (series, lateness_series([], None)):
        image = Image.open(io.BytesIO(render_chart(data, "bob")))
        assert (image.format, image.size) == ("PNG", (800, 360))
