"""Tests for simcord's OpenAPI response validator (Discord's vendored description)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from simcord.openapi import OpenApiValidator, Operation

SNOWFLAKE = "1234567890123456789"


@pytest.fixture(scope="module")
def validator() -> OpenApiValidator:
    return OpenApiValidator.load()


def user() -> dict[str, Any]:
    """A UserResponse (message authors, mentions, ...): every required field, nothing else."""
    return {
        "id": SNOWFLAKE,
        "username": "pytunes",
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "global_name": None,
        "primary_guild": None,
        "bot": True,
    }


def me() -> dict[str, Any]:
    """A UserPIIResponse for GET /users/@me (requires mfa_enabled and locale, not primary_guild)."""
    body = user()
    del body["primary_guild"]
    body.update(mfa_enabled=False, locale="en-US", verified=True, email=None)
    return body


def message() -> dict[str, Any]:
    """A minimal MessageResponse: exactly the schema's required fields."""
    return {
        "id": "1111111111111111111",
        "channel_id": "2222222222222222222",
        "type": 0,
        "content": "hello",
        "author": user(),
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "attachments": [],
        "embeds": [],
        "components": [],
        "timestamp": "2025-01-01T12:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "pinned": False,
        "tts": False,
    }


def tiny_document(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}


def ok(description: str = "ok", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


def template_of(validator: OpenApiValidator, method: str, path: str) -> str | None:
    operation = validator.find_operation(method, path)
    return None if operation is None else operation.template


def only_error(errors: list[str]) -> str:
    assert len(errors) == 1, errors
    return errors[0]


# -- loading and the operation list -------------------------------------------------------


def test_load_is_cached(validator: OpenApiValidator) -> None:
    assert OpenApiValidator.load() is validator


def test_operations_lists_every_described_operation(validator: OpenApiValidator) -> None:
    operations = validator.operations()
    assert len(operations) == 242
    assert all(op.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} for op in operations)
    by_id = {op.operation_id: op for op in operations}
    get_me = by_id["get_my_user"]
    assert (get_me.method, get_me.template) == ("GET", "/users/@me")
    assert set(get_me.responses) == {"200", "429", "4XX"}
    # The shared 4XX response is a $ref into components/responses; it arrives resolved.
    assert "application/json" in get_me.responses["4XX"]["content"]
    # responses does not take part in equality or hashing.
    assert hash(get_me) == hash(Operation("GET", "/users/@me", "get_my_user"))


def test_every_operation_is_found_from_a_concrete_path(validator: OpenApiValidator) -> None:
    for operation in validator.operations():
        concrete = re.sub(r"\{[^}]+\}", "123", operation.template)
        assert validator.find_operation(operation.method, concrete) == operation, concrete


# -- path matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/users/@me", "/users/@me"),
        ("GET", "/users/80351110224678912", "/users/{user_id}"),
        ("PATCH", "/guilds/1/members/@me", "/guilds/{guild_id}/members/@me"),
        ("PATCH", "/guilds/1/members/2", "/guilds/{guild_id}/members/{user_id}"),
        ("GET", "/guilds/1/members/search", "/guilds/{guild_id}/members/search"),
        (
            "GET",
            "/webhooks/1/tok-en/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ),
        (
            "PATCH",
            "/webhooks/1/tok-en/messages/42",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ),
        (
            "POST",
            "/interactions/789/tok-en/callback",
            "/interactions/{interaction_id}/{interaction_token}/callback",
        ),
        (
            "PUT",
            "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me",
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
        ),
        ("GET", "/users/%40me", "/users/@me"),
        ("post", "/channels/1/messages", "/channels/{channel_id}/messages"),
    ],
)
def test_find_operation(validator: OpenApiValidator, method: str, path: str, template: str) -> None:
    assert template_of(validator, method, path) == template


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/users/@me/", "/users/@me"),
        ("/channels/1/messages/", "/channels/{channel_id}/messages"),
        ("/api/v10/users/@me", "/users/@me"),
        ("/api/users/@me", "/users/@me"),
        ("/channels/1/messages?limit=50", "/channels/{channel_id}/messages"),
    ],
)
def test_find_operation_tolerates_slash_prefix_and_query(
    validator: OpenApiValidator, path: str, template: str
) -> None:
    assert template_of(validator, "GET", path) == template


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/"),
        ("GET", "/channels"),
        ("GET", "/channels//messages"),
        ("GET", "/channels/1/messages/2/reactions/x/@me/extra"),
        ("POST", "/gateway"),
        # The literal ".../messages/pins" wins the path match and has no DELETE, so this is
        # undescribed rather than a delete_message with message_id "pins".
        ("DELETE", "/channels/1/messages/pins"),
    ],
)
def test_find_operation_unknown(validator: OpenApiValidator, method: str, path: str) -> None:
    assert validator.find_operation(method, path) is None


