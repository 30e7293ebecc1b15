"""Check simcord's REST responses against Discord's published OpenAPI 3.1 description.

The description (``discord-openapi.json`` beside this module, MIT licensed) is loaded
once per process. Each response schema is turned into a JSON Schema Draft 2020-12
validator the first time a (method, path template, status) is checked; ``$ref``s into
``#/components/...`` are resolved through a ``referencing`` registry holding the whole
document, so nothing is copied or rewritten.

What validation catches:

* **Missing required fields.** The schemas list ``required`` carefully and it includes
  fields that are present-but-nullable (``MessageResponse.edited_timestamp``,
  ``UserResponse.global_name``/``primary_guild``), so "omit when empty" is an error.
* **Wrong types and ``null`` where none is allowed.** OpenAPI 3.1 has no ``nullable``;
  the file uses type arrays (``["string", "null"]``) and ``oneOf: [{type: null}, ...]``.
* **Snowflakes as strings.** ``SnowflakeType`` is ``{"type": "string", "pattern":
  "^(0|[1-9][0-9]*)$"}``, so an integer id, or a non-numeric one, fails.
* **Closed enums.** Enumerations (``MessageType``, ``ChannelTypes``, locales, ...) are
  ``oneOf`` lists of ``const`` values, so an undocumented value fails; integer bounds
  (``minimum``/``maximum``) and string/array lengths are checked too.
* **Bodies on no-content responses** (e.g. a 204 that carries JSON), missing bodies on
  responses that declare one, and statuses the operation does not describe.
* **Error bodies.** ``4XX`` responses use the shared ``ErrorResponse`` schema
  (``code`` and ``message`` required, optional nested ``errors`` whose leaves are
  ``{"_errors": [{code, message}]}``); ``429`` uses ``RatelimitedResponse``
  (additionally ``retry_after`` and ``global`` required).

What it does not catch:

* **Unknown or misspelt extra fields.** Object schemas are open: apart from the error
  leaf ``InnerErrors``, no response object sets ``additionalProperties: false``, so an
  extra ``"autor"`` key passes (but the missing ``"author"`` is still reported).
* **Formats.** ``format`` (``snowflake``, ``int64``, ``date-time``, ``uri``, ...) is an
  annotation here; format assertion is deliberately off, so a malformed timestamp
  passes. Snowflake strings are still checked by the pattern above.
* **Semantics.** Cross-field consistency (``channel_id`` matching the URL, the author of
  a webhook message being the webhook, ...), headers (rate-limit headers are described
  but not checked) and non-JSON bodies (``image/png``, ``text/csv``) are out of scope.
* **Which variant was meant.** A body that fits no alternative of a ``oneOf`` union
  (channel kinds, message components, interaction callback resources) is reported
  through the alternative it most likely meant (matching JSON type and ``type``
  discriminator, then furthest reached); that choice is a heuristic.

Where the description is stricter than what live Discord sends, it wins here: nested
form errors must carry integer ``code``s (live Discord sends strings such as
``"BASE_TYPE_REQUIRED"`` inside ``_errors``), ``MessageReferenceType`` only allows
``0``, and application ``type`` only ``null`` or ``4``.

Paths given to :meth:`OpenApiValidator.find_operation` are concrete request paths
relative to ``/api/v10`` (a leading ``/api`` or ``/api/v<N>`` prefix, a query string
and a trailing slash are tolerated). Literal segments take precedence over template
parameters, left to right, as OpenAPI prescribes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, ClassVar, Final
from urllib.parse import quote, unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["OpenApiValidator", "Operation"]

_PACKAGE: Final = __name__.rpartition(".")[0]
_SPEC_FILE: Final = "discord-openapi.json"
# The URI the document is registered under. It is never fetched: the registry has no
# retriever, so a reference outside the document fails loudly instead of going online.
_BASE_URI: Final = "urn:simcord:discord-openapi"
_HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_API_PREFIX: Final = re.compile(r"^/api(?:/v\d+)?(?=/|$)")
_PARAM: Final = re.compile(r"\{[^/{}]+\}")
# jsonschema puts repr(instance) into messages; for a whole message object that is
# kilobytes of noise, so each reported line is capped.
_MAX_MESSAGE: Final = 300


@dataclass(frozen=True)
class Operation:
    """One described operation: an HTTP method on a path template."""

    method: str
    """Upper-case HTTP method, e.g. ``"GET"``."""
    template: str
    """The spec's path template, e.g. ``"/channels/{channel_id}/messages"``."""
    operation_id: str | None
    """The spec's ``operationId`` (``"create_message"``), if any."""
    responses: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False, hash=False)
    """Status key as written in the document (``"200"``, ``"204"``, ``"4XX"``, ``"default"``)
    to the response object, with a
    ``$ref`` to ``#/components/responses/...`` already followed."""


