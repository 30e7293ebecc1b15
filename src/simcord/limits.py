"""Discord's message, embed and component limits, enforced the way Discord does: 400 Invalid Form Body
with an `errors` tree naming the offending field (docs/discord-notes.md, 'Message, embed and component
limits')."""

from __future__ import annotations

from typing import Any

from simcord.state import Json
from simcord.world import WorldError

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
NONCE_MAX = 25

EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}


class _Errors:
    def __init__(self) -> None:
        self.tree: Json = {}

    def add(self, path: list[str | int], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        if self.tree:
            raise WorldError(400, 50035, "Invalid Form Body", self.tree)


def _too_long(errors: _Errors, path: list[str | int], value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def validate_message(body: Json, *, creating: bool, has_files: bool = False) -> None:
    errors = _Errors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(["content"], "BASE_TYPE_STRING", "Must be a string.")
    _too_long(errors, ["content"], content, CONTENT_MAX)
    _too_long(errors, ["nonce"], body.get("nonce"), NONCE_MAX)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors.add(["embeds"], "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        total += _validate_embed(errors, ["embeds", i], embed)
    if total > EMBED_TOTAL_MAX:
        errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    _validate_components(errors, body.get("components") or [])
    errors.raise_if_any()
    if creating and not (
        content
        or embeds
        or body.get("components")
        or body.get("sticker_ids")
        or has_files
        or body.get("poll")
    ):
        raise WorldError(400, 50006, "Cannot send an empty message")


def _validate_embed(errors: _Errors, path: list[str | int], embed: Json) -> int:
    size = 0
    for key, limit in EMBED_TEXT_LIMITS.items():
        value = embed.get(key)
        _too_long(errors, [*path, key], value, limit)
        size += len(value) if isinstance(value, str) else 0
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        errors.add(
            [*path, "fields"], "BASE_TYPE_MAX_LENGTH", f"Must be {EMBED_FIELDS_MAX} or fewer in length."
        )
    for j, item in enumerate(fields):
        name, value = item.get("name"), item.get("value")
        for key, text, limit in (("name", name, 256), ("value", value, 1024)):
            if not isinstance(text, str) or not text:
                errors.add([*path, "fields", j, key], "BASE_TYPE_REQUIRED", "This field is required")
            else:
                _too_long(errors, [*path, "fields", j, key], text, limit)
                size += len(text)
    footer = (embed.get("footer") or {}).get("text")
    _too_long(errors, [*path, "footer", "text"], footer, 2048)
    author = (embed.get("author") or {}).get("name")
    _too_long(errors, [*path, "author", "name"], author, 256)
    size += len(footer or "") + len(author or "")
    return size


def _validate_components(errors: _Errors, rows: list[Json]) -> None:
    if len(rows) > ROWS_MAX:
        errors.add(["components"], "BASE_TYPE_MAX_LENGTH", f"Must be {ROWS_MAX} or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        path: list[str | int] = ["components", i]
        if row.get("type") != 1:
            errors.add(
                [*path, "type"], "COMPONENT_LAYOUT_INVALID", "Top-level components must be action rows"
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add([*path, "components"], "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if selects and len(children) > 1:
            errors.add(
                [*path, "components"], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select must be alone in its row"
            )
        if len(children) > ROW_BUTTONS_MAX:
            errors.add(
                [*path, "components"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ROW_BUTTONS_MAX} or fewer in length.",
            )
        for j, comp in enumerate(children):
            _validate_component(errors, [*path, "components", j], comp, seen)


def _validate_component(errors: _Errors, path: list[str | int], comp: Json, seen: set[str]) -> None:
    custom_id = comp.get("custom_id")
    link = comp.get("type") == 2 and comp.get("style") == 5
    if link:
        if not comp.get("url") or custom_id is not None:
            errors.add(path, "BUTTON_COMPONENT_INVALID_URL", "Link buttons need a url and no custom_id")
    elif not isinstance(custom_id, str) or not custom_id:
        errors.add([*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _too_long(errors, [*path, "custom_id"], custom_id, CUSTOM_ID_MAX)
        if custom_id in seen:
            errors.add(
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    _too_long(errors, [*path, "label"], comp.get("label"), LABEL_MAX)
    if comp.get("type") == 2 and not comp.get("label") and not comp.get("emoji"):
        errors.add(path, "BUTTON_COMPONENT_MISSING_LABEL", "A button needs a label or an emoji")
    options = comp.get("options") or []
    if len(options) > SELECT_OPTIONS_MAX:
        errors.add(
            [*path, "options"], "BASE_TYPE_MAX_LENGTH", f"Must be {SELECT_OPTIONS_MAX} or fewer in length."
        )
