"""docs/configuration.md is generated from the Settings model and agrees with `.env.example`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytunes import config_doc
from pytunes.config import Settings
from tests.unit.test_config import env_example_sections

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def documented_rows(text: str) -> dict[str, list[str]]:
    """The page's table rows by section: {section title: [SETTING, ...]} in the page's order."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif (row := re.match(r"\| `([A-Z][A-Z0-9_]*)` \|", line)) and current is not None:
            current.append(row[1])
    return sections


def test_the_page_is_what_the_model_generates() -> None:
    assert DOC.read_text(encoding="utf-8") == config_doc.render(), (
        "docs/configuration.md is out of date: run `python -m pytunes.config_doc` and commit the result"
    )


def test_every_setting_has_a_description_and_one_row() -> None:
    undescribed = [
        name for name, info in Settings.model_fields.items() if not (info.description or "").strip()
    ]
    assert not undescribed, f"give these settings a Field(description=...): {undescribed}"
    rows = [name for names in documented_rows(DOC.read_text(encoding="utf-8")).values() for name in names]
    assert rows == [name.upper() for name in Settings.model_fields], (
        "one row per setting, in the model's order"
    )


def test_the_page_and_env_example_group_the_settings_alike() -> None:
    page = documented_rows(DOC.read_text(encoding="utf-8"))
    example = env_example_sections()
    assert [s.title for s in example[1:]] == list(page)[1:], ".env.example's '# ---- X ----' headings"
    assert example[0].title is None, "the first settings in .env.example come before any heading"
    for section, (title, names) in zip(example, page.items(), strict=True):
        assert sorted(section.names) == sorted(names), f"section {title!r} lists other settings"


def test_defaults_and_values_come_from_the_model() -> None:
    rows = {
        line.split("|")[1].strip(" `"): [cell.strip() for cell in line.split("|")[2:4]]
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    assert rows["COMMAND_PREFIX"] == ["`!`", "text, 1 to 5 characters"]
    assert rows["MEDIA_WORKERS"] == ["`2`", "whole number, 1 to 8"]
    assert rows["STREAM_STALL_SECONDS"] == ["`15`", "number, > 0"]
    assert rows["DISCORD_TOKEN"] == ["unset", "secret text"]
    assert rows["TRUSTED_PLAYLIST_HOSTS"][0] == "empty"
    assert rows["GATHER_AUTO_CHECKIN"] == ["`true`", "true or false"]
    assert rows["LIBRARY_DIR"] == ["`data/library`", "file path"]


def test_groups_must_start_at_model_fields() -> None:
    with pytest.raises(ValueError, match="start a section"):
        config_doc.groups(["log_level", "discord_token"])
    with pytest.raises(ValueError, match="does not have"):
        config_doc.groups(["discord_token"])


def test_the_command_writes_the_page_and_checks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "docs" / "configuration.md"
    assert config_doc.main([str(target), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert config_doc.main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == config_doc.render()
    assert config_doc.main([str(target), "--check"]) == 0
    target.write_text(config_doc.render() + "edited by hand\n", encoding="utf-8")
    assert config_doc.main([str(target), "--check"]) == 1
