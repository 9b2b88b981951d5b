"""End to end in a real browser: start ``failgraph ui`` on a free loopback port, type a realistic report into the chat
with headless Chromium (Debian's ``chromium`` package, driven by Playwright), wait for the answer and check that a
root cause, a fix and a link are on the page. A screenshot is written to ``$FAILGRAPH_SCREENSHOT`` (else the test's
temporary directory)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import REPORT, free_port, small_home, small_kb

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser")
                             or "") if p and Path(p).exists()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")


def ui_command(port: int, home: Path) -> list[str]:
    """``failgraph ui`` when the main CLI has the command, else the same command from its own module."""
    exe = Path(sys.executable).with_name("failgraph")
    args = ["ui", "--port", str(port), "--host", "127.0.0.1", "--home", str(home)]
    if exe.exists():
        probe = subprocess.run([str(exe), "ui", "--help"], check=False, capture_output=True, text=True, timeout=60)
        if probe.returncode == 0:
            return [str(exe), *args]
    return [sys.executable, "-m", "failgraph.ui.cli_serve", *args]


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory, dataset_dir):
    home = small_home(tmp_path_factory, dataset_dir)
    small_kb(tmp_path_factory, dataset_dir)  # saves the text index in the snapshot: the UI process only reads it
    port = free_port()
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(ui_command(port, home.root), stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"failgraph ui did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.25)
    yield url
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def test_chat_answers_a_real_report_in_chromium(ui_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from failgraph.ontology import Level, load_taxonomy

    shot = Path(os.environ.get("FAILGRAPH_SCREENSHOT") or tmp_path / "failgraph-chat.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 3200})
            page.goto(ui_server, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=120_000)  # the first page load also loads the knowledge base
            box.fill(REPORT)
            box.press("Enter")
            expect(page.get_by_text("Most likely root causes", exact=True)).to_be_visible(timeout=120_000)
            expect(page.get_by_text("Fix steps", exact=True).first).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Similar past failures", exact=True)).to_be_visible(timeout=30_000)
            page.wait_for_timeout(1500)  # let the explanation graph render before the picture
            body = page.inner_text("body")
            leaves = [c.label for c in load_taxonomy().concepts("root_cause", Level.leaf)]
            assert any(label in body for label in leaves), body[:3000]
            assert "score 0." in body and "similarity 0." in body
            links = page.locator('a[href^="https://github.com/"]')
            assert links.count() >= 1
            assert "/issues/" in (links.first.get_attribute("href") or "")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