def test_leftmost_literal_segment_wins() -> None:
    document = tiny_document(
        {
            "/a/{x}/c": {"get": {"operationId": "param_first", "responses": {"204": ok()}}},
            "/a/b/{y}": {"get": {"operationId": "literal_first", "responses": {"204": ok()}}},
            "/a/{x}/{y}": {"get": {"operationId": "all_params", "responses": {"204": ok()}}},
        }
    )
    validator = OpenApiValidator(document)

    def operation_id(path: str) -> str | None:
        operation = validator.find_operation("GET", path)
        return None if operation is None else operation.operation_id

    assert operation_id("/a/b/c") == "literal_first"
    assert operation_id("/a/z/c") == "param_first"
    assert operation_id("/a/z/z") == "all_params"


@pytest.mark.parametrize(
    ("method", "template", "expected"),
    [
        ("GET", "/users/@me", True),
        ("get", "/users/@me/", True),
        ("GET", "/channels/{channel_id}/messages", True),
        # Parameter names need not match the spec's ({webhook_id}/{webhook_token}).
        ("POST", "/webhooks/{application_id}/{token}", True),
        ("PATCH", "/webhooks/{application_id}/{token}/messages/@original", True),
        ("POST", "/gateway", False),
        ("GET", "/users/{user_id}/@me", False),
        ("GET", "/not/in/the/spec", False),
    ],
)
def test_covered(validator: OpenApiValidator, method: str, template: str, expected: bool) -> None:
    assert validator.covered(method, template) is expected


# -- GET /users/@me -------------------------------------------------------------------------


def test_valid_user_passes(validator: OpenApiValidator) -> None:
    assert validator.validate_response("GET", "/users/@me", 200, me()) == []


def test_nullable_fields_accept_null_and_values(validator: OpenApiValidator) -> None:
    body = me()
    body.update(avatar="a_0123456789abcdef", global_name="PyTunes", banner=None, accent_color=None)
    assert validator.validate_response("GET", "/users/@me", 200, body) == []


def test_unknown_fields_are_not_reported(validator: OpenApiValidator) -> None:
    # The schemas are open (no additionalProperties: false), as the module docstring says.
    body = me() | {"not_a_discord_field": 1}
    assert validator.validate_response("GET", "/users/@me", 200, body) == []


@pytest.mark.parametrize("field", ["id", "username", "avatar", "global_name", "mfa_enabled", "locale"])
def test_missing_required_user_field_is_named(validator: OpenApiValidator, field: str) -> None:
    body = me()
    del body[field]
    error = only_error(validator.validate_response("GET", "/users/@me", 200, body))
    assert f"'{field}' is a required property" in error
    assert error.startswith("GET /users/@me -> 200: $:")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("username", 5, "$.username: 5 is not of type 'string'"),
        ("id", 80351110224678912, "$.id: 80351110224678912 is not of type 'string'"),  # ids are strings
        ("id", "not-a-snowflake", "$.id: 'not-a-snowflake' does not match"),
        ("bot", "yes", "$.bot: 'yes' is not of type 'boolean'"),
        ("username", None, "$.username: None is not of type 'string'"),
        ("locale", "xx-XX", "$.locale: 'xx-XX' is not one of ['ar', 'bg', 'cs'"),
    ],
)
def test_wrong_type_fails(validator: OpenApiValidator, field: str, value: object, expected: str) -> None:
    body = me() | {field: value}
    error = only_error(validator.validate_response("GET", "/users/@me", 200, body))
    assert expected in error


