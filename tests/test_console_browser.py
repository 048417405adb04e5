"""The reviewer console in headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

A county reviewer logs in, sees only the region's lessons, opens one, clicks a finding (the
player seeks to its start), dismisses a finding with a note and passes the lesson; a city
reviewer then sees it with the county's decision in its history. Screenshots of the queue and
lesson pages are saved under .cache/artifacts (LESSONQC_ARTIFACTS overrides).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import consolekit as kit

pytestmark = [pytest.mark.browser, pytest.mark.model]  # the lesson page's screenshot shows the transcript
@pytest.fixture(scope="session")
def console_lesson(media_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """conftest's lesson checked with speech too (transcript, spoken promotion)."""
    return kit.make_checked_lesson(media_cache, tmp_path_factory.mktemp("console-report-spoken"))


@pytest.fixture
def browser():
    yield from kit.browser(size=(1366, 768))


@pytest.fixture
def live(tmp_path, console_lesson, monkeypatch):
    """`lessonqc serve`'s app on a real socket over a seeded SQLite index (the player streams from /api/v1)."""
    app, database = kit.service_app(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}",
                                    console_lesson[0].parent, settings=kit.fast_settings())
    kit.seed(database, *console_lesson)
    server = kit.serve(app)
    yield server, database
    server.stop()


def test_county_reviewer_passes_a_lesson_and_the_city_sees_the_decision(browser, live, console_lesson):
    from selenium.webdriver.common.by import By

    server, database = live
    _, _, doc = console_lesson
    ad = kit.finding_seq(doc, "text.ad")
    start = doc["findings"][ad]["start_s"]
    kit.log_in(browser, server.url, "county_xihu")
    rows = {r.get_attribute("data-job") for r in browser.find_elements(By.CSS_SELECTOR, "tr.lesson-row")}
    assert rows == {"xihu-a", "xihu-b"}
    assert "<script>alert(1)</script>认识图形" in browser.find_element(By.ID, "queue").text, "shown as text, escaped"
    assert kit.shot(browser, "console-queue.png").stat().st_size > 10_000

    browser.find_element(By.CSS_SELECTOR, "tr[data-job='xihu-a'] td.title a").click()
    kit.wait_for(browser, lambda d: d.execute_script("return document.getElementById('player').readyState") >= 1)
    browser.find_element(By.CSS_SELECTOR, f"#finding-{ad} .message").click()
    kit.wait_for(browser, lambda d: abs(d.execute_script("return document.getElementById('player').currentTime") - start) <= 1.0)

    card = browser.find_element(By.ID, f"finding-{ad}")
    card.find_element(By.NAME, "note").send_keys("引用的是教材配套网站，已核实")
    card.find_element(By.CSS_SELECTOR, "button[value=dismissed]").click()
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, f"review-{ad}"))
    assert "已排除" in browser.find_element(By.ID, f"review-{ad}").text

    browser.find_element(By.CSS_SELECTOR, f"#finding-{ad} .message").click()     # the picture: player at the ad
    kit.wait_for(browser, lambda d: d.execute_script("var v = document.getElementById('player');"
                                                     "return !v.seeking && v.readyState >= 3 && v.currentTime > 1"))
    current = kit.wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript li.current"))[0]
    assert float(current.get_attribute("data-start")) <= start, "the line under the playhead is highlighted"
    time.sleep(1.5)   # only for the picture: the player's loading indicator fades out
    kit.shot(browser, "console-lesson.png")
    browser.find_element(By.CSS_SELECTOR, "#decision-form input[value=pass]").click()
    browser.find_element(By.ID, "reason").send_keys("画面与讲解规范，同意推荐")
    browser.find_element(By.CSS_SELECTOR, "#confirm-unreviewed input").click()   # the other failures unreviewed
    browser.find_element(By.ID, "decide").click()
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, "history-list"))
    assert "已报送市级遴选" in browser.find_element(By.ID, "flash").text
    assert kit.level_of(database, "xihu-a") == "city"

    browser.delete_all_cookies()
    kit.log_in(browser, server.url, "city_hangzhou")
    assert {r.get_attribute("data-job") for r in browser.find_elements(By.CSS_SELECTOR, "tr.lesson-row")} == {"xihu-a"}
    browser.find_element(By.CSS_SELECTOR, "tr[data-job='xihu-a'] td.title a").click()
    history = kit.wait_for(browser, lambda d: d.find_elements(By.ID, "history-list"))[0].text
    assert "县级初选" in history and "通过" in history and kit.DISPLAY_NAMES["county_xihu"] in history and "同意推荐" in history
    assert browser.find_elements(By.ID, "decision-form"), "the city level may now decide"


def test_keyboard_shortcuts_walk_findings_and_decide(browser, live, console_lesson):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server, database = live
    _, _, doc = console_lesson
    timed = [i for i, f in enumerate(doc["findings"]) if f["start_s"] is not None]
    kit.log_in(browser, server.url, "county_xihu")
    browser.get(f"{server.url}/console/lessons/xihu-b")
    kit.wait_for(browser, lambda d: d.execute_script("return document.getElementById('player').readyState") >= 1)
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(timed[0] + 1):
        body.send_keys("j")
    assert "selected" in browser.find_element(By.ID, f"finding-{timed[0]}").get_attribute("class")
    start = doc["findings"][timed[0]]["start_s"]
    kit.wait_for(browser, lambda d: abs(d.execute_script("return document.getElementById('player').currentTime") - start) <= 1.0)
    body.send_keys("c")
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, f"review-{timed[0]}"))
    browser.find_element(By.TAG_NAME, "body").send_keys("x")
    reason = browser.switch_to.active_element
    assert reason.get_attribute("id") == "reason"
    reason.send_keys("含广告信息")
    reason.send_keys(Keys.CONTROL, Keys.ENTER)
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, "history-list"))
    assert "不通过" in browser.find_element(By.ID, "history-list").text
    assert kit.level_of(database, "xihu-b") == "county"
