"""The plugin API: a base class, and the manager that loads the plugins named in `PLUGINS`
from the `lms.plugins` entry points, in `requires` order.

The core never imports a plugin module by name; it only reads entry points. A plugin imports
`lms` and the plugins it requires.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar

import click
from blinker import ANY, Signal
from flask import Blueprint, Flask, current_app

from lms.config import parse_setting
from lms.signals import app_created

ENTRY_POINT_GROUP = "lms.plugins"


class PluginError(RuntimeError):
    """A plugin configuration that cannot start: the message says what to change."""


class Plugin:
    """Base class of every plugin.

    `name` is also the blueprint name, URL prefix, table-name prefix and template folder.
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    #: Settings the plugin reads from `app.config`, with their defaults (`LMS_<NAME>` in the
    #: environment overrides them, like the core's).
    default_settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, app: Flask) -> None:
        self.app = app

    @property
    def package(self) -> str:
        """The package of a plugin laid out as `pkg/plugin.py`, else the plugin's module."""
        module = type(self).__module__
        return module.rsplit(".", 1)[0] if module.endswith(".plugin") else module

    @property
    def root_path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.origin is not None
        return Path(spec.origin).parent

    def init_app(self, app: Flask) -> None:
        """Connect signal receivers (with `connect`) and do any other set-up."""

    def connect(self, signal: Signal, receiver: Callable[..., Any], sender: Any = ANY) -> None:
        """Connect a receiver that runs only in apps where this plugin is enabled.

        Signals are process-wide while apps are not (tests build many apps with different
        plugin sets), so a receiver must not fire for an app that did not load its plugin."""
        key = (self.name, signal.name, receiver)
        wrapper = _guarded_receivers.get(key)
        if wrapper is None:
            name = self.name

            @functools.wraps(receiver)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                manager = current_app.extensions.get("lms_plugins")
                if manager is None or name not in manager:
                    return None
                return receiver(*args, **kwargs)

            _guarded_receivers[key] = wrapper
        signal.connect(wrapper, sender=sender, weak=False)

    def get_blueprints(self) -> Iterable[Blueprint]:
        return ()

    def get_cli(self) -> click.Group | None:
        return None


_guarded_receivers: dict[tuple[str, str, Callable[..., Any]], Callable[..., Any]] = {}


def _entry_points() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, []).append(ep)
    return found


def _sorted_by_requires(names: list[str], requires: dict[str, tuple[str, ...]]) -> list[str]:
    """Order plugins so each comes after what it requires; keep the configured order otherwise."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in visiting:
            cycle = " -> ".join((*chain, name))
            raise PluginError(f"Plugins require each other in a cycle: {cycle}.")
        visiting.add(name)
        for dependency in requires[name]:
            visit(dependency, (*chain, name))
        visiting.discard(name)
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


class PluginManager:
    """Loads, orders and initialises the enabled plugins of one app."""

    def __init__(self) -> None:
        self.plugins: dict[str, Plugin] = {}

    def load(self, app: Flask) -> None:
        names: list[str] = list(app.config["PLUGINS"])
        available = _entry_points()
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise PluginError(f"Plugin '{name}' is named twice in PLUGINS.")
            seen.add(name)
            if name not in available:
                known = ", ".join(sorted(available)) or "none"
                raise PluginError(
                    f"Unknown plugin '{name}' in PLUGINS. Installed plugins: {known}."
                )
            if len(available[name]) > 1:
                sources = ", ".join(ep.value for ep in available[name])
                raise PluginError(f"Plugin name '{name}' is provided twice: {sources}.")

        classes: dict[str, type[Plugin]] = {}
        for name in names:
            cls = available[name][0].load()
            if not (isinstance(cls, type) and issubclass(cls, Plugin)):
                raise PluginError(f"Entry point '{name}' is not a Plugin subclass.")
            if cls.name != name:
                raise PluginError(
                    f"Entry point '{name}' loads a plugin that calls itself '{cls.name}'."
                )
            classes[name] = cls
        for name, cls in classes.items():
            missing = [r for r in cls.requires if r not in classes]
            if missing:
                raise PluginError(
                    f"Plugin '{name}' requires {', '.join(repr(m) for m in missing)}, "
                    "which is not enabled: add it to PLUGINS or remove "
                    f"'{name}'."
                )

        for name in _sorted_by_requires(names, {n: c.requires for n, c in classes.items()}):
            self._init_plugin(app, classes[name](app))
        app_created.send(app)

    def _init_plugin(self, app: Flask, plugin: Plugin) -> None:
        for key, default in plugin.default_settings.items():
            raw = os.environ.get(f"LMS_{key}")
            app.config.setdefault(key, default if raw is None else parse_setting(raw, default))
        package = importlib.import_module(plugin.package)
        if hasattr(package, "__path__") and importlib.util.find_spec(f"{plugin.package}.models"):
            importlib.import_module(f"{plugin.package}.models")
        translations = plugin.root_path / "translations"
        if translations.is_dir():
            app.config["BABEL_TRANSLATION_DIRECTORIES"] += f";{translations}"
        plugin.init_app(app)
        for blueprint in plugin.get_blueprints():
            app.register_blueprint(blueprint)
        group = plugin.get_cli()
        if group is not None:
            app.cli.add_command(group)
        self.plugins[plugin.name] = plugin

    def __contains__(self, name: str) -> bool:
        return name in self.plugins
