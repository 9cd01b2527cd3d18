"""`teamrel report` opened in headless Chromium (Debian's `chromium`), driven over the
DevTools protocol: every member and handoff is drawn, the incompatible handoff in its colour,
clicking it shows the witness, and the page asks the network for nothing. The screenshots
are docs/img/report-*.png (TEAMREL_UPDATE_SCREENSHOTS=1 rewrites them)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cdp import Browser, find_chromium
from typer.testing import CliRunner

from teamrel.cli.app import app
from teamrel.htmlreport import VERDICT_COLOUR

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it)"),
]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def browser() -> Browser:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as b:
        yield b  # type: ignore[misc]


def _report(src: Path, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    root = tmp_path / "ws"
    shutil.copytree(
        src,
        root,
        ignore=shutil.ignore_patterns(
            ".teamrel", ".venv", ".git", "tests", "docs", "bench", "examples", "teamrel"
        ),
    )
    out = tmp_path / "report.html"
    runner = CliRunner()
    runner.invoke(app, ["-C", str(root), "report", "--out", str(out)])
    plan = runner.invoke(app, ["-C", str(root), "plan", "--format", "json"])
    return out, json.loads(plan.stdout)


def _assert_complete(browser: Browser, plan: dict[str, object]) -> None:
    members = browser.eval("[...document.querySelectorAll('.node')].map(n => n.dataset.name)")
    expected = [m["name"] for m in plan["members"] if m["action"] != "remove"]  # type: ignore[attr-defined,index]
    assert sorted(members) == sorted(expected)
    keys = browser.eval("[...document.querySelectorAll('.edge')].map(e => e.dataset.key)")
    # the graph is the default flag state's; edges proved in other flag states are not drawn
    drawn = [e["key"] for e in plan["handoffs"] if e.get("flag_state") is None]  # type: ignore[attr-defined,index]
    assert sorted(keys) == sorted(drawn)


def _shoot(browser: Browser, name: str, tmp_path: Path) -> None:
    dest = REPO / "docs" / "img" / name
    shot = tmp_path / name
    browser.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("TEAMREL_UPDATE_SCREENSHOTS") or not dest.exists():
        shutil.copy2(shot, dest)


def test_demo_report(browser: Browser, tmp_path: Path) -> None:
    out, plan = _report(REPO, tmp_path)
    mark = len(browser.events)
    browser.open(out)
    assert browser.eval("document.documentElement.dataset.ready") == "1"
    _assert_complete(browser, plan)
    assert browser.eval("document.querySelectorAll('.edge[data-verdict=incompatible]').length") == 0
    # intake changed: its node is coloured by its category, its handoffs are not "unchanged"
    assert browser.eval("document.querySelector('.node[data-name=intake]').dataset.category") == (
        "non-breaking"
    )
    assert (
        browser.eval("document.querySelector('.edge[data-key=\"intake->router\"]').dataset.verdict")
        == "compatible"
    )
    urls = [u for ev in browser.events[mark:] for u in _request_url(ev)]
    assert urls == [out.resolve().as_uri()], urls
    _shoot(browser, "report-demo.png", tmp_path)


def _request_url(ev: dict[str, object]) -> list[str]:
    if ev.get("method") != "Network.requestWillBeSent":
        return []
    return [ev["params"]["request"]["url"]]  # type: ignore[index]


def test_breaking_story_report(browser: Browser, tmp_path: Path) -> None:
    out, plan = _report(REPO / "examples" / "story-b-enum-minor-bump", tmp_path)
    mark = len(browser.events)
    browser.open(out)
    _assert_complete(browser, plan)
    sel = '.edge[data-key="router->billing"]'
    assert browser.eval(f"document.querySelector('{sel}').dataset.verdict") == "incompatible"
    stroke = browser.eval(f"getComputedStyle(document.querySelector('{sel}')).stroke")
    assert stroke == _rgb(VERDICT_COLOUR["incompatible"])
    assert browser.eval("document.querySelector('.node[data-name=router]').dataset.category") == (
        "breaking"
    )
    before = browser.eval("document.getElementById('details').innerText")
    assert '"intent": "cancel_subscription"' not in before
    # a real click on the middle of the drawn edge
    x, y = browser.eval(
        f"""(() => {{
          const p = document.querySelector('{sel}');
          p.scrollIntoView({{block: 'center', inline: 'center'}});
          const pt = p.getPointAtLength(p.getTotalLength() / 2);
          const m = p.getScreenCTM();
          return [pt.x * m.a + pt.y * m.c + m.e, pt.x * m.b + pt.y * m.d + m.f];
        }})()"""
    )
    browser.click(x, y)
    details = browser.eval("document.getElementById('details').innerText")
    assert "router->billing" in details
    assert '"intent": "cancel_subscription"' in details
    assert "enum-extended" in details and "/intent" in details
    assert browser.eval(f"document.querySelector('{sel}').classList.contains('sel')")
    urls = [u for ev in browser.events[mark:] for u in _request_url(ev)]
    assert urls == [out.resolve().as_uri()], urls
    _shoot(browser, "report-story-b.png", tmp_path)
