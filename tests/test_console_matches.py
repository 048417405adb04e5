"""Where users see a match (originality): two lessons checked for real, the second re-using 30 s of the
first (tests/originalitykit.py), in two districts of 杭州市; report.html lists the match as report.json holds it.

A reviewer who may see both lessons (their level and region: queue.visible) gets two players side by
side, each opened on its matched range (media fragment), and the other lesson's link; a reviewer of
one district sees the other lesson's metadata and the ranges only, and its video is refused. In
Chromium, 同步播放两段 plays both ranges together, and axe-core finds no serious violation on the page.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.pages import clock
from tests import consolekit as kit

A, B = "match-a", "match-b"
PLAYER = re.compile(r'<video class="match-player"[^>]*\bsrc="/api/v1/jobs/([\w-]+)/video#t=([\d.]+),([\d.]+)"')


@pytest.fixture(scope="module")
def checked(media_cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """(videos, report documents) of match-a and match-b, checked once for the module."""
    return kit.checked_matches(media_cache, tmp_path_factory.mktemp("matches"))


@pytest.fixture
def site(checked, console_lesson, index_url, tmp_path, monkeypatch):
    """The service app over a seeded index of each backend (the evidence lookup and the region scope are
    SQL of each dialect): the console's lessons and the two matched ones."""
    app, database = kit.service_app(monkeypatch, tmp_path, index_url, console_lesson[0].parent,
                                    settings=kit.fast_settings())
    kit.seed(database, *console_lesson)
    kit.seed_matches(database, *checked)
    return app, database


def reused(checked) -> dict:
    [hit] = [f for f in checked[1][B]["findings"] if f["code"] == "originality.reused"]
    return hit


login = kit.signed_in


def players(html: str) -> list[tuple[str, float, float]]:
    return [(job, float(start), float(end)) for job, start, end in PLAYER.findall(html)]


def test_the_real_check_found_the_reuse_with_both_ranges(checked):
    hit = reused(checked)
    ev = hit["evidence"]
    assert ev["other_job_id"] == A and ev["other_title"] == kit.MATCH_LESSONS[A][2] and ev["matched"] == "both"
    assert abs(hit["start_s"] - 20) <= 1 and abs(hit["end_s"] - 50) <= 1
    assert abs(ev["other_start_s"] - 15) <= 1 and abs(ev["other_end_s"] - 45) <= 1