@dataclass(frozen=True)
class _Template:
    template: str
    segments: tuple[re.Pattern[str] | str, ...]
    # One entry per segment, 0 for a literal and 1 for a templated one. Comparing these
    # tuples makes the leftmost literal win, so "/users/@me" beats "/users/{user_id}".
    rank: tuple[int, ...]

    def matches(self, segments: list[str]) -> bool:
        if len(segments) != len(self.segments):
            return False
        for expected, actual in zip(self.segments, segments, strict=True):
            if isinstance(expected, str):
                if unquote(actual) != expected:
                    return False
            elif expected.fullmatch(actual) is None:
                return False
        return True


def _compile_template(template: str) -> _Template:
    segments: list[re.Pattern[str] | str] = []
    rank: list[int] = []
    for segment in _split(template):
        if _PARAM.search(segment) is None:
            segments.append(segment)
            rank.append(0)
        else:
            # A parameter matches one non-empty segment; literal text around it (none in
            # Discord's file today, but legal OpenAPI) must match exactly.
            pieces = _PARAM.split(segment)
            segments.append(re.compile("[^/]+".join(re.escape(piece) for piece in pieces)))
            rank.append(1)
    return _Template(template, tuple(segments), tuple(rank))


def _split(path: str) -> list[str]:
    return path.split("/")[1:]


def _normalise_path(path: str) -> str:
    path = path.split("#", 1)[0].split("?", 1)[0]
    path = _API_PREFIX.sub("", path)
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _generic_template(template: str) -> str:
    """The template with parameter names erased, so names need not agree."""
    return _PARAM.sub("{}", _normalise_path(template))


def _pointer_escape(token: str) -> str:
    # RFC 6901 escaping, then percent-encoding because the pointer travels in a URI
    # fragment (templates contain "{", "}" and "@"); referencing unquotes it again.
    return quote(token.replace("~", "~0").replace("/", "~1"), safe="")


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _describe(error: ValidationError) -> list[str]:
    """Readable lines for a top-level error, following oneOf/anyOf to the likeliest causes."""
    lines = []
    for leaf in _causes(error):
        message = leaf.message
        alternatives = leaf.validator_value if leaf.validator in ("oneOf", "anyOf") else None
        if isinstance(alternatives, list) and all(isinstance(a, dict) and "const" in a for a in alternatives):
            # Discord writes enumerations as oneOf lists of consts; name the allowed values
            # instead of jsonschema's "is not valid under any of the given schemas".
            message = f"{leaf.instance!r} is not one of {[a['const'] for a in alternatives]!r}"
        line = f"{leaf.json_path}: {_truncate(message)}"
        if leaf is not error:
            line += f" (no {error.validator} alternative matched at {error.json_path})"
        lines.append(line)
    return lines


def _causes(error: ValidationError) -> list[ValidationError]:
    """The errors of the union alternative the instance was most likely meant as.

    jsonschema's ``best_match`` prefers the deepest error, which for Discord's unions is
    usually the ``type`` discriminator of a wrong alternative ("2 is not one of [10]").
    Here alternatives whose JSON type or discriminator already disagrees are ruled out;
    of the rest, the one the instance got furthest into wins, then the one with the
    fewest problems, and all of its problems are reported. If every alternative is ruled
    out, the union error itself is the most honest report.
    """
    if not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    penalties = {key: _branch_penalty(errors) for key, errors in branches.items()}
    best = min(penalties, key=lambda key: penalties[key])
    if penalties[best][0]:
        return [error]
    return [cause for sub in branches[best] for cause in _causes(sub)]


def _branch_penalty(errors: list[ValidationError]) -> tuple[bool, int, int]:
    # An alternative is ruled out when the instance is not even of its JSON type, or when
    # a const/enum on the value itself or on one of its properties (the "type" field the
    # Discord schemas discriminate on) disagrees.
    ruled_out = any(
        (e.validator == "type" and not e.relative_path)
        or (e.validator in ("const", "enum") and len(e.relative_path) <= 1)
        for e in errors
    )
    return (ruled_out, -max(_depth(e) for e in errors), len(errors))


def _depth(error: ValidationError) -> int:
    """How far into the instance an error (or its deepest nested cause) lies."""
    nested = max((_depth(sub) for sub in error.context), default=0)
    return len(error.relative_path) + nested


