"""Open the HTML report in headless Chromium: no console errors, no network, verdict and sections visible.

Needs the Debian packages chromium and chromium-driver (the Makefile installs them) and selenium. The
screenshot is kept as a test artifact in artifacts/report-screenshot.png.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maskaudit.cli import run
from tests.reports.tiny_dataset import Row, make_dataset

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,2000",
)


def _binary(*names: str) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    driver_path = _binary("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed (make browser installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (a dev dependency)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="maskaudit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def open_report(driver: Any, path: Path) -> list[dict[str, Any]]:
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]


def test_demo_report_opens_cleanly_in_chromium(browser: Any, demo_out: Path) -> None:
    from selenium.webdriver.common.by import By

    problems = open_report(browser, demo_out / "report.html")
    assert problems == []
    foreign = [u for u in requested_urls(browser) if u.startswith(("http:", "https:", "ws:", "wss:", "ftp:"))]
    assert foreign == []
    report = json.loads((demo_out / "report.json").read_text())
    verdict = browser.find_element(By.ID, "verdict")
    assert verdict.is_displayed() and verdict.text == report["summary"]["verdict"]
    sections = browser.find_elements(By.CSS_SELECTOR, "section.check")
    assert [s.get_attribute("id") for s in sections] == [f"check-{n}" for n in report["summary"]["by_check"]]
    assert all(s.is_displayed() for s in sections)
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 40, 16000))
    assert browser.save_screenshot(str(ARTIFACTS / "report-screenshot.png"))


def test_hostile_file_name_renders_as_text(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    hostile = "<script>alert(1)</script>.png"
    manifest = make_dataset(tmp_path / "data", [Row("a"), Row("b", empty=True, image_path=f"images/{hostile}",
                                                            mask_path=f"masks/{hostile}")])
    assert run(["scan", str(manifest), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    problems = open_report(browser, tmp_path / "out" / "report.html")
    assert problems == []
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert f"masks/{hostile}" in browser.find_element(By.ID, "check-empty-mask").text
