"""Library file names: whatever a user types, uploads or links, the file stays directly inside the library."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytunes.music.library.names import (
    AUDIO_EXTENSIONS,
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    BadNameError,
    content_type_extension,
    safe_path,
    sanitize,
    unique_name,
)
from pytunes.music.library.store import LibraryFile, Match, match_files

HOSTILE = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\cmd.exe",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "..",
    ".",
    "...",
    "a\x00b.mp3",
    "\x00",
    "line\nbreak\r.mp3",
    "evil\u202e3pm.exe",
    "zero\u200bwidth.mp3",
    "  .hidden.mp3  ",
    "x" * 5000 + ".mp3",
    "é" * 400,
    "🎵" * 300 + ".flac",
    "CON",
    "con.mp3",
    "NUL.txt.mp3",
    "com1.wav",
    "LPT9 .ogg",
    "aux",
    'a:b?c*d<e>f|g"h.ogg',
    "file:///etc/passwd",
    "~/.ssh/id_rsa",
    "$(rm -rf ~).mp3",
    "",
    "   ",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_names_become_plain_names_inside_the_library(raw: str, tmp_path: Path) -> None:
    name = sanitize(raw)
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert not name.startswith(".")
    assert name == name.strip()
    assert all(ord(ch) >= 0x20 for ch in name)
    stem, _, ext = name.rpartition(".")
    assert ext in AUDIO_EXTENSIONS
    assert stem
    assert len(stem) <= MAX_NAME_CHARS
    assert len(stem.encode()) <= MAX_NAME_BYTES
    assert stem.split(".")[0].upper().rstrip() not in {"CON", "NUL", "AUX", "PRN", "COM1", "LPT9"}
    path = safe_path(tmp_path, name)
    assert path.parent == tmp_path.resolve()
    # The file system accepts it (length included), and with the longest collision suffix too.
    path.write_bytes(b"x")
    (tmp_path / unique_name(name, lambda n: n == name)).write_bytes(b"y")


def test_known_cases() -> None:
    assert sanitize("../../etc/passwd") == "_.._etc_passwd.mp3"
    assert sanitize("AC/DC - Back in Black") == "AC_DC - Back in Black.mp3"
    assert sanitize("Song.MP3") == "Song.mp3"
    assert sanitize("con.mp3") == "_con.mp3"
    assert sanitize("a\x00b.wav") == "a_b.wav"
    assert sanitize("...") == "download.mp3"
    assert sanitize("evil\u202e3pm.exe") == "evil_3pm.exe.mp3"
    assert sanitize("report.pdf", default_extension="ogg") == "report.pdf.ogg"
    with pytest.raises(BadNameError):
        sanitize("report.pdf", default_extension=None)


def test_collisions_count_up_and_stop_at_999() -> None:
    taken = {"song.mp3", "song (1).mp3"}
    assert unique_name("song.mp3", lambda n: n in taken) == "song (2).mp3"
    assert unique_name("song (1).mp3", lambda n: n in taken) == "song (2).mp3"
    with pytest.raises(BadNameError, match="too many"):
        unique_name("song.mp3", lambda n: True)


@pytest.mark.parametrize(
    "name", ["../x.mp3", "/etc/passwd", "a/b.mp3", ".hidden.mp3", "x\x00.mp3", "", "..", "."]
)
def test_safe_path_refuses_anything_but_a_plain_name(name: str, tmp_path: Path) -> None:
    with pytest.raises(BadNameError):
        safe_path(tmp_path, name)


def test_safe_path_refuses_a_symlink_that_leads_out(tmp_path: Path) -> None:
    root = tmp_path / "library"
    root.mkdir()
    outside = tmp_path / "secret.mp3"
    outside.write_bytes(b"secret")
    os.symlink(outside, root / "link.mp3")
    with pytest.raises(BadNameError, match="outside"):
        safe_path(root, "link.mp3")
    os.symlink(root / "nowhere", root / "loop.mp3")  # dangling inside: resolves inside, fine
    assert safe_path(root, "loop.mp3").parent == root.resolve()


def test_content_types_map_to_extensions() -> None:
    assert content_type_extension("audio/mpeg") == "mp3"
    assert content_type_extension("audio/x-wav; charset=binary") == "wav"
    assert content_type_extension("audio/x-m4a") == "m4a"
    assert content_type_extension("text/html") is None
    assert content_type_extension(None) is None


def test_exact_title_wins_over_substrings() -> None:
    files = [LibraryFile("song remix.mp3"), LibraryFile("Song.mp3"), LibraryFile("other.mp3")]
    found = match_files(files, "song")
    assert found.exact
    assert [f.name for f in found.files] == ["Song.mp3"]
    assert match_files(files, "SONG.MP3").exact
    loose = match_files(files, "on")
    assert not loose.exact
    assert len(loose.files) == 2
    assert len(match_files(files, "  ").files) == 3


def test_every_exact_match_is_offered_and_the_file_name_beats_a_title() -> None:
    files = [LibraryFile("song.flac"), LibraryFile("song.mp3"), LibraryFile("song.mp3.mp3")]
    both = match_files(files, "Song")
    assert both.exact
    assert [f.name for f in both.files] == ["song.flac", "song.mp3"], "two files called “song”: a pick"
    # "song.mp3" is one file's name and another's title; the name is the one meant.
    assert match_files(files, "song.mp3").files == (LibraryFile("song.mp3"),)
    assert match_files(files, "SONG.MP3").files == (LibraryFile("song.mp3"),)
    assert match_files(files, "song.mp3.mp3").files == (LibraryFile("song.mp3.mp3"),)


def test_a_long_name_is_offered_as_a_token_that_resolves_to_it() -> None:
    long = LibraryFile("a" * 130 + ".mp3")
    clipped_twin = LibraryFile("a" * 96 + ".mp3")  # 100 characters: still a value
    files = [long, clipped_twin]
    assert long.choice_value == long.token
    assert len(long.token) == 9
    assert long.token.startswith("#")
    assert clipped_twin.choice_value == clipped_twin.name
    assert match_files(files, long.token) == Match((long,), exact=True)
    assert match_files(files, f" {long.token} ") == Match((long,), exact=True)


audio_names = st.builds(
    lambda stem, ext: f"{stem}.{ext}",
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\\0"), min_size=1, max_size=140
    ),
    st.sampled_from(AUDIO_EXTENSIONS),
)


@settings(max_examples=200)
@given(st.lists(audio_names, min_size=1, max_size=12, unique=True))
@example(["a.mp3", " a.mp3"])  # a name that is another one with a space in front
def test_every_autocomplete_value_resolves_to_exactly_its_file(names: list[str]) -> None:
    """Whatever the library holds (same titles, names that are other files' titles, names too long
    for a choice), the value autocomplete sends for a file names that file and no other."""
    files = [LibraryFile(name) for name in names]
    for file in files:
        assert len(file.choice_value) <= 100
        assert match_files(files, file.choice_value) == Match((file,), exact=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(min_size=0, max_size=400))
def test_any_text_sanitizes_to_a_path_directly_inside_the_root(raw: str, tmp_path: Path) -> None:
    name = sanitize(raw)
    path = safe_path(tmp_path, name)
    assert path.parent == tmp_path.resolve()
    assert sanitize(name) == name, "sanitizing is idempotent"
    assert len(name.encode()) <= 255 - len(" (999)")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(alphabet=st.sampled_from(list("./\\\x00 aZ.:~é\u202e")), max_size=40))
def test_path_like_text_never_escapes(raw: str, tmp_path: Path) -> None:
    name = sanitize(raw)
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()
