"""The reviewer console over HTTP (the real app, no browser): access, CSRF, lockout, the review workflow."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from console import accounts, levels, pages, queue
from console.forms import QueueQuery, filter_args
from index import db as indexdb
from index import decisions as records
from index.models import utcnow
from index.models import Job
from index.review import Decision, LoginThrottle, User
from tests import consolekit as kit


def _site(url: str, console_lesson, tmp_path, monkeypatch):
    sent: list[tuple[str, dict]] = []
    app, database = kit.service_app(monkeypatch, tmp_path, url, console_lesson[0].parent,
                                    hook=lambda job_id, record: sent.append((job_id, record)))
    kit.seed(database, *console_lesson)
    return database, app, sent


@pytest.fixture
def site(index_url, console_lesson, tmp_path, monkeypatch):
    """The real service app on a seeded index of each backend (scoping and workflow queries differ by
    dialect); decisions handed to the platform hook are recorded."""
    return _site(index_url, console_lesson, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_site(console_lesson, tmp_path, monkeypatch):
    """The same on SQLite only, for what does not depend on the database (CSRF, cookies, rate limit, video)."""
    return _site(f"sqlite:///{tmp_path / 'index.sqlite3'}", console_lesson, tmp_path, monkeypatch)


login = kit.signed_in


def test_queue_lists_only_my_level_within_my_region(site):
    _, app, _ = site
    page = login(app, "county_xihu").get("/console/")
    assert page.status_code == 200
    shown = {job for job in kit.LESSONS if f"/console/lessons/{job}\"" in page.text}
    assert shown == {"xihu-a", "xihu-b"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;认识图形" in page.text and "<script>alert(1)" not in page.text
    city = login(app, "city_hangzhou").get("/console/")
    assert not any(f"/console/lessons/{job}\"" in city.text for job in kit.LESSONS), "nothing is at the city level yet"


def test_another_regions_or_levels_lesson_is_404(site):
    _, app, _ = site
    client = login(app, "county_xihu")
    assert client.get("/console/lessons/xihu-a").status_code == 200
    for job in ("shangcheng-a", "ningbo-a", "xihu-school", "xihu-lookalike", "no-such-job"):
        assert client.get(f"/console/lessons/{job}").status_code == 404
        assert client.get(f"/console/lessons/{job}/video").status_code == 404
        assert client.get(f"/console/files/{job}/report.json").status_code == 404
    assert login(app, "county_shangcheng").get("/console/lessons/shangcheng-a").status_code == 200


def test_form_post_without_its_csrf_token_is_403(sqlite_site):
    database, app, _ = sqlite_site
    client = login(app, "county_xihu")
    token = kit.csrf_of(client.get("/console/lessons/xihu-a").text)
    for data in ({"action": "pass"}, {"action": "pass", "csrf_token": "forged"}, {"action": "pass", "csrf_token": ""}):
        assert client.post("/console/lessons/xihu-a/decision", data=data).status_code == 403
    assert client.post("/console/lessons/xihu-a/findings/0", data={"status": "dismissed"}).status_code == 403
    assert client.post("/console/logout", data={}).status_code == 403
    anonymous = TestClient(app)
    anonymous.get("/console/login")
    answer = anonymous.post("/console/login", data={"username": "county_xihu", "password": kit.PASSWORD})
    assert answer.status_code == 403 and "lessonqc_session" not in answer.headers.get("set-cookie", "")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == 0
    assert client.post("/console/lessons/xihu-a/decision", data={"action": "pass", "csrf_token": token,
                                                                       "confirm_unreviewed": "yes"},
                       follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account_for_that_client_only(site):
    database, app, _ = site
    client = TestClient(app)
    token = kit.csrf_of(client.get("/console/login").text)

    def attempt(password: str, http: TestClient = client) -> tuple[int, str]:
        answer = http.post("/console/login", data={"username": "county_xihu", "password": password,
                                                   "csrf_token": token}, follow_redirects=False)
        return answer.status_code, answer.text

    wrong = [attempt(f"wrong-{i}") for i in range(5)]
    assert {code for code, _ in wrong} == {401} and len({text for _, text in wrong}) == 1
    assert attempt(kit.PASSWORD) == wrong[0], "locked: the right password gets the very same answer"
    with database.session() as s:
        assert accounts.find(s, "county_xihu").locked_until - utcnow() > timedelta(minutes=14)
    elsewhere = TestClient(app, client=("10.9.8.7", 4000))
    elsewhere.cookies.set("lessonqc_login_csrf", token)
    assert attempt(kit.PASSWORD, elsewhere)[0] == 303, "another client is not locked out"
    with database.session() as s:
        s.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))  # the while has passed
    assert attempt(kit.PASSWORD)[0] == 303
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginThrottle).where(LoginThrottle.kind == "failure")) == 0


def test_login_attempts_per_client_are_rate_limited(sqlite_site):
    _, app, _ = sqlite_site
    app.state.console = replace(app.state.console, settings=replace(kit.fast_settings(), login_rate_per_client=3))
    client = TestClient(app)
    token = kit.csrf_of(client.get("/console/login").text)
    codes = [client.post("/console/login", data={"username": "nobody", "password": "x", "csrf_token": token}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_session_cookie_flags_and_logout(sqlite_site):
    _, app, _ = sqlite_site
    client = TestClient(app)
    token = kit.csrf_of(client.get("/console/login").text)
    answer = client.post("/console/login", data={"username": "county_xihu", "password": kit.PASSWORD,
                                                 "csrf_token": token, "next": "//evil.example/"}, follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "lessonqc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert answer.headers["location"] == "/console/", "no open redirect after login"
    page = client.get("/console/")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert client.post("/console/logout", data={"csrf_token": kit.csrf_of(page.text)},
                       follow_redirects=False).status_code == 303
    assert client.get("/console/", follow_redirects=False).status_code == 303
    app.state.console = replace(app.state.console, settings=replace(kit.fast_settings(), secure_cookies=True))
    client = TestClient(app, base_url="https://testserver")
    token = kit.csrf_of(client.get("/console/login").text)
    answer = client.post("/console/login", data={"username": "county_xihu", "password": kit.PASSWORD,
                                                 "csrf_token": token}, follow_redirects=False)
    assert "Secure" in answer.headers["set-cookie"]


def test_pass_forwards_to_the_next_level_with_history_and_platform_record(site, console_lesson):
    database, app, sent = site
    _, _, doc = console_lesson
    ad = kit.finding_seq(doc, "text.ad")
    county = login(app, "county_xihu")
    token = kit.csrf_of(county.get("/console/lessons/xihu-a").text)
    assert county.post("/console/lessons/xihu-a/decision", data={"action": "return", "csrf_token": token}).status_code == 400
    county.post(f"/console/lessons/xihu-a/findings/{ad}", data={"status": "dismissed", "note": "引用教材网站",
                                                                "csrf_token": token})
    county.post("/console/lessons/xihu-a/decision", data={"action": "pass", "reason": "内容规范", "csrf_token": token,
                                                                "confirm_unreviewed": "yes"})
    assert kit.level_of(database, "xihu-a") == "city"
    page = county.get("/console/lessons/xihu-a")
    assert page.status_code == 200 and 'id="read-only"' in page.text, "my level decided: I may still look"
    assert county.post("/console/lessons/xihu-a/decision",
                       data={"action": "reject", "reason": "x", "csrf_token": token}).status_code == 409
    decided = county.get("/console/?decided=yes")
    assert "/console/lessons/xihu-a\"" in decided.text and "/console/lessons/xihu-b\"" not in decided.text
    city = login(app, "city_hangzhou").get("/console/lessons/xihu-a")
    assert city.status_code == 200 and "县级初选" in city.text and "内容规范" in city.text and kit.DISPLAY_NAMES["county_xihu"] in city.text
    assert [(job, r["level"], r["action"], r["next_level"]) for job, r in sent] == [("xihu-a", "county", "pass", "city")]
    assert sent[0][1]["findings"] == [{"seq": ad, "status": "dismissed", "note": "引用教材网站", "reviewer": "county_xihu"}]
    with database.session() as s:
        assert [r.action for r in records.records(s, "xihu-a")] == ["pass"]


def test_queue_filters_sorting_and_paging(site):
    database, app, _ = site
    client = login(app, "county_xihu")
    with database.session() as s:
        user = accounts.find(s, "county_xihu")
        everything = queue.page(s, user, queue.QueueFilter())
        assert everything.total == 2
        assert queue.page(s, user, queue.QueueFilter(code="text.ad")).total == 2
        assert queue.page(s, user, queue.QueueFilter(code="signal.black")).total == 0
        assert queue.page(s, user, queue.QueueFilter(verdict="pass")).total == 0
        assert [r.job.id for r in queue.page(s, user, queue.QueueFilter(q="王丽")).rows] == ["xihu-a"]
        assert [r.lesson.teacher for r in queue.page(s, user, queue.QueueFilter(sort="teacher")).rows] == ["李明", "王丽"]
        one = queue.page(s, user, queue.QueueFilter(page=2, page_size=1))
        assert one.pages == 2 and len(one.rows) == 1 and one.rows[0].counts.get("fail", 0) >= 3
        assert queue.page(s, user, queue.QueueFilter(decided=False)).total == 2
    page = client.get("/console/?verdict=fail&code=text.ad&subject=数学&size=1&page=9")
    assert page.status_code == 200 and "第 2 / 2 页" in page.text
    assert client.get("/console/?from=not-a-date&page=x&sort=evil").status_code == 200


def test_filter_arguments_round_trip():
    settings = kit.fast_settings()
    args = {"verdict": "fail", "code": "text.ad", "from": "2026-11-01", "to": "2026-11-30", "decided": "no",
            "q": "王", "sort": "oldest"}
    assert filter_args(QueueQuery.model_validate(args).to_filter(settings)) == args
    assert QueueQuery.model_validate({"size": "100000"}).to_filter(settings).page_size == settings.max_page_size


def test_regions_match_whole_path_segments():
    assert levels.within("浙江省/杭州市/西湖区/求是小学", "浙江省/杭州市/西湖区")
    assert levels.within("浙江省/杭州市/西湖区", " 浙江省/杭州市/西湖区/ ")
    assert not levels.within("浙江省/杭州市/西湖区外", "浙江省/杭州市/西湖区")
    assert not levels.within(None, "浙江省")
    assert levels.within("任何地方", "")
    assert [levels.next_level(level) for level in levels.LEVELS] == ["county", "city", "province", "national", None]


def test_clock():
    assert [pages.clock(v) for v in (None, 0, 12.7, 3725)] == ["—", "00:00", "00:12", "1:02:05"]


def test_users_need_a_region_below_national_and_a_long_password(index_url):
    database = indexdb.open_database(index_url)
    settings = kit.fast_settings()
    with database.session() as s:
        for bad in (accounts.NewUser("a", "county", "", "long-enough-1"), accounts.NewUser("b", "mayor", "x", "long-enough-1"),
                    accounts.NewUser("c", "county", "浙江省", "short")):
            with pytest.raises(accounts.UserError):
                accounts.add_user(s, bad, settings)
        user = accounts.add_user(s, accounts.NewUser("d", "county", "/浙江省//杭州市/", "long-enough-1"), settings)
        assert user.region == "浙江省/杭州市" and user.password_hash.startswith("$argon2id$")
        assert "long-enough-1" not in user.password_hash
        with pytest.raises(accounts.UserError):
            accounts.add_user(s, accounts.NewUser("d", "city", "浙江省", "long-enough-1"), settings)
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_player_streams_from_the_api_with_the_console_login(sqlite_site):
    _, app, _ = sqlite_site
    county = login(app, "county_xihu")
    page = county.get("/console/lessons/xihu-a")
    assert 'src="/api/v1/jobs/xihu-a/video"' in page.text
    part = county.get("/api/v1/jobs/xihu-a/video", headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206 and len(part.content) == 1024 and part.headers["content-range"].startswith("bytes 0-1023/")
    assert county.get("/api/v1/jobs/shangcheng-a/video", headers={"Range": "bytes=0-9"}).status_code == 404
    assert TestClient(app).get("/api/v1/jobs/xihu-a/video").status_code == 401
    assert county.get("/api/v1/jobs/xihu-a/report").status_code == 401, "only the video accepts a console login"


def test_decisions_reach_the_platform_api_and_a_signed_callback(index_url, console_lesson, tmp_path, monkeypatch):
    import dramatiq

    from tests.apikit import CallbackReceiver, make_token, secrets_of, service_env, verified
    from workers import broker as brokers

    service_env(monkeypatch, tmp_path, index_url)
    monkeypatch.setenv(brokers.BROKER_ENV, "stub")
    binding = brokers.install(brokers.make_stub())
    receiver = CallbackReceiver()
    worker = dramatiq.Worker(binding.broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        app, database = kit.service_app(monkeypatch, tmp_path, index_url, console_lesson[0].parent)
        kit.seed(database, *console_lesson)
        with database.session() as s:
            s.get(Job, "xihu-a").callback_url = receiver.url
        county = login(app, "county_xihu")
        token = kit.csrf_of(county.get("/console/lessons/xihu-a").text)
        county.post("/console/lessons/xihu-a/decision", data={"action": "pass", "reason": "同意", "csrf_token": token,
                                                                    "confirm_unreviewed": "yes"})
        platform = TestClient(app, headers={"Authorization": f"Bearer {make_token()}"})
        answer = platform.get("/api/v1/jobs/xihu-a/decisions").json()
        assert answer["level"] == "city"
        assert [(d["level"], d["action"], d["reason"], d["reviewer"], d["next_level"]) for d in answer["decisions"]] == \
            [("county", "pass", "同意", "county_xihu", "city")]
        assert platform.get("/api/v1/jobs/nope/decisions").status_code == 404
        binding.broker.join("callback", timeout=30_000)
        assert len(receiver.received) == 1
        got = receiver.received[0]
        body = verified(got, secrets_of("default")[0])  # seeded without a token: the default subscriber
        assert body["event"] == "review.decided" and body["decision"]["action"] == "pass"
        assert body["decision"]["id"] == answer["decisions"][0]["id"]
    finally:
        worker.stop()
        receiver.close()
        brokers.uninstall()


def test_users_command_creates_reviewers_with_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    import io

    from cli.main import main as cli_main

    monkeypatch.setenv("LESSONQC_DATABASE_URL", f"sqlite:///{tmp_path / 'index.sqlite3'}")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert cli_main(["users", "add", "wang", "--level", "county", "--region", "浙江省/杭州市/西湖区"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli_main(["users", "add", "li", "--level", "city", "--region", "浙江省/杭州市", "--admin"]) == 4
    assert "at least 8 characters" in capsys.readouterr().err
    assert cli_main(["users", "add", "nowhere", "--level", "county"]) == 4
    assert "needs --region" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another-long-one\n"))
    assert cli_main(["users", "add", "root", "--level", "national", "--admin"]) == 0
    assert cli_main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "wang\tcounty\t浙江省/杭州市/西湖区\t-" in listing and "root\tnational\t-\tadmin" in listing
    assert cli_main(["users", "disable", "wang"]) == 0 and "wang\tcounty\t浙江省/杭州市/西湖区\tdisabled" in \
        (cli_main(["users", "list"]), capsys.readouterr().out)[1]


def test_an_admin_manages_users_in_the_console(sqlite_site):
    database, app, _ = sqlite_site
    assert login(app, "county_xihu").get("/console/users").status_code == 403
    admin = login(app, "admin")
    page = admin.get("/console/users")
    assert page.status_code == 200 and "county_shangcheng" in page.text
    token = kit.csrf_of(page.text)
    form = {"name": "county_gongshu", "level": "county", "region": "浙江省/杭州市/拱墅区", "password": "long-enough-2"}
    assert admin.post("/console/users", data=form).status_code == 403, "no CSRF token"
    assert admin.post("/console/users", data={**form, "csrf_token": token}, follow_redirects=False).status_code == 303
    assert admin.post("/console/users", data={**form, "csrf_token": token}).status_code == 400, "exists already"
    with database.session() as s:
        target = accounts.find(s, "county_gongshu")
        assert (target.level, target.region, target.is_admin) == ("county", "浙江省/杭州市/拱墅区", False)
        target.locked_until = utcnow() + timedelta(minutes=5)
        target_id = target.id
    admin.post(f"/console/users/{target_id}/unlock", data={"csrf_token": token})
    admin.post(f"/console/users/{target_id}/deactivate", data={"csrf_token": token})
    with database.session() as s:
        target = accounts.find(s, "county_gongshu")
        assert target.locked_until is None and not target.active


def test_lesson_view_collects_ocr_text_qr_payloads_and_contact_sheets(tmp_path):
    from console import lesson as lessons
    from index.models import Finding

    findings = [Finding(seq=0, code="text.qr_code", severity="fail", message="", start_s=3.0, end_s=6.0,
                        evidence={"codes": [{"kind": "qr", "payload": "https://shop.example/扫码", "box": [0, 0, 9, 9]},
                                            {"kind": "qr", "payload": "", "box": [1, 1, 9, 9]}]}),
                Finding(seq=1, code="text.ad", severity="fail", message="", start_s=10.0, end_s=15.0,
                        evidence={"text": "关注微信公众号", "thumbnail": "thumbs/a.jpg"}),
                Finding(seq=2, code="signal.black", severity="review", message="", start_s=1.0, end_s=2.0,
                        evidence={"text": "not on screen"})]
    texts = [(t.kind, t.text, t.start_s) for t in lessons.onscreen_texts(findings)]
    assert texts == [("qr", "https://shop.example/扫码", 3.0), ("qr", "（无法解码）", 3.0), ("ocr", "关注微信公众号", 10.0)]
    assert lessons.thumbnail(findings[1]) == "thumbs/a.jpg" and lessons.thumbnail(findings[2]) is None
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "lab_contact_sheet.jpg").write_bytes(b"jpg")
    (tmp_path / "report.json").write_text('{"metrics": {"artifacts": {"contact_sheet": "artifacts/lab_contact_sheet.jpg"}}}')
    job = Job(id="j", report_dir=str(tmp_path), media_path=None, level="county", findings=findings)
    assert lessons.read_report(job)["metrics"]["artifacts"]["contact_sheet"] == "artifacts/lab_contact_sheet.jpg"
    assert lessons.report_file(job, "artifacts/lab_contact_sheet.jpg") == tmp_path / "artifacts" / "lab_contact_sheet.jpg"
    assert lessons.report_file(job, "../report.json") is None and lessons.report_file(job, "/etc/passwd") is None