def test_all_problems_are_reported(validator: OpenApiValidator) -> None:
    body = me() | {"id": 1}
    del body["username"]
    errors = validator.validate_response("GET", "/users/@me", 200, body)
    assert len(errors) == 2
    assert any("'username' is a required property" in e for e in errors)
    assert any(e.endswith("$.id: 1 is not of type 'string'") for e in errors)


# -- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/channels/2222222222222222222/messages"),
        ("GET", "/channels/2222222222222222222/messages/1111111111111111111"),
        ("PATCH", "/channels/2222222222222222222/messages/1111111111111111111"),
        ("POST", "/webhooks/3/token/"),
        ("GET", "/webhooks/3/token/messages/@original"),
        ("PATCH", "/webhooks/3/token/messages/1111111111111111111"),
    ],
)
def test_minimal_message_passes(validator: OpenApiValidator, method: str, path: str) -> None:
    assert validator.validate_response(method, path, 200, message()) == []


def test_richer_message_passes(validator: OpenApiValidator) -> None:
    body = message()
    body.update(
        edited_timestamp="2025-01-01T12:05:00+00:00",
        mentions=[user()],
        embeds=[
            {
                "type": "rich",
                "title": "Now playing",
                "description": "Song",
                "color": 0x5865F2,
                "fields": [{"name": "Queue", "value": "3 tracks", "inline": False}],
                "footer": {"text": "PyTunes"},
            }
        ],
        components=[
            {
                "type": 1,
                "id": 1,
                "components": [
                    {"type": 2, "id": 2, "style": 1, "label": "Skip", "custom_id": "music:skip"},
                    {"type": 2, "id": 3, "style": 5, "label": "Docs", "url": "https://example.org"},
                ],
            }
        ],
        reactions=[
            {
                "emoji": {"id": None, "name": "👍"},
                "count": 1,
                "count_details": {"burst": 0, "normal": 1},
                "burst_colors": [],
                "me_burst": False,
                "me": True,
            }
        ],
        message_reference={"type": 0, "channel_id": "2222222222222222222", "message_id": "9"},
        nonce="abc",
    )
    assert validator.validate_response("POST", "/channels/2/messages", 200, body) == []


def test_message_list(validator: OpenApiValidator) -> None:
    path = "/channels/2/messages"
    assert validator.validate_response("GET", path, 200, [message(), message()]) == []
    assert validator.validate_response("GET", path, 200, []) == []
    bad = message()
    del bad["author"]
    error = only_error(validator.validate_response("GET", path, 200, [message(), bad]))
    assert "$[1]: 'author' is a required property" in error


def test_nested_required_field_is_named(validator: OpenApiValidator) -> None:
    body = message()
    del body["author"]["primary_guild"]  # UserResponse requires it, even though it is nullable
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 200, body))
    assert "$.author: 'primary_guild' is a required property" in error


def test_embed_field_inline_is_required(validator: OpenApiValidator) -> None:
    body = message() | {"embeds": [{"type": "rich", "fields": [{"name": "a", "value": "b"}]}]}
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 200, body))
    assert "$.embeds[0].fields[0]: 'inline' is a required property" in error


def test_union_failure_points_at_the_likeliest_branch(validator: OpenApiValidator) -> None:
    # An action row whose button lacks the "id" Discord assigns to every component.
    row = {"type": 1, "id": 1, "components": [{"type": 2, "style": 1, "custom_id": "x"}]}
    body = message() | {"components": [row]}
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 200, body))
    assert "$.components[0].components[0]: 'id' is a required property" in error
    assert "no oneOf alternative matched at $.components[0]" in error


def test_long_instances_are_truncated(validator: OpenApiValidator) -> None:
    body = message() | {"embeds": "x" * 5000}
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 200, body))
    assert len(error) < 400
    assert error.endswith("…")


def test_message_type_is_a_closed_enum(validator: OpenApiValidator) -> None:
    body = message() | {"type": 13}  # not in MessageType
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 200, body))
    assert error.startswith("POST /channels/{channel_id}/messages -> 200: $.type:")


# -- error responses -------------------------------------------------------------------------


