"""Simcord messages as terminal text: a header, the content, embeds as boxes, buttons numbered to press.

Everything here is a pure function of its arguments (pass `tz` and `now` to pin the clock), so the
output can be compared in tests. Colour is opt-in: the caller decides whether its terminal is a TTY.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo

from simcord.state import Json, Message

DEFAULT_WIDTH = 80
MIN_WIDTH = 20

BOLD, DIM, RED, GREEN, CYAN = "1", "2", "31", "32", "36"

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
CHANNEL_MENTION = re.compile(r"<#(\d+)>")
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
COMMAND_MENTION = re.compile(r"</([\w -]+):\d+>")

TIME_STYLES = {
    "t": "%H:%M",
    "T": "%H:%M:%S",
    "d": "%d/%m/%Y",
    "D": "%d %B %Y",
    "f": "%d %B %Y %H:%M",
    "F": "%A, %d %B %Y %H:%M",
}
RELATIVE_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def paint(text: str, *codes: str, color: bool) -> str:
    if not color or not codes or not text:
        return text
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


# ---------------------------------------------------------------- text measuring and wrapping


def cell_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide (CJK, most emoji) count 2, combining marks 0."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0e\ufe0f":
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def clean(text: str) -> str:
    """Drop control characters: message text must not be able to drive the terminal (ANSI escapes)."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap to `width` cells, keeping blank lines and inner spacing (tables, code blocks)."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_line(paragraph.rstrip(), width))
    return lines


def _wrap_line(line: str, width: int) -> list[str]:
    if cell_width(line) <= width:
        return [line]
    out: list[str] = []
    current = ""
    for token in re.findall(r"\s+|\S+", line):
        if token.isspace():
            if not current and out:
                continue  # a continuation line starts at the margin
            if cell_width(current + token) <= width:
                current += token
            else:
                out.append(current.rstrip())
                current = ""
            continue
        if cell_width(current + token) <= width:
            current += token
            continue
        if current.strip():
            out.append(current.rstrip())
        current = ""
        while cell_width(token) > width:
            head, token = _split_cells(token, width)
            out.append(head)
        current = token
    if current.strip() or not out:
        out.append(current.rstrip())
    return out


def _split_cells(word: str, width: int) -> tuple[str, str]:
    used = 0
    for index, ch in enumerate(word):
        used += cell_width(ch)
        if used > width:
            cut = max(index, 1)
            return word[:cut], word[cut:]
    return word, ""


def pad(text: str, width: int) -> str:
    return text + " " * max(width - cell_width(text), 0)


# ---------------------------------------------------------------- Discord markup


