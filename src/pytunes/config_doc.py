"""docs/configuration.md, generated from the `Settings` model: every setting, its default, what values it
takes and what it does (the field's `description`).

    python -m pytunes.config_doc            # rewrite docs/configuration.md (run from the repository root)
    python -m pytunes.config_doc --check    # exit 1 if the file is out of date

tests/unit/test_config_doc.py fails when the file, `.env.example` and the model disagree.
"""

from __future__ import annotations

import argparse
import enum
import sys
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from pytunes.config import Settings

DEFAULT_PATH = Path("docs/configuration.md")

# The sections of the page, in order, each named with the first setting it holds (fields are in the
# model's order). They are the sections of .env.example, whose first section has no heading there.
GROUPS: tuple[tuple[str, str], ...] = (
    ("Discord and the bot", "discord_token"),
    ("Music", "youtube_api_key"),
    ("Gather", "gather_grace_seconds"),
    ("Reminders", "default_timezone"),
    ("Utilities", "wakeup_cooldown_seconds"),
    ("Keyword reactions", "emoticons_config"),
)

INTRO = """\
PyTunes reads its settings from the environment and from a `.env` file in the directory it is started
from (`cp .env.example .env`); environment variables win over the file. Names are not case-sensitive,
and an empty value means the default, so `.env.example` lists every setting with its default and nothing
filled in. `pytunes check` tells whether the configuration, the database and FFmpeg are usable; an
invalid value stops `pytunes` at start with a message naming the setting."""


def env_name(field: str) -> str:
    return field.upper()


def groups(fields: Iterable[str] | None = None) -> list[tuple[str, list[str]]]:
    """The settings of each section, in the model's order."""
    names = list(Settings.model_fields if fields is None else fields)
    starts = {first: title for title, first in GROUPS}
    if not names or names[0] not in starts:
        raise ValueError("the first setting must start a section (see GROUPS)")
    missing = [first for _, first in GROUPS if first not in names]
    if missing:
        raise ValueError(f"GROUPS names settings the model does not have: {', '.join(missing)}")
    sections: list[tuple[str, list[str]]] = []
    for name in names:
        if name in starts:
            sections.append((starts[name], []))
        sections[-1][1].append(name)
    return sections


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `None`, and whether `None` was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), optional
    return annotation, False


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bounds(info: FieldInfo) -> tuple[str, str]:
    """(range of the value, range of its length) from the field's constraints; empty when unbounded."""
    low = high = ""
    low_open = high_open = False
    min_len = max_len = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = _number(item.ge)
        elif isinstance(item, annotated_types.Gt):
            low, low_open = _number(item.gt), True
        elif isinstance(item, annotated_types.Le):
            high = _number(item.le)
        elif isinstance(item, annotated_types.Lt):
            high, high_open = _number(item.lt), True
        elif isinstance(item, annotated_types.MinLen):
            min_len = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            max_len = item.max_length
    if low and high and not (low_open or high_open):
        values = f"{low} to {high}"
    elif low and high:
        values = f"{'>' if low_open else '≥'} {low}, {'<' if high_open else '≤'} {high}"
    elif low:
        values = f"{'>' if low_open else '≥'} {low}"
    elif high:
        values = f"{'<' if high_open else '≤'} {high}"
    else:
        values = ""
    if min_len is not None and max_len is not None:
        length = f"{min_len} to {max_len} characters"
    elif min_len is not None:
        length = f"at least {min_len} characters"
    elif max_len is not None:
        length = f"at most {max_len} characters"
    else:
        length = ""
    return values, length


def accepted(info: FieldInfo) -> str:
    """What values a setting takes, in words: its type and the bounds the model enforces."""
    base, _ = _base_type(info.annotation)
    kinds = {
        bool: "true or false",
        int: "whole number",
        float: "number",
        str: "text",
        Path: "file path",
        SecretStr: "secret text",
    }
    if isinstance(base, type) and issubclass(base, enum.Enum):
        kind = ", ".join(str(member.value) for member in base)
    else:
        kind = kinds.get(base, getattr(base, "__name__", str(base)))
    values, length = _bounds(info)
    return ", ".join(part for part in (kind, values, length) if part)


def default_text(info: FieldInfo) -> str:
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str) and not value:
        return "empty"
    if isinstance(value, float | int):
        return f"`{_number(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Table-safe: one line, no bare pipes."""
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    """The whole of docs/configuration.md."""
    fields = Settings.model_fields
    undocumented = [name for name, info in fields.items() if not (info.description or "").strip()]
    if undocumented:
        raise ValueError(f"settings without a description: {', '.join(undocumented)}")
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from pytunes.config.Settings by `python -m pytunes.config_doc`: change the",
        "     descriptions there (and .env.example), then run it again. Do not edit this file. -->",
        "",
        INTRO,
        "",
    ]
    for title, names in groups(fields):
        lines += [f"## {title}", "", "| setting | default | values | what it does |", "|---|---|---|---|"]
        for name in names:
            info = fields[name]
            row = [f"`{env_name(name)}`", default_text(info), accepted(info), info.description or ""]
            lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pytunes.config_doc",
        description="Write docs/configuration.md from the Settings model.",
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}")
    parser.add_argument("--check", action="store_true", help="only tell whether the file is up to date")
    args = parser.parse_args(argv)
    text = render()
    path: Path = args.path
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            print(f"{path} is out of date: run python -m pytunes.config_doc", file=sys.stderr)
            return 1
        return 0
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
