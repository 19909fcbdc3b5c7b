"""The plugin API, proven from outside: subsets start, bad configurations fail clearly, and a
plugin that lives only in the tests adds a page, a menu item and a collector answer."""

from __future__ import annotations

import itertools
import sys
import textwrap
from pathlib import Path

import pytest

from lms.plugins import PluginError
from lms.signals import collect, get_report_indicators
from tests.conftest import make_app

FIRST_PARTY = ("courses", "quizzes", "certificates")
REQUIRES = {"courses": (), "quizzes": ("courses",), "certificates": ("courses",)}


def _valid_subsets() -> list[tuple[str, ...]]:
    subsets = []
    for size in range(len(FIRST_PARTY) + 1):
        for combo in itertools.permutations(FIRST_PARTY, size):
            if all(r in combo for name in combo for r in REQUIRES[name]):
                subsets.append(combo)
    return subsets


@pytest.mark.parametrize("plugins", _valid_subsets(), ids=lambda p: ",".join(p) or "none")
def test_every_subset_that_respects_requires_starts(database_url: str, plugins: tuple[str, ...]):
    app = make_app(database_url, PLUGINS=list(plugins))
    manager = app.extensions["lms_plugins"]
    assert set(manager.plugins) == set(plugins)
    order = list(manager.plugins)
    for name in plugins:  # a plugin is initialised after what it requires
        for required in REQUIRES[name]:
            assert order.index(required) < order.index(name)
    response = app.test_client().get("/")
    assert response.status_code == 200


def test_unknown_plugin_fails_with_clear_message(database_url: str):
    with pytest.raises(PluginError, match=r"Unknown plugin 'nope' in PLUGINS\. Installed plugins:"):
        make_app(database_url, PLUGINS=["courses", "nope"])


def test_duplicate_plugin_fails_with_clear_message(database_url: str):
    with pytest.raises(PluginError, match="'courses' is named twice"):
        make_app(database_url, PLUGINS=["courses", "courses"])


def test_missing_requirement_fails_with_clear_message(database_url: str):
    with pytest.raises(PluginError, match="'quizzes' requires 'courses', which is not enabled"):
        make_app(database_url, PLUGINS=["quizzes"])


def test_plugins_setting_comes_from_the_environment(database_url: str, monkeypatch):
    monkeypatch.setenv("LMS_PLUGINS", "courses")
    app = make_app(database_url)
    assert list(app.extensions["lms_plugins"].plugins) == ["courses"]


EXTERNAL_PLUGIN = textwrap.dedent(
    '''
    """A plugin that is not first-party: it only uses the public plugin API."""
    from flask import Blueprint
    from lms.plugins import Plugin
    from lms.signals import get_menu_items, get_report_indicators, get_template_hook
    from lms.ui import MenuItem

    bp = Blueprint("greenbadge", __name__, url_prefix="/greenbadge")

    @bp.route("/")
    def index():
        return "Green badge wall"

    def menu(sender, user, **kwargs):
        return MenuItem("Badge wall", "greenbadge.index", order=50)

    def indicators(sender, **kwargs):
        return {"name": "badges-shown", "value": 42}

    def footer(sender, **kwargs):
        return "<span id=greenbadge-footer>badges</span>"

    class GreenBadgePlugin(Plugin):
        name = "greenbadge"
        requires = ("courses",)

        def init_app(self, app):
            self.connect(get_menu_items, menu)
            self.connect(get_report_indicators, indicators)
            self.connect(get_template_hook, footer, sender="footer-links")

        def get_blueprints(self):
            return [bp]
    '''
)


@pytest.fixture
def external_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Install a plugin the way a third party would: a module plus an entry point in its own
    distribution metadata, found through sys.path."""
    (tmp_path / "greenbadge_plugin.py").write_text(EXTERNAL_PLUGIN)
    dist = tmp_path / "greenbadge_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: greenbadge-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[lms.plugins]\ngreenbadge = greenbadge_plugin:GreenBadgePlugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "greenbadge"
    sys.modules.pop("greenbadge_plugin", None)


def test_external_plugin_adds_page_menu_item_and_collector_answer(database_url, external_plugin):
    app = make_app(database_url, PLUGINS=["courses", external_plugin])
    client = app.test_client()
    assert client.get("/greenbadge/").get_data(as_text=True) == "Green badge wall"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/greenbadge/"' in home and "Badge wall" in home
    assert "greenbadge-footer" in home
    with app.app_context():
        assert {"name": "badges-shown", "value": 42} in collect(get_report_indicators)


def test_disabled_plugin_receivers_stay_silent(database_url, external_plugin):
    """Signals are process-wide; an app without the plugin must not hear its receivers."""
    make_app(database_url, PLUGINS=["courses", external_plugin])  # connects the receivers
    app = make_app(database_url, PLUGINS=["courses"])
    home = app.test_client().get("/").get_data(as_text=True)
    assert "Badge wall" not in home and "greenbadge-footer" not in home
    with app.app_context():
        # The courses plugin answers with its own report sources; the badge plugin says nothing.
        assert {"name": "badges-shown", "value": 42} not in collect(get_report_indicators)