def format_timestamp(ts: float, style: str, *, tz: tzinfo | None = None, now: float | None = None) -> str:
    """Discord's `<t:…:style>` as a client would show it."""
    if style == "R":
        delta = ts - (time.time() if now is None else now)
        seconds = abs(round(delta))
        unit, count = next(
            ((name, seconds // size) for name, size in RELATIVE_UNITS if seconds >= size), ("second", seconds)
        )
        text = f"{count} {unit}{'' if count == 1 else 's'}"
        return f"in {text}" if delta > 0 else f"{text} ago"
    return datetime.fromtimestamp(ts, tz).strftime(TIME_STYLES.get(style, TIME_STYLES["f"]))


def resolve_markup(
    text: str, names: Mapping[int, str], *, tz: tzinfo | None = None, now: float | None = None
) -> str:
    """Mentions, timestamps, custom emoji and command mentions as a person reads them."""

    def named(prefix: str) -> Callable[[re.Match[str]], str]:
        return lambda m: f"{prefix}{names.get(int(m.group(1)), 'unknown')}"

    def stamp(match: re.Match[str]) -> str:
        try:
            return format_timestamp(int(match.group(1)), match.group(2) or "f", tz=tz, now=now)
        except (OverflowError, OSError, ValueError):
            return match.group(0)

    text = USER_MENTION.sub(named("@"), text)
    text = ROLE_MENTION.sub(named("@"), text)
    text = CHANNEL_MENTION.sub(named("#"), text)
    text = TIMESTAMP.sub(stamp, text)
    text = CUSTOM_EMOJI.sub(lambda m: f":{m.group(1)}:", text)
    return COMMAND_MENTION.sub(lambda m: f"/{m.group(1)}", text)


# ---------------------------------------------------------------- messages


def visible_to(message: Message, viewer_id: int | None) -> bool:
    """Ephemeral messages exist only for the person they answer."""
    return not message.ephemeral or (viewer_id is not None and message.ephemeral_for == viewer_id)


def is_edited(message: Message) -> bool:
    """Edited as Discord marks it: filling in a deferred ("thinking…") response is not an edit."""
    if message.edited_at is None:
        return False
    return any(not int(old.get("flags") or 0) & Message.LOADING for old in message.history) or not (
        message.history
    )


def display_name(message: Message) -> str:
    return message.author.global_name or message.author.username


def render_message(
    message: Message,
    *,
    viewer_id: int | None,
    number: int | None = None,
    width: int = DEFAULT_WIDTH,
    color: bool = False,
    names: Mapping[int, str] | None = None,
    tz: tzinfo | None = None,
    now: float | None = None,
) -> str | None:
    """The message as `viewer_id` sees it, or None when it is someone else's ephemeral message."""
    if not visible_to(message, viewer_id):
        return None
    width = max(width, MIN_WIDTH)
    names = names or {}
    lines = [_header(message, number, color=color, tz=tz)]
    used = _command_used(message)
    if used:
        lines.append(paint(used, DIM, color=color))
    if message.referenced is not None:
        lines.append(paint(_reply_line(message.referenced, width, names), DIM, color=color))
    if message.loading:
        lines.append(paint(f"{display_name(message)} is thinking…", DIM, color=color))
    elif message.content:
        lines.extend(wrap(clean(resolve_markup(message.content, names, tz=tz, now=now)), width))
    for attachment in message.attachments:
        lines.append(f"📎 {clean(str(attachment.get('filename', 'file')))}")
    for embed in message.embeds:
        lines.extend(render_embed(embed, width=width, color=color, names=names, tz=tz, now=now))
    lines.extend(render_components(message.components, width=width, color=color))
    if message.reactions:
        counts = [f"{emoji} {len(users)}" for emoji, users in message.reactions.items() if users]
        if counts:
            lines.append("  ".join(counts))
    return "\n".join(lines)


def render_deleted(
    message: Message, *, number: int | None = None, color: bool = False, width: int = DEFAULT_WIDTH
) -> str:
    prefix = f"[{number}] " if number is not None else ""
    line = f"{prefix}✗ message from {display_name(message)} was deleted"
    return paint(wrap(line, max(width, MIN_WIDTH))[0], DIM, color=color)


def _header(message: Message, number: int | None, *, color: bool, tz: tzinfo | None) -> str:
    parts = []
    if number is not None:
        parts.append(paint(f"[{number}]", DIM, color=color))
    name = paint(display_name(message), BOLD, CYAN if message.author.bot else GREEN, color=color)
    parts.append(f"{name} (bot)" if message.author.bot else name)
    stamp = datetime.fromtimestamp(message.created_at, tz).strftime("%H:%M")
    marks = [f"· {stamp}"]
    if is_edited(message):
        marks.append("(edited)")
    if message.ephemeral:
        marks.append("(only you can see this)")
    parts.append(paint(" ".join(marks), DIM, color=color))
    return " ".join(parts)


def _command_used(message: Message) -> str:
    """Discord's "alice used /ping" above a command's answer, so several people's answers stay apart."""
    meta = getattr(message, "interaction_metadata", None)  # absent on messages from older simcord worlds
    if not isinstance(meta, dict) or meta.get("type") != 2 or not meta.get("name"):
        return ""
    user = meta.get("user") or {}
    return f"↪ {user.get('global_name') or user.get('username') or 'someone'} used /{meta['name']}"


def _reply_line(target: Message, width: int, names: Mapping[int, str]) -> str:
    if target.deleted:
        return "↪ (original message was deleted)"
    first = clean(resolve_markup(target.content, names)).split("\n")[0]
    return wrap(f"↪ {display_name(target)}: {first}", width - 1)[0]


# ---------------------------------------------------------------- embeds


def render_embed(
    embed: Json,
    *,
    width: int = DEFAULT_WIDTH,
    color: bool = False,
    names: Mapping[int, str] | None = None,
    tz: tzinfo | None = None,
    now: float | None = None,
) -> list[str]:
    """An embed as a box of unicode line characters, at most `width` cells wide."""
    names = names or {}
    inner_max = max(width, MIN_WIDTH) - 4
    body: list[tuple[str, tuple[str, ...]]] = []  # (line, style); ("", ("rule",)) draws a separator

    def add(text: str, *style: str) -> None:
        text = clean(resolve_markup(text, names, tz=tz, now=now))
        body.extend((line, style) for line in wrap(text, inner_max))

    if (embed.get("author") or {}).get("name"):
        add(str(embed["author"]["name"]), DIM)
    if embed.get("title"):
        add(str(embed["title"]), BOLD)
    if embed.get("description"):
        add(str(embed["description"]))
    for field in embed.get("fields") or []:
        if body:
            body.append(("", ()))
        add(str(field.get("name", "")), BOLD)
        add(str(field.get("value", "")))
    for key in ("image", "thumbnail"):
        url = (embed.get(key) or {}).get("url")
        if url:
            add(f"{key}: {url}", DIM)
    footer = str((embed.get("footer") or {}).get("text") or "")
    if footer:
        if body:
            body.append(("", ("rule",)))
        add(footer, DIM)
    if not body:
        return []
    inner = max(cell_width(line) for line, _ in body)

    def border(text: str) -> str:
        return _paint_border(text, embed.get("color"), color)

    out = [border("╭" + "─" * (inner + 2) + "╮")]
    for line, style in body:
        if style == ("rule",):
            out.append(border("├" + "─" * (inner + 2) + "┤"))
        else:
            out.append(border("│") + " " + paint(pad(line, inner), *style, color=color) + " " + border("│"))
    out.append(border("╰" + "─" * (inner + 2) + "╯"))
    return out


def _paint_border(text: str, rgb: object, color: bool) -> str:
    if not color:
        return text
    if isinstance(rgb, int) and rgb > 0:
        return f"\x1b[38;2;{(rgb >> 16) & 255};{(rgb >> 8) & 255};{rgb & 255}m{text}\x1b[0m"
    return paint(text, DIM, color=True)


# ---------------------------------------------------------------- components


def render_components(
    components: list[Json], *, width: int = DEFAULT_WIDTH, color: bool = False
) -> list[str]:
    """Action rows, one line each (wrapped when too wide); buttons numbered as `Message.buttons()` orders them."""
    lines: list[str] = []
    number = 0
    for row in components:
        items: list[tuple[str, bool]] = []  # (text, disabled)
        for component in row.get("components", []):
            if component.get("type") == 2:
                number += 1
                items.append((_button_text(component, number), bool(component.get("disabled"))))
            else:
                placeholder = clean(str(component.get("placeholder") or "choose…"))
                items.append((f"[▾ {placeholder}]", True))
        current: list[str] = []
        used = 0
        for text, disabled in items:
            size = cell_width(text)
            if current and used + 1 + size > width:
                lines.append(" ".join(current))
                current, used = [], 0
            current.append(paint(text, DIM, color=color) if disabled else paint(text, BOLD, color=color))
            used += size + (1 if used else 0)
        if current:
            lines.append(" ".join(current))
    return lines


def _button_text(button: Json, number: int) -> str:
    emoji = (button.get("emoji") or {}).get("name") or ""
    label = " ".join(part for part in (emoji, clean(str(button.get("label") or ""))) if part)
    text = f"{number} {label}" if label else str(number)
    if button.get("style") == 5:
        text += f" ↗ {button.get('url', '')}"
    if button.get("disabled"):
        text += " (disabled)"
    return f"[{text}]"
