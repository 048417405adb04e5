"""The console's actions over HTTP (the real app, no browser): JSON answers for the page's script, bulk
dismiss, a pass asking once, undo until the next level opens the lesson, the queue's 待审 default, the
login form keeping the user name, display names, and the farm report's video served beside it."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from index import decisions as records
from tests import consolekit as kit

JSON = {"Accept": "application/json"}


@pytest.fixture
def site(index_url, console_lesson, tmp_path, monkeypatch):
    """The service app on a seeded index of each backend, with the 提示-heavy lesson; decisions sent are kept."""
    sent: list[tuple[str, dict]] = []
    app, database = kit.service_app(monkeypatch, tmp_path, index_url, console_lesson[0].parent,
                                    hook=lambda job_id, record: sent.append((job_id, record)))
    kit.seed(database, *console_lesson)
    extra = kit.seed_review_extras(database, *console_lesson)
    return database, app, sent, extra


login = kit.signed_in


def token_of(client: TestClient, job: str) -> str:
    return kit.csrf_of(client.get(f"/console/lessons/{job}").text)


def test_finding_actions_answer_json_with_the_changed_parts(site, console_lesson):
    _, app, _, _ = site
    doc = console_lesson[2]
    ad = kit.finding_seq(doc, "text.ad")
    county = login(app, "county_xihu")
    token = token_of(county, "xihu-a")
    answer = county.post(f"/console/lessons/xihu-a/findings/{ad}", headers=JSON,
                         data={"status": "dismissed", "note": "教材网站", "csrf_token": token})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["message"] == "已排除该问题。"
    assert set(body["parts"]) == {f"finding-{ad}", "progress", "decision-panel", "history-block"}
    assert f'id="review-{ad}"' in body["parts"][f"finding-{ad}"] and "教材网站" in body["parts"][f"finding-{ad}"]
    assert f"已审 <strong>1 / {len(doc['findings'])}</strong>" in body["parts"]["progress"]
    bad = county.post(f"/console/lessons/xihu-a/findings/{ad}", headers=JSON, data={"status": "maybe", "csrf_token": token})
    assert bad.status_code == 400 and bad.json() == {"error": "请选择确认或排除"}, "the server still validates"
    stale = county.post(f"/console/lessons/xihu-a/findings/{ad}", headers=JSON, data={"status": "dismissed", "csrf_token": "old"})
    assert stale.status_code == 403 and stale.json()["csrf"] == token, "a stale page gets its session's token back"
    county.cookies.clear()
    gone = county.post(f"/console/lessons/xihu-a/findings/{ad}", headers=JSON, data={"status": "dismissed", "csrf_token": token})
    assert gone.status_code == 403 and gone.json()["login"] == "/console/login" and "登录" in gone.json()["error"]
    plain = login(app, "county_xihu")
    redirect = plain.post(f"/console/lessons/xihu-a/findings/{ad}", follow_redirects=False,
                          data={"status": "confirmed", "csrf_token": token_of(plain, "xihu-a")})
    assert redirect.status_code == 303 and redirect.headers["location"].endswith(f"#finding-{ad}"), "no script: a redirect"


def test_info_findings_of_a_code_are_dismissed_at_once(site):
    database, app, _, extra = site
    marks = [i for i, f in enumerate(extra["findings"]) if f["code"] == "text.watermark"]
    county = login(app, "county_xihu")
    page = county.get(f"/console/lessons/{kit.INFO_JOB}").text
    assert page.count('class="finding sev-info reviewed') == 0 and 'data-code="text.watermark"' in page
    answer = county.post(f"/console/lessons/{kit.INFO_JOB}/findings/bulk", headers=JSON,
                         data={"code": "text.watermark", "status": "dismissed", "note": "台标", "csrf_token": kit.csrf_of(page)})
    assert answer.status_code == 200 and "info-group-1" in answer.json()["parts"]
    with database.session() as s:
        done = records.latest_reviews(records.finding_reviews_of(s, kit.INFO_JOB), "county")
    assert sorted(done) == marks and {(r.status, r.note) for r in done.values()} == {("dismissed", "台标")}
    wrong = county.post(f"/console/lessons/{kit.INFO_JOB}/findings/bulk", headers=JSON,
                        data={"code": "speech.ad", "status": "dismissed", "csrf_token": kit.csrf_of(page)})
    assert wrong.status_code == 400, "only 提示 findings are dismissed in bulk"


def test_pass_asks_once_and_undo_lasts_until_the_next_level_opens(site):
    database, app, sent, _ = site
    county = login(app, "county_xihu")
    token = token_of(county, "xihu-a")
    asked = county.post("/console/lessons/xihu-a/decision", headers=JSON,
                        data={"action": "pass", "reason": "同意", "csrf_token": token})
    assert asked.status_code == 400 and "不合格问题未确认或排除" in asked.json()["error"]
    assert kit.level_of(database, "xihu-a") == "county"
    passed = county.post("/console/lessons/xihu-a/decision", headers=JSON,
                         data={"action": "pass", "reason": "同意", "csrf_token": token, "confirm_unreviewed": "yes"})
    assert passed.status_code == 200 and passed.json()["message"] == "已通过，已报送市级遴选。"
    assert 'id="undo"' in passed.json()["parts"]["decision-panel"] and 'id="read-only"' in passed.json()["parts"]["decision-panel"]
    assert "本级决定" not in passed.json()["parts"]["decision-panel"], "a viewer is not offered a decision"
    undone = county.post("/console/lessons/xihu-a/decision/undo", headers=JSON, data={"csrf_token": token})
    assert undone.status_code == 200 and undone.json()["message"] == "已撤回本级决定。"
    assert kit.level_of(database, "xihu-a") == "county"
    with database.session() as s:
        assert [r.action for r in records.records(s, "xihu-a")] == ["pass", "withdraw"], "append-only"
    assert [(j, r["action"]) for j, r in sent] == [("xihu-a", "pass"), ("xihu-a", "withdraw")], "the platform hears both"
    from tests.apikit import make_token

    platform = TestClient(app, headers={"Authorization": f"Bearer {make_token()}"}).get("/api/v1/jobs/xihu-a/decisions")
    assert platform.status_code == 200 and [d["action"] for d in platform.json()["decisions"]] == ["pass", "withdraw"]
    assert platform.json()["level"] == "county"
    assert "/console/lessons/xihu-a\"" in county.get("/console/").text, "pending again"

    county.post("/console/lessons/xihu-a/decision", data={"action": "pass", "reason": "复核同意", "csrf_token": token,
                                                          "confirm_unreviewed": "yes"})
    city_reviewer = login(app, "city_hangzhou")
    row = city_reviewer.get("/console/").text.split('data-job="xihu-a"')[1].split("</tr>")[0]
    assert "县级初选通过：" in row and "复核同意" in row, "the queue row shows the previous level's reason"
    city = city_reviewer.get("/console/lessons/xihu-a").text
    assert "复核同意" in city.split('id="earlier-decisions"')[1].split("</section>")[0], "the reason at the top"
    late = county.post("/console/lessons/xihu-a/decision/undo", data={"csrf_token": token}, follow_redirects=False)
    assert late.status_code == 409 and kit.level_of(database, "xihu-a") == "city", "the city has opened it"
    history = county.get("/console/lessons/xihu-a").text
    assert kit.DISPLAY_NAMES["county_xihu"] in history and 'id="undo"' not in history


def test_queue_opens_on_pending_with_what_each_row_needs(site):
    _, app, _, _ = site
    county = login(app, "county_xihu")
    token = token_of(county, "xihu-b")
    county.post("/console/lessons/xihu-b/decision", data={"action": "reject", "reason": "含广告", "csrf_token": token})
    page = county.get("/console/").text
    assert "还剩 2 节待审" in page and "/console/lessons/xihu-b\"" not in page, "待审 by default"
    assert 'id="legend"' in page and "<code>text.ad</code>" in page and "00:20" in page
    everything = county.get("/console/?decided=all").text
    assert "/console/lessons/xihu-b\"" in everything and "还剩 2 节待审" in everything


def test_a_wrong_password_keeps_the_user_name_and_the_login_page_names_no_command(site):
    _, app, _, _ = site
    client = TestClient(app)
    page = client.get("/console/login").text
    assert "lessonqc users add" not in page
    answer = client.post("/console/login", data={"username": "county_xihu", "password": "wrong-1",
                                                 "csrf_token": kit.csrf_of(page)})
    assert answer.status_code == 401 and 'value="county_xihu"' in answer.text


def test_the_console_serves_the_lessons_video_beside_its_report(site, console_lesson):
    _, app, _, _ = site
    county = login(app, "county_xihu")
    part = county.get("/console/files/xihu-a/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == console_lesson[0].read_bytes()[:100]
    assert login(app, "county_shangcheng").get("/console/files/xihu-a/video").status_code == 404
    link = re.search(r'href="(/console/files/xihu-a/report.html\?s=[0-9a-f]+&amp;t=[0-9a-f]+)"',
                     county.get("/console/lessons/xihu-a").text).group(1).replace("&amp;", "&")
    ticket = link.split("?", 1)[1]
    sandboxed = TestClient(app)   # the sandboxed report page sends no cookie: its ticket lets the video through
    answer = sandboxed.get(f"/console/files/xihu-a/video?{ticket}", headers={"Range": "bytes=0-9"})
    assert answer.status_code == 206 and answer.headers["cross-origin-resource-policy"] == "cross-origin"
    assert sandboxed.get(f"/console/files/xihu-a/report.json?{ticket}").status_code == 404, "the video only"
    assert sandboxed.get(f"/console/files/xihu-b/video?{ticket}").status_code == 404, "that lesson only"
    assert sandboxed.get(f"/console/files/xihu-a/video?{ticket[:-1]}x").status_code == 404
    county.post("/console/logout", data={"csrf_token": token_of(county, "xihu-a")})
    assert sandboxed.get(f"/console/files/xihu-a/video?{ticket}").status_code == 404, "ends with the login"
