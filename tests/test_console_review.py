"""A day of reviewing in headless Chromium at 1366×768 (Debian's chromium + chromedriver, Selenium).

Confirm/dismiss without a page load (the player keeps its time and play state), the earlier level's
review on the next level's cards, 提示 grouped with one bulk dismiss, pass asking once about unreviewed
failures, undo until the next level opens the lesson, an expired session keeping the typed note, the
farm's report.html playing its video through the console, and axe-core finding no serious or critical
accessibility violation on the queue and lesson pages.
"""
from __future__ import annotations

import shutil

import pytest

from tests import consolekit as kit

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    yield from kit.browser(size=(1366, 768))


@pytest.fixture
def live(tmp_path, console_lesson, monkeypatch):
    """The service app on a real socket over a seeded SQLite index, with the 提示-heavy lesson too."""
    app, database = kit.service_app(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}",
                                    console_lesson[0].parent, settings=kit.fast_settings())
    kit.seed(database, *console_lesson)
    extra = kit.seed_review_extras(database, *console_lesson)
    server = kit.serve(app)
    yield server, database, extra
    server.stop()


def js(driver, script: str):
    return driver.execute_script(script)


def click(driver, element) -> None:
    """Click `element` scrolled to the middle of the window (the pinned decision panel covers the bottom)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def open_lesson(driver, url: str, job: str) -> None:
    driver.get(f"{url}/console/lessons/{job}")
    kit.wait_for(driver, lambda d: js(d, "return document.getElementById('player').readyState") >= 1)
    js(driver, "window.__stayed = true")      # gone after any full page load


def playing_at(driver, seconds: float) -> None:
    """Start the player at `seconds` and wait until it really plays."""
    js(driver, f"var v = document.getElementById('player'); v.currentTime = {seconds}; v.play()")
    kit.wait_for(driver, lambda d: js(d, "var v = document.getElementById('player');"
                                         f"return !v.paused && v.currentTime > {seconds} + 0.2"))


def test_confirm_and_dismiss_keep_the_page_and_the_player_playing(browser, live, console_lesson):
    from selenium.webdriver.common.by import By

    server, _, _ = live
    doc = console_lesson[2]
    ad, duration = kit.finding_seq(doc, "text.ad"), kit.finding_seq(doc, "tech.duration")
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-a")
    total = len(doc["findings"])
    assert browser.find_element(By.ID, "progress").text.startswith(f"已审 0 / {total}")
    playing_at(browser, 2.0)
    card = browser.find_element(By.ID, f"finding-{ad}")
    card.find_element(By.NAME, "note").send_keys("核实为教材网站")
    card.find_element(By.CSS_SELECTOR, "button[value=dismissed]").click()
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, f"review-{ad}"))
    assert "已排除" in browser.find_element(By.ID, f"review-{ad}").text
    assert "核实为教材网站" in browser.find_element(By.ID, f"review-{ad}").text
    assert js(browser, "return window.__stayed === true"), "no page load"
    assert js(browser, "var v = document.getElementById('player'); return !v.paused && v.currentTime > 2.2"), \
        "the player kept playing from where it was"
    assert browser.find_element(By.ID, "flash").text == "已排除该问题。"
    browser.find_element(By.CSS_SELECTOR, f"#finding-{duration} button[value=confirmed]").click()
    kit.wait_for(browser, lambda d: d.find_element(By.ID, "progress").text.startswith(f"已审 2 / {total}"))
    assert js(browser, "return window.__stayed === true && !document.getElementById('player').paused")
    assert "已确认" in browser.find_element(By.ID, f"review-{duration}").text
    left = js(browser, "return parseFloat(document.getElementById('playhead').style.left)")
    assert 100 * 2.0 / doc["media"]["duration_s"] < left <= 100, "the playhead follows the player"
    assert [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#scale span")][::4] == ["00:00", "00:20"]


def test_space_on_the_focused_player_and_ctrl_enter_in_a_note(browser, live):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server, _, _ = live
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-b")
    js(browser, "document.getElementById('player').focus()")
    browser.switch_to.active_element.send_keys(" ")
    kit.wait_for(browser, lambda d: js(d, "var v = document.getElementById('player'); return !v.paused && v.currentTime > 0.3"))
    browser.switch_to.active_element.send_keys(" ")
    kit.wait_for(browser, lambda d: js(d, "return document.getElementById('player').paused"))
    note = browser.find_element(By.CSS_SELECTOR, ".finding textarea[name=note]")
    note.send_keys("只写了备注")
    note.send_keys(Keys.CONTROL, Keys.ENTER)
    kit.wait_for(browser, lambda d: "确认" in d.find_element(By.ID, "flash").text)
    assert js(browser, "return window.__stayed === true"), "Ctrl+Enter in a note box submits nothing"
    assert not browser.find_elements(By.CSS_SELECTOR, ".review-state")
    assert note.get_attribute("value") == "只写了备注"
    click(browser, browser.find_element(By.CSS_SELECTOR, ".thumb-link"))            # thumbnails open large
    kit.wait_for(browser, lambda d: js(d, "var b = document.getElementById('lightbox'), i = b.querySelector('img');"
                                          "return b.open && i.complete && i.naturalWidth > 0"))
    assert browser.find_element(By.ID, "lightbox-img").size["width"] > 300
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    kit.wait_for(browser, lambda d: not js(d, "return document.getElementById('lightbox').open"))


def _pass(driver, reason: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#decision-form input[value=pass]").click()
    driver.find_element(By.ID, "reason").send_keys(reason)
    driver.find_element(By.ID, "decide").click()


def test_pass_asks_once_can_be_undone_and_the_city_sees_the_county_review(browser, live, console_lesson):
    from selenium.webdriver.common.by import By

    server, database, _ = live
    doc = console_lesson[2]
    ad = kit.finding_seq(doc, "text.ad")
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-a")
    card = browser.find_element(By.ID, f"finding-{ad}")
    card.find_element(By.NAME, "note").send_keys("引用教材配套网站")
    card.find_element(By.CSS_SELECTOR, "button[value=dismissed]").click()
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, f"review-{ad}"))

    _pass(browser, "画面规范，同意推荐")
    kit.wait_for(browser, lambda d: "未确认或排除" in d.find_element(By.ID, "flash").text)
    assert kit.level_of(database, "xihu-a") == "county", "a pass over unreviewed failures asks first"
    assert browser.find_element(By.ID, "reason").get_attribute("value") == "画面规范，同意推荐", "typed reason kept"
    browser.find_element(By.CSS_SELECTOR, "#confirm-unreviewed input").click()
    browser.find_element(By.ID, "decide").click()
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, "undo"))
    assert "已报送市级遴选" in browser.find_element(By.ID, "flash").text
    assert kit.level_of(database, "xihu-a") == "city" and js(browser, "return window.__stayed === true")
    assert not browser.find_elements(By.ID, "decision-form") and browser.find_elements(By.ID, "read-only")

    browser.find_element(By.ID, "undo").click()                         # a slip, taken back
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, "decision-form"))
    assert kit.level_of(database, "xihu-a") == "county"
    history = browser.find_element(By.ID, "history-list").text
    assert "撤回决定" in history and "通过" in history and kit.DISPLAY_NAMES["county_xihu"] in history
    browser.find_element(By.CSS_SELECTOR, "#confirm-unreviewed input").click()
    _pass(browser, "复核后同意推荐")
    kit.wait_for(browser, lambda d: d.find_elements(By.ID, "undo"))

    browser.delete_all_cookies()
    kit.log_in(browser, server.url, "city_hangzhou")
    open_lesson(browser, server.url, "xihu-a")
    earlier = browser.find_element(By.CSS_SELECTOR, f"#finding-{ad} .earlier-review").text
    assert "县级初选" in earlier and "已排除" in earlier and "引用教材配套网站" in earlier
    assert kit.DISPLAY_NAMES["county_xihu"] in earlier
    top = browser.find_element(By.ID, "earlier-decisions").text
    assert "复核后同意推荐" in top and "县级初选" in top
    assert browser.find_element(By.ID, "decision-form"), "the city decides now"

    browser.delete_all_cookies()                                         # the city opened it: no undo any more
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-a")
    assert not browser.find_elements(By.ID, "undo")
    assert "本级决定" not in browser.find_element(By.ID, "side-col").text, "a read-only viewer is not offered a decision"


def test_info_findings_are_grouped_with_one_bulk_dismiss(browser, live):
    from selenium.webdriver.common.by import By

    server, database, extra = live
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, kit.INFO_JOB)
    marks = [i for i, f in enumerate(extra["findings"]) if f["code"] == "text.watermark"]
    group = browser.find_element(By.CSS_SELECTOR, ".info-group[data-code='text.watermark']")
    assert group.get_attribute("open") is None, "collapsed"
    assert f"共 {len(marks)} 条" in group.text
    bands = browser.find_elements(By.CSS_SELECTOR, "#timeline .marker.long.sev-info")
    assert len(bands) == 1 and len(bands[0].get_attribute("data-seqs").split(",")) == len(marks), \
        "overlapping whole-length markers are one band"
    said = browser.find_element(By.CSS_SELECTOR, ".finding[data-code='speech.ad'] .said").text
    assert kit.SPOKEN in said and "扫码" in browser.find_element(By.CSS_SELECTOR, ".finding[data-code='speech.ad'] .cues").text
    assert "/ " not in browser.find_element(By.ID, "findings").text.replace(" / ", ""), "no English tail"
    playing_at(browser, 1.0)
    click(browser, group.find_element(By.TAG_NAME, "summary"))
    click(browser, group.find_element(By.CSS_SELECTOR, ".bulk-dismiss"))
    kit.wait_for(browser, lambda d: f"已审 {len(marks)} 条" in d.find_element(
        By.CSS_SELECTOR, ".info-group[data-code='text.watermark']").text)
    assert js(browser, "return window.__stayed === true && !document.getElementById('player').paused")
    assert browser.find_element(By.ID, "progress").text.startswith(f"已审 {len(marks)} / {len(extra['findings'])}")
    with database.session() as s:
        from index import decisions as records
        reviewed = records.latest_reviews(records.finding_reviews_of(s, kit.INFO_JOB), "county")
    assert sorted(reviewed) == marks and {r.status for r in reviewed.values()} == {"dismissed"}


def test_an_expired_session_keeps_the_typed_note(browser, live):
    from selenium.webdriver.common.by import By

    server, _, _ = live
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-b")
    card = browser.find_element(By.CSS_SELECTOR, ".finding")
    card.find_element(By.NAME, "note").send_keys("写了一半的备注")
    browser.delete_cookie("lessonqc_session")
    card.find_element(By.CSS_SELECTOR, "button[value=confirmed]").click()
    kit.wait_for(browser, lambda d: "登录已过期" in d.find_element(By.ID, "flash").text)
    assert js(browser, "return window.__stayed === true")
    assert card.find_element(By.NAME, "note").get_attribute("value") == "写了一半的备注"
    assert browser.find_element(By.CSS_SELECTOR, "#flash a").get_attribute("href").endswith("/console/login")


def test_the_farm_report_plays_its_video_through_the_console(browser, live, console_lesson, tmp_path):
    """report.html as the farm writes it (video named `video`, beside the page) opened through the console."""
    from selenium.webdriver.common.by import By

    from index.models import Job
    from pipelines.report.page import render
    from pipelines.report.readable import VIDEO_BESIDE

    server, database, _ = live
    video, report_dir, doc = console_lesson
    farm = tmp_path / "farm-report"
    shutil.copytree(report_dir, farm)
    farm_doc = {**doc, "source": video.name, "job_id": "xihu-a"}   # the farm knows the upload's name only
    (farm / "report.html").write_text(render(farm_doc, farm, VIDEO_BESIDE), encoding="utf-8")
    with database.session() as s:
        s.get(Job, "xihu-a").report_dir = str(farm)
    kit.log_in(browser, server.url, "county_xihu")
    open_lesson(browser, server.url, "xihu-a")
    browser.get(browser.find_element(By.ID, "report-link").get_attribute("href"))   # 完整报告
    link = browser.find_element(By.CSS_SELECTOR, "a.ts")
    link.click()
    kit.wait_for(browser, lambda d: js(d, "var v = document.getElementById('player');"
                                          "return v.readyState >= 2 && v.currentTime > 0 && !v.error"))
    assert "/console/files/xihu-a/video?s=" in js(browser, "return document.getElementById('player').currentSrc")
    assert js(browser, "return window.origin") == "null", "the report stays sandboxed (an opaque origin)"


def test_queue_and_lesson_pages_have_no_serious_accessibility_violation(browser, live):
    kit.need_axe()
    server, _, _ = live
    kit.log_in(browser, server.url, "county_xihu")
    pages = {"queue": f"{server.url}/console/", "lesson": f"{server.url}/console/lessons/{kit.INFO_JOB}",
             "login": f"{server.url}/console/login"}
    found = {}
    for name, url in pages.items():
        browser.get(url)
        found[name] = kit.axe_violations(browser)
    assert found == {name: [] for name in pages}, found
