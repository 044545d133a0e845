"""Theme files: shipped ones load, bad ones are reported together, never crash later."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleepchat.tui.themes import (
    BUILTIN_FALLBACK,
    DEFAULT_THEME,
    load_themes,
    parse_theme,
    pick_theme,
    shipped_themes_dir,
)


def test_shipped_themes_load_with_one_light_and_the_default() -> None:
    loaded = load_themes([shipped_themes_dir()])
    assert loaded.errors == []
    assert len(loaded.themes) >= 3
    assert DEFAULT_THEME in loaded.themes
    assert any(not t.dark for t in loaded.themes.values())


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"name": "x", "primary": "#12345z"}, "'primary' is not a colour"),
        ({"name": "x", "primary": 3}, "'primary' must be a colour string"),
        ({"name": "x"}, "'primary' colour is missing"),
        ({"name": "x", "primry": "#123456"}, "did you mean 'primary'"),
        ({"name": "bad name", "primary": "#123456"}, "'name' must be a short name"),
        ({"primary": "#123", "dark": "yes"}, "'dark' must be true or false"),
        ({"primary": "#123", "variables": {"footer-key-foreground": "nope"}}, "is not a colour"),
        ({"primary": "#123", "variables": {"block-cursor-text-style": "shiny"}}, "text style"),
        ({"primary": "#123", "luminosity_spread": 7}, "number from 0 to 1"),
        ({"primary": "#123", "background": "#112233 150%"}, "alpha above 100%"),
        (["primary", "#123"], "must hold a mapping"),
    ],
)
def test_bad_documents_are_refused_with_the_reason(doc: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")):
        parse_theme(doc, "x")


def test_good_document_keeps_colours_alpha_and_styles() -> None:
    theme = parse_theme(
        {
            "primary": "rgb(10, 20, 30)",
            "background": "#101010",
            "dark": False,
            "variables": {"input-selection-background": "#aabbcc 30%", "x-y-style": "bold reverse"},
        },
        "fromfile",
    )
    assert theme.name == "fromfile" and not theme.dark
    assert theme.variables["input-selection-background"] == "#aabbcc 30%"


def test_bad_files_are_reported_together_and_good_ones_still_load(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("primary: [unclosed\n")
    (tmp_path / "b.yaml").write_text("primary: '#nothex'\n")
    (tmp_path / "c.yml").write_bytes(b"\xff\xfe garbage")
    (tmp_path / "good.yaml").write_text("primary: '#336699'\n")
    (tmp_path / "notes.txt").write_text("ignored")
    loaded = load_themes([shipped_themes_dir(), tmp_path, tmp_path / "missing"])
    assert "good" in loaded.themes and DEFAULT_THEME in loaded.themes
    assert len(loaded.errors) == 3
    summary = loaded.summary()
    assert summary is not None and summary.startswith("3 theme files were skipped")
    assert "a.yaml: not valid YAML at line" in summary
    assert "b.yaml: 'primary' is not a colour" in summary
    assert "c.yml: it is not UTF-8 text" in summary


def test_a_user_theme_overrides_a_shipped_one_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(f"name: {DEFAULT_THEME}\nprimary: '#ff0000'\n")
    loaded = load_themes([shipped_themes_dir(), tmp_path])
    assert loaded.themes[DEFAULT_THEME].primary == "#ff0000"
    assert loaded.sources[DEFAULT_THEME] == tmp_path / "mine.yaml"


def test_pick_theme_falls_back_and_says_why() -> None:
    assert pick_theme("nord", ["nord", DEFAULT_THEME]) == ("nord", None)
    name, note = pick_theme("sleepchat-drak", [DEFAULT_THEME, "textual-dark"])
    assert name == DEFAULT_THEME and note is not None and "did you mean 'sleepchat-dark'" in note
    assert pick_theme("gone", ["textual-dark"])[0] == BUILTIN_FALLBACK