class OpenApiValidator:
    """Path matching and response validation against an OpenAPI 3.1 document."""

    _default: ClassVar[OpenApiValidator | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _BASE_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self._operations: dict[tuple[str, str], Operation] = {}
        # Where each operation's responses live in the document, keyed like
        # _operations then by status; needed to point a validator at the schema.
        self._response_pointers: dict[tuple[str, str], dict[str, str]] = {}
        self._templates: list[_Template] = []
        # (method, template with parameter names erased), for covered().
        self._generic: set[tuple[str, str]] = set()
        self._validators: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

        for template, item in document.get("paths", {}).items():
            self._templates.append(_compile_template(template))
            for method, operation in item.items():
                if method not in _HTTP_METHODS:
                    continue  # "parameters", "summary", ... sit beside the methods
                key = (method.upper(), template)
                pointers: dict[str, str] = {}
                responses: dict[str, Mapping[str, Any]] = {}
                base = f"/paths/{_pointer_escape(template)}/{method}/responses"
                for status, response in operation.get("responses", {}).items():
                    pointer, resolved = self._follow(f"{base}/{_pointer_escape(str(status))}", response)
                    pointers[str(status)] = pointer
                    responses[str(status)] = resolved
                self._operations[key] = Operation(key[0], template, operation.get("operationId"), responses)
                self._response_pointers[key] = pointers
                self._generic.add((key[0], _generic_template(template)))

    @classmethod
    def load(cls) -> OpenApiValidator:
        """The validator for the vendored Discord description, built once per process."""
        with cls._default_lock:
            if cls._default is None:
                raw = resources.files(_PACKAGE).joinpath(_SPEC_FILE).read_bytes()
                cls._default = cls(json.loads(raw))
            return cls._default

    # -- lookup -------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        """Every described operation, in document order."""
        return list(self._operations.values())

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path (relative to /api/v10) is routed to."""
        segments = _split(_normalise_path(path))
        candidates = [t for t in self._templates if t.matches(segments)]
        if not candidates:
            return None
        # Path matching is method-blind, as in OpenAPI: "DELETE /users/@me" is not
        # described even though "DELETE /users/{user_id}" might be.
        best = min(candidates, key=lambda t: t.rank)
        return self._operations.get((method.upper(), best.template))

    def covered(self, method: str, path_template: str) -> bool:
        """Whether the document describes ``method`` on ``path_template``.

        Parameter names are ignored, so simcord's "/webhooks/{application_id}/{token}"
        counts as the spec's "/webhooks/{webhook_id}/{webhook_token}".
        """
        return (method.upper(), _generic_template(path_template)) in self._generic

    # -- validation ---------------------------------------------------------------------

    def validate_response(self, method: str, path: str, status: int, body: object | None) -> list[str]:
        """Problems with a response, as readable lines naming the JSON path; [] if none.

        ``body`` is the decoded JSON body, or None when the response has no body.
        """
        operation = self.find_operation(method, path)
        if operation is None:
            return [f"{method.upper()} {path}: no operation in the OpenAPI description matches"]
        where = f"{operation.method} {operation.template} -> {status}"
        status_key = self._status_key(operation, status)
        if status_key is None:
            described = ", ".join(operation.responses) or "none"
            return [f"{where}: status {status} is not described (described: {described})"]

        response = operation.responses[status_key]
        content: Mapping[str, Any] = response.get("content") or {}
        if not content:
            if body is not None:
                return [f"{where}: the response is described without a body, but one was sent"]
            return []
        if body is None:
            return [
                f"{where}: the response is described with a body ({', '.join(content)}), but none was sent"
            ]

        media_type = next((m for m in content if _is_json(m)), None)
        if media_type is None or "schema" not in content[media_type]:
            return []  # not JSON, or no schema given: nothing to check against

        validator = self._validator(operation, status_key, media_type)
        errors: Iterator[ValidationError] = validator.iter_errors(body)
        return [f"{where}: {line}" for error in sorted(errors, key=_error_order) for line in _describe(error)]

    @staticmethod
    def _status_key(operation: Operation, status: int) -> str | None:
        # Exact code, then the range ("4XX"), then "default", as OpenAPI specifies.
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in operation.responses:
                return key
        return None

    def _validator(self, operation: Operation, status_key: str, media_type: str) -> Any:
        key = (operation.method, operation.template, status_key)
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                pointer = self._response_pointers[(operation.method, operation.template)][status_key]
                schema_ref = f"{_BASE_URI}#{pointer}/content/{_pointer_escape(media_type)}/schema"
                # No format_checker: "format" stays an annotation, because the file uses
                # custom formats (snowflake, int64, nonce) that no checker knows.
                validator = Draft202012Validator({"$ref": schema_ref}, registry=self._registry)
                self._validators[key] = validator
            return validator

    def _follow(self, pointer: str, value: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """Follow local ``$ref``s of a response object; return its pointer and contents."""
        seen: set[str] = set()
        while "$ref" in value:
            ref = value["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
                raise ValueError(f"unsupported or circular response reference {ref!r} at {pointer}")
            seen.add(ref)
            pointer = ref[1:]
            value = self._resolve_pointer(pointer)
        return pointer, value

    def _resolve_pointer(self, pointer: str) -> Mapping[str, Any]:
        node: Any = self._document
        for token in _split(pointer):
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        if not isinstance(node, Mapping):
            raise ValueError(f"{pointer} does not point at an object")
        return node


def _is_json(media_type: str) -> bool:
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


def _error_order(error: ValidationError) -> tuple[str, str]:
    return (error.json_path, error.message)