def test_a_reviewer_who_may_see_both_gets_two_players_on_the_matched_ranges(site, checked):
    app, _ = site
    hit = reused(checked)
    ev = hit["evidence"]
    client = login(app, kit.MATCH_REVIEWER[0])
    page = client.get(f"/console/lessons/{B}")
    assert page.status_code == 200
    assert players(page.text) == [(B, hit["start_s"], hit["end_s"]), (A, ev["other_start_s"], ev["other_end_s"])]
    assert f'href="/console/lessons/{A}" class="other-link"' in page.text and 'class="play-pair"' in page.text
    assert "本课使用了另一节课的片段" in page.text and "画面和声音相同" in page.text
    back = client.get(f"/console/lessons/{A}")        # the other direction: A's range first
    assert players(back.text) == [(A, ev["other_start_s"], ev["other_end_s"]), (B, hit["start_s"], hit["end_s"])]
    assert "另一节课使用了本课的片段" in back.text
    assert "&lt;b&gt;分数&lt;/b&gt;的意义（重用）" in back.text and "<b>分数</b>" not in back.text, "escaped"
    for job in (A, B):
        part = client.get(f"/api/v1/jobs/{job}/video", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100


def test_a_reviewer_of_one_district_sees_metadata_only_and_is_refused_the_other_video(site, checked):
    app, _ = site
    ev = reused(checked)["evidence"]
    client = login(app, "county_xihu")
    page = client.get(f"/console/lessons/{B}")
    assert page.status_code == 200
    section = page.text[page.text.index('id="matches"'):]
    region, teacher, title = kit.MATCH_LESSONS[A]
    for shown in (title, teacher, "胜利小学", region, f"{clock(ev['other_start_s'])}–{clock(ev['other_end_s'])}"):
        assert shown in section, shown
    assert players(page.text) == [] and f"/api/v1/jobs/{A}/" not in page.text and f"/console/lessons/{A}" not in page.text
    assert 'data-visible="no"' in section and "不能打开或播放" in section
    assert client.get(f"/api/v1/jobs/{A}/video", headers={"Range": "bytes=0-99"}).status_code == 404
    assert client.get(f"/console/lessons/{A}").status_code == 404
    assert client.get(f"/api/v1/jobs/{B}/video", headers={"Range": "bytes=0-99"}).status_code == 206, "the control"
    other_side = login(app, "county_shangcheng").get(f"/console/lessons/{A}")
    assert "&lt;b&gt;分数&lt;/b&gt;的意义（重用）" in other_side.text and "<b>分数</b>" not in other_side.text
    assert players(other_side.text) == [] and f"/api/v1/jobs/{B}/" not in other_side.text


def test_report_html_lists_the_match_with_both_ranges_as_report_json_holds_it(checked):
    import copy

    from pipelines.report.page import render

    _, docs, out = checked
    hit = reused(checked)
    ev = hit["evidence"]
    page = (out / B / "report.html").read_text(encoding="utf-8")
    [row] = re.findall(r"<tr class='match'>(.*?)</tr>", page)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td>(.*?)</td>", row)]
    assert cells[0] == ["originality.reused"]
    assert cells[1] == [f"{clock(hit['start_s'])}–{clock(hit['end_s'])}"]
    assert cells[2] == [kit.MATCH_LESSONS[A][2], kit.MATCH_LESSONS[A][1], "胜利小学", kit.MATCH_LESSONS[A][0],
                        str(ev["other_year"]), "任务号", A]
    assert cells[3] == [f"{clock(ev['other_start_s'])}–{clock(ev['other_end_s'])}"]
    assert cells[4] == ["画面和声音"] and cells[5] == [f"{100 * ev['similarity']:.1f}%"]
    assert "与其他课程相同的片段" not in (out / A / "report.html").read_text(encoding="utf-8"), "A matched nothing"
    marked = copy.deepcopy(docs[B])
    marked["findings"][marked["findings"].index(hit)]["evidence"]["other_title"] = "<script>alert(1)</script>"
    html = render(marked, out / B)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


@pytest.mark.browser
def test_both_ranges_play_together_and_the_page_passes_axe(checked, console_lesson, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By

    app, database = kit.service_app(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}",
                                    console_lesson[0].parent, settings=kit.fast_settings())
    kit.seed(database, *console_lesson)
    kit.seed_matches(database, *checked)
    hit = reused(checked)
    ours, theirs = hit["start_s"], hit["evidence"]["other_start_s"]
    server = kit.serve(app)
    try:
        for driver in kit.browser(size=(1366, 900)):
            kit.log_in(driver, server.url, kit.MATCH_REVIEWER[0])
            driver.get(f"{server.url}/console/lessons/{B}")
            times = "return Array.from(document.querySelectorAll('.match-player'), v => [v.readyState, v.currentTime, v.paused])"
            opened = kit.wait_for(driver, lambda d: (t := d.execute_script(times)) and all(r >= 1 for r, _, _ in t) and t)
            assert [round(t, 1) for _, t, _ in opened] == [round(ours, 1), round(theirs, 1)], "each opens on its range"
            driver.find_element(By.CSS_SELECTOR, "#match-1 .play-pair").click()
            kit.wait_for(driver, lambda d: all(not p and t > s + 1.0 for (_, t, p), s in
                                               zip(d.execute_script(times), (ours, theirs))))
            (_, t1, _), (_, t2, _) = driver.execute_script(times)
            assert abs((t1 - ours) - (t2 - theirs)) <= 0.5, "the two ranges play in step"
            driver.execute_script("document.querySelectorAll('.match-player').forEach(v => v.pause());"
                                  "document.getElementById('matches').scrollIntoView()")
            kit.shot(driver, "console-matches.png")
            kit.need_axe()
            assert kit.axe_violations(driver) == []
    finally:
        server.stop()
