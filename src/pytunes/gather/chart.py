"""Lateness over time as a PNG (Pillow): the member's gatherings as dots, the guild's median as a line.

Drawn in Discord's dark theme colours so it sits naturally in an embed. Pure: data in, bytes out.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from pytunes.gather.stats import Point, Series

WIDTH, HEIGHT = 800, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 44, 56
MISSED_BAND = 36  # the strip above the plot where no-shows are marked

BACKGROUND = (43, 45, 49)
GRID = (63, 65, 71)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
ON_TIME = (35, 165, 90)
LATE = (240, 178, 50)
MISSED = (242, 63, 67)
MEDIAN = (88, 101, 242)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def render_chart(series: Series, title: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, big = _font(13), _font(17)
    draw.text((LEFT, 14), title, fill=TEXT, font=big)

    points = [*series.mine, *series.median]
    times = [p.ended_at for p in points]
    start, end = (min(times), max(times)) if times else (0.0, 1.0)
    if end - start < 1:
        start, end = start - 43200, end + 43200  # one gathering: centre it in a day
    late_minutes = [p.lateness / 60 for p in points if p.lateness is not None]
    peak = max([5.0, *late_minutes])
    step_minutes = next((s for s in (1, 2, 5, 10, 15, 20, 30, 60) if peak / s <= 5), 120)
    ticks = math.ceil(peak / step_minutes)
    top_minutes = float(ticks * step_minutes)

    plot_top, plot_bottom = TOP + MISSED_BAND, HEIGHT - BOTTOM
    plot_right = WIDTH - RIGHT

    def x_of(ended_at: float) -> float:
        return LEFT + (ended_at - start) / (end - start) * (plot_right - LEFT - 16) + 8

    def y_of(minutes: float) -> float:
        return plot_bottom - minutes / top_minutes * (plot_bottom - plot_top)

    for step in range(ticks + 1):
        minutes = step * step_minutes
        y = y_of(minutes)
        draw.line([(LEFT, y), (plot_right, y)], fill=GRID, width=1)
        label = "on time" if step == 0 else f"+{minutes} min"
        draw.text((LEFT - 8, y), label, fill=MUTED, font=small, anchor="rm")
    draw.line([(LEFT, TOP + 4), (plot_right, TOP + 4)], fill=GRID, width=1)
    draw.text((LEFT - 8, TOP + MISSED_BAND / 2), "missed", fill=MISSED, font=small, anchor="rm")
    for step, anchor in enumerate(("lt", "mt", "mt", "rt")):
        at = start + (end - start) * step / 3
        day = datetime.fromtimestamp(at, UTC).strftime("%d %b")
        x = LEFT if anchor == "lt" else plot_right if anchor == "rt" else x_of(at)
        draw.text((x, plot_bottom + 10), day, fill=MUTED, font=small, anchor=anchor)

    median = [(x_of(p.ended_at), y_of((p.lateness or 0) / 60)) for p in series.median]
    if len(median) > 1:
        draw.line(median, fill=MEDIAN, width=3, joint="curve")
    for x, y in median:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=MEDIAN)
    for point in series.mine:
        _mark(draw, point, x_of(point.ended_at), y_of((point.lateness or 0) / 60))

    legend = [("on time", ON_TIME), ("late", LATE), ("missed", MISSED), ("guild median", MEDIAN)]
    x = LEFT
    for text, colour in legend:
        draw.ellipse([x, HEIGHT - 22, x + 10, HEIGHT - 12], fill=colour)
        draw.text((x + 16, HEIGHT - 17), text, fill=TEXT, font=small, anchor="lm")
        x += 28 + int(draw.textlength(text, font=small)) + 16
    if not points:
        draw.text((WIDTH / 2, HEIGHT / 2), "No finished gatherings yet", fill=MUTED, font=big, anchor="mm")

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _mark(draw: ImageDraw.ImageDraw, point: Point, x: float, y: float) -> None:
    if point.lateness is None:
        cy = TOP + MISSED_BAND / 2
        draw.line([(x - 6, cy - 6), (x + 6, cy + 6)], fill=MISSED, width=3)
        draw.line([(x - 6, cy + 6), (x + 6, cy - 6)], fill=MISSED, width=3)
        return
    colour = ON_TIME if point.lateness == 0 else LATE
    draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=colour, outline=BACKGROUND, width=2)