def test_invalid_form_body_error_validates(validator: OpenApiValidator) -> None:
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "content": {"_errors": [{"code": 50006, "message": "Cannot send an empty message"}]},
            "embeds": {"0": {"title": {"_errors": [{"code": 50035, "message": "Too long"}]}}},
        },
    }
    assert validator.validate_response("POST", "/channels/2/messages", 400, body) == []


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_plain_errors_validate_for_any_4xx(validator: OpenApiValidator, status: int) -> None:
    body = {"code": 10008, "message": "Unknown Message"}
    assert validator.validate_response("GET", "/channels/2/messages/3", status, body) == []


def test_error_without_code_fails(validator: OpenApiValidator) -> None:
    error = only_error(validator.validate_response("GET", "/users/@me", 404, {"message": "Not Found"}))
    assert "'code' is a required property" in error
    assert "-> 404:" in error


def test_nested_error_codes_must_be_integers(validator: OpenApiValidator) -> None:
    # Live Discord sends string codes ("BASE_TYPE_REQUIRED") inside _errors, but the
    # published schema reuses Error, whose code is an integer.
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"content": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "Required"}]}},
    }
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 400, body))
    assert "'BASE_TYPE_REQUIRED' is not of type 'integer'" in error


def test_rate_limit_body(validator: OpenApiValidator) -> None:
    body: dict[str, Any] = {"code": 0, "message": "You are being rate limited.", "retry_after": 0.5}
    assert validator.validate_response("POST", "/channels/2/messages", 429, body | {"global": False}) == []
    error = only_error(validator.validate_response("POST", "/channels/2/messages", 429, body))
    assert "'global' is a required property" in error


# -- bodies, statuses and undescribed operations ----------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/channels/2/messages/3"),
        ("POST", "/channels/2/typing"),
        ("PUT", "/channels/2/messages/3/reactions/%F0%9F%91%8D/@me"),
        ("POST", "/interactions/1/token/callback"),
        ("POST", "/webhooks/1/token"),
    ],
)
def test_no_content(validator: OpenApiValidator, method: str, path: str) -> None:
    assert validator.validate_response(method, path, 204, None) == []
    error = only_error(validator.validate_response(method, path, 204, {}))
    assert "described without a body, but one was sent" in error


def test_missing_body_fails(validator: OpenApiValidator) -> None:
    error = only_error(validator.validate_response("GET", "/users/@me", 200, None))
    assert "described with a body (application/json), but none was sent" in error


def test_undescribed_status_fails(validator: OpenApiValidator) -> None:
    error = only_error(validator.validate_response("GET", "/users/@me", 500, {"message": "oops"}))
    assert error == "GET /users/@me -> 500: status 500 is not described (described: 200, 429, 4XX)"
    # 204 is described for some operations but not this one.
    assert len(validator.validate_response("GET", "/users/@me", 204, None)) == 1


def test_undescribed_operation_fails(validator: OpenApiValidator) -> None:
    error = only_error(validator.validate_response("GET", "/definitely/not/discord", 200, {}))
    assert "no operation in the OpenAPI description matches" in error
    assert len(validator.validate_response("POST", "/gateway", 200, {"url": "wss://x"})) == 1


def test_status_ranges_and_default() -> None:
    schema = {"type": "object", "required": ["ok"]}
    document = tiny_document(
        {
            "/thing": {
                "get": {
                    "responses": {
                        "200": ok(schema={"type": "string"}),
                        "2XX": ok(schema=schema),
                        "default": ok(schema={"type": "object", "required": ["error"]}),
                    }
                }
            }
        }
    )
    validator = OpenApiValidator(document)
    assert validator.validate_response("GET", "/thing", 200, "exact code wins") == []
    assert validator.validate_response("GET", "/thing", 202, {"ok": True}) == []
    assert "'ok' is a required property" in only_error(validator.validate_response("GET", "/thing", 201, {}))
    assert validator.validate_response("GET", "/thing", 503, {"error": "down"}) == []
    assert "'error' is a required property" in only_error(
        validator.validate_response("GET", "/thing", 404, {})
    )


def test_non_json_content_is_not_checked(validator: OpenApiValidator) -> None:
    assert validator.validate_response("GET", "/guilds/1/widget.png", 200, b"\x89PNG") == []
