"""TUI themes from YAML files, validated before Textual ever sees them.

A theme file is a mapping of Textual ``Theme`` fields::

    name: sleepchat-dark        # optional, defaults to the file name
    dark: true
    primary: "#7aa2f7"          # the only required colour
    background: "#1a1b26"
    variables:                  # optional Textual design variables
      footer-key-foreground: "#7aa2f7"

A bad file (YAML error, unknown key, a value that is not a colour) is skipped and reported; all
problems come back together so the user fixes them in one go. Loading never raises.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from textual.color import Color, ColorParseError
from textual.theme import Theme

if TYPE_CHECKING:
    from textual.app import App

    from sleepchat.core.preferences import Preferences

log = logging.getLogger("sleepchat.tui")

DEFAULT_THEME = "sleepchat-dark"
# Used when the default file itself is missing or broken: always present in Textual.
BUILTIN_FALLBACK = "textual-dark"
MAX_THEME_BYTES = 64 * 1024

COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
OTHER_KEYS = ("name", "dark", "luminosity_spread", "text_alpha", "variables", "ansi")
KNOWN_KEYS = COLOUR_KEYS + OTHER_KEYS
TEXT_STYLES = {
    "none",
    "not",
    "bold",
    "b",
    "dim",
    "d",
    "italic",
    "i",
    "underline",
    "u",
    "strike",
    "s",
    "reverse",
    "r",
    "blink",
    "overline",
    "o",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ALPHA = re.compile(r"^(.*\S)\s+(\d{1,3})%$")  # Textual accepts "COLOUR 35%"


def shipped_themes_dir() -> Path:
    """The shipped themes: the repo's ``themes/`` folder, installed as the data package
    ``sleepchat.shipped_themes`` (a source checkout reads the folder itself)."""
    source = Path(__file__).resolve().parents[2] / "themes"
    if source.is_dir():
        return source
    spec = importlib.util.find_spec("sleepchat.shipped_themes")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else source


@dataclass
class ThemeLoad:
    themes: dict[str, Theme] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # "FILE: problem", one per bad file
    sources: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str | None:
        """One message covering every bad file, or None when all loaded."""
        if not self.errors:
            return None
        n = len(self.errors)
        head = "a theme file was skipped" if n == 1 else f"{n} theme files were skipped"
        return f"{head}: " + "; ".join(self.errors)


class ThemeFileError(ValueError):
    pass


def _check_colour(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"'{key}' must be a colour string like \"#1e90ff\", not {value!r}")
    text = value.strip()
    if m := _ALPHA.match(text):
        text, pct = m.group(1), int(m.group(2))
        if pct > 100:
            raise ThemeFileError(f"'{key}' has an alpha above 100% ({value!r})")
    try:
        Color.parse(text)
    except ColorParseError:
        raise ThemeFileError(f"'{key}' is not a colour ({value!r})") from None
    return value.strip()


def _check_variable(name: Any, value: Any) -> tuple[str, str]:
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ThemeFileError(f"variable name {name!r} must be lower-case words joined by '-'")
    if name.endswith("-style"):
        words = str(value).split() if isinstance(value, str) else []
        if not words or any(w not in TEXT_STYLES for w in words):
            raise ThemeFileError(
                f"variable '{name}' must be a text style (e.g. bold, reverse, none), not {value!r}"
            )
        return name, value.strip()
    return name, _check_colour(f"variables.{name}", value)


def parse_theme(data: Any, default_name: str) -> Theme:
    """Build a Theme from a loaded YAML document, raising ThemeFileError with the reason."""
    if not isinstance(data, dict):
        raise ThemeFileError("the file must hold a mapping of theme keys (name, primary, ...)")
    unknown = [k for k in data if k not in KNOWN_KEYS]
    if unknown:
        key = str(unknown[0])
        close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ThemeFileError(f"unknown key '{key}'{hint}")
    if "primary" not in data:
        raise ThemeFileError("'primary' colour is missing")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeFileError(f"'name' must be a short name without spaces, not {name!r}")
    kwargs: dict[str, Any] = {"name": name}
    for key in COLOUR_KEYS:
        if data.get(key) is not None:
            kwargs[key] = _check_colour(key, data[key])
    for key in ("dark", "ansi"):
        if key in data:
            if not isinstance(data[key], bool):
                raise ThemeFileError(f"'{key}' must be true or false, not {data[key]!r}")
            kwargs[key] = data[key]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeFileError(f"'{key}' must be a number from 0 to 1, not {value!r}")
            kwargs[key] = float(value)
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ThemeFileError("'variables' must be a mapping of name: value")
    kwargs["variables"] = dict(_check_variable(k, v) for k, v in variables.items())
    theme = Theme(**kwargs)
    try:  # the colour system derives shades: prove it works now, not at the first repaint
        theme.to_color_system().generate()
    except Exception as exc:
        raise ThemeFileError(f"Textual rejected the theme ({exc})") from None
    return theme


def load_theme_file(path: Path) -> Theme:
    try:
        if path.stat().st_size > MAX_THEME_BYTES:
            raise ThemeFileError(f"file is larger than {MAX_THEME_BYTES // 1024} KB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThemeFileError(f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ThemeFileError("it is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ThemeFileError(f"not valid YAML{line}") from None
    return parse_theme(data, path.stem)


def load_themes(dirs: Iterable[Path | None]) -> ThemeLoad:
    """Load every ``*.yaml``/``*.yml`` in ``dirs``; later folders override earlier names."""
    result = ThemeLoad()
    for folder in dirs:
        if folder is None or not folder.is_dir():
            continue
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        for path in files:
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                result.errors.append(f"{path}: {exc}")
                continue
            result.themes[theme.name] = theme
            result.sources[theme.name] = path
    return result


def pick_theme(wanted: str | None, available: Iterable[str]) -> tuple[str, str | None]:
    """The theme to use and, when ``wanted`` is not available, a message saying what happened."""
    names = set(available)
    if wanted and wanted in names:
        return wanted, None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names else BUILTIN_FALLBACK
    if not wanted:
        return fallback, None
    close = difflib.get_close_matches(wanted, sorted(names), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return fallback, f"theme '{wanted}' is not available{hint}; using '{fallback}'"


def use_default_theme(app: App[Any]) -> None:
    """Before the config is known: the shipped default, so the first frame is in it. Called
    from the app's constructor: the theme then applies with the first style pass, where a
    switch after mounting restyles every widget again (~20 ms before the first frame)."""
    from textual.app import App

    try:
        theme = load_theme_file(shipped_themes_dir() / f"{DEFAULT_THEME}.yaml")
    except ThemeFileError:
        return  # reported when the config's themes are loaded
    app.register_theme(theme)
    app.set_reactive(App.theme, theme.name)


def use_themes(app: App[Any], wanted: str | None, user_dir: Path | None) -> None:
    """Register the shipped and the user's themes and switch to ``wanted`` (or the fallback);
    bad files and a missing theme are notified, never fatal."""
    loaded = load_themes([shipped_themes_dir(), user_dir])
    for theme in loaded.themes.values():
        app.register_theme(theme)
    if problem := loaded.summary():
        app.notify(problem, title="Themes", severity="warning", timeout=15)
    name, note = pick_theme(wanted, app.available_themes)
    if note:
        app.notify(note, title="Themes", severity="warning", timeout=10)
    app.theme = name


class RememberedTheme:
    """A theme picked at runtime (Ctrl+T) is saved through the core's preferences and comes back
    at the next start, until the config's theme changes."""

    KEY = "tui.theme"

    def __init__(self, app: App[Any], preferences: Preferences, configured: str | None) -> None:
        self.app = app
        self.preferences = preferences
        self.configured = configured

    async def restore(self) -> None:
        """Switch to the saved theme, then save every later switch."""
        try:
            saved = await self.preferences.get(self.KEY, self.configured)
        except Exception:
            log.exception("reading the saved theme failed")
            saved = None
        if saved in self.app.available_themes:
            self.app.theme = saved
        self.app.theme_changed_signal.subscribe(self.app, self._changed)

    def _changed(self, theme: Theme) -> None:
        self.app.run_worker(self._save(theme.name), group="theme", exclusive=True)

    async def _save(self, name: str) -> None:
        try:
            await self.preferences.set(self.KEY, name, self.configured)
        except Exception as exc:
            self.app.notify(f"could not remember the theme: {exc}", severity="warning")
