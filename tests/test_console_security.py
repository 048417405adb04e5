"""Attacks on the reviewer console, on a real socket (uvicorn as `lessonqc serve` runs it), each kept as a test.

Races are real concurrent requests (threads released together by a barrier), on SQLite and
PostgreSQL: a burst of wrong passwords, four reviewers deciding one lesson at once. Also: locking
out another person, telling accounts apart by the answer, X-Forwarded-For against the rate limit,
several server processes, expired rows, the index file's mode, reviewers' files.
"""
from __future__ import annotations

import argparse
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Callable

import httpx
import pytest
from sqlalchemy import func, select, update

from console import accounts, passwords
from index import db as indexdb
from index.models import Job, utcnow
from index.review import Decision, LoginSession, LoginThrottle, User
from tests import consolekit as kit
from workers import serviceconfig

TOKEN = "a-login-form-token-of-this-test"   # the login form's double-submit value (cookie and field)
ELSEWHERE = "127.0.0.2"                     # another client: loopback answers on all of 127/8


def _site(monkeypatch, tmp_path, url: str, console_lesson, settings=None) -> SimpleNamespace:
    sent: list[tuple[str, dict]] = []
    app, database = kit.service_app(monkeypatch, tmp_path, url, console_lesson[0].parent,
                                    settings=settings or kit.fast_settings(),
                                    hook=lambda job_id, record: sent.append((job_id, record)))
    kit.seed(database, *console_lesson)
    server = kit.serve(app)
    return SimpleNamespace(url=server.url, server=server, database=database, app=app, sent=sent)


@pytest.fixture
def live(index_url, console_lesson, tmp_path, monkeypatch):
    """The real app served as `lessonqc serve` serves it, over a seeded index of each backend (the per-client
    rate limit above the bursts: the lockout is under test)."""
    site = _site(monkeypatch, tmp_path, index_url, console_lesson, replace(kit.fast_settings(), login_rate_per_client=100))
    yield site
    site.server.stop()


@pytest.fixture
def live_sqlite(console_lesson, tmp_path, monkeypatch):
    site = _site(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}", console_lesson,
                 replace(kit.fast_settings(), login_rate_per_client=5))
    yield site
    site.server.stop()


def browser(url: str, source: str = "127.0.0.1") -> httpx.Client:
    """A client from `source` that holds the login form's CSRF cookie."""
    return httpx.Client(base_url=url, cookies={"lessonqc_login_csrf": TOKEN}, timeout=60,
                        transport=httpx.HTTPTransport(local_address=source))


def attempt(http: httpx.Client, name: str, password: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post("/console/login", data={"username": name, "password": password, "csrf_token": TOKEN},
                     headers=headers or {})


def together(n: int, act: Callable[[int], Any]) -> list[Any]:
    """Run act(0..n-1) in n threads released at the same moment; their results in order."""
    start = threading.Barrier(n)

    def run(i: int) -> Any:
        start.wait()
        return act(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def counting_checks(monkeypatch) -> list[str]:
    """Record the stored hash of every password check (the dummy hash of unknown users included)."""
    checked: list[str] = []
    real = passwords.verify

    def verify(stored: str, password: str, settings) -> bool:
        checked.append(stored)
        return real(stored, password, settings)

    monkeypatch.setattr(passwords, "verify", verify)
    return checked


def hash_of(database, name: str) -> str:
    with database.session() as s:
        return accounts.find(s, name).password_hash


# ---- 2: bursts of wrong passwords ----

def test_bursts_of_wrong_passwords_are_all_counted_and_lock_the_account(live, monkeypatch):
    checked = counting_checks(monkeypatch)
    for burst in range(3):
        answers = together(10, lambda i: attempt(browser(live.url), "county_xihu", f"wrong-{burst}-{i}").status_code)
        assert answers == [401] * 10
    real_checks = checked.count(hash_of(live.database, "county_xihu"))
    assert real_checks <= kit.fast_settings().max_failed_logins, "only max_failed guesses are ever checked"
    assert attempt(browser(live.url), "county_xihu", kit.PASSWORD).status_code == 401, "locked for this client"
    with live.database.session() as s:
        row = s.scalar(select(LoginThrottle).where(LoginThrottle.kind == "failure",
                                                   LoginThrottle.account == "county_xihu"))
        assert row.count == 31 and row.locked_until > utcnow() + timedelta(minutes=14)


# ---- 3: locking someone else out, telling accounts apart ----

def test_an_attacker_cannot_lock_out_a_reviewer_on_another_client(live):
    attacker = browser(live.url, ELSEWHERE)
    assert [attempt(attacker, "county_xihu", f"guess-{i}").status_code for i in range(6)] == [401] * 6
    assert attempt(attacker, "county_xihu", kit.PASSWORD).status_code == 401
    victim = attempt(browser(live.url), "county_xihu", kit.PASSWORD)
    assert victim.status_code == 303 and "lessonqc_session=" in victim.headers["set-cookie"]


def test_every_failed_login_gets_the_same_answer(live):
    with live.database.session() as s:
        accounts.find(s, "county_shangcheng").active = False
    http = browser(live.url)
    for i in range(5):
        attempt(browser(live.url, ELSEWHERE), "city_hangzhou", f"wrong-{i}")   # locked from 127.0.0.2
    answers = {
        "wrong password": attempt(http, "county_xihu", "wrong-password"),
        "unknown user": attempt(http, "nobody-here", kit.PASSWORD),
        "disabled, right password": attempt(http, "county_shangcheng", kit.PASSWORD),
        "locked, right password": attempt(browser(live.url, ELSEWHERE), "city_hangzhou", kit.PASSWORD),
    }
    assert {(a.status_code, a.text) for a in answers.values()} == {(401, answers["wrong password"].text)}, \
        {k: a.status_code for k, a in answers.items()}
    assert "用户名或密码错误" in answers["wrong password"].text


# ---- 5: X-Forwarded-For, several processes ----

def test_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_rate_limit(live_sqlite):
    http = browser(live_sqlite.url)
    codes = [attempt(http, "nobody", "x", {"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert attempt(browser(live_sqlite.url, ELSEWHERE), "nobody", "x").status_code == 401, "the limit is per client"


def test_the_rate_limit_holds_across_server_processes(live_sqlite):
    """Two servers on one index (two `serve --workers`): the attempts of one client add up."""
    other = kit.serve(live_sqlite.app)
    try:
        codes = [attempt(browser(url), "nobody", "x").status_code for url in [live_sqlite.url, other.url] * 3]
    finally:
        other.stop()
    assert codes == [401] * 5 + [429]


def test_a_configured_proxy_is_believed(console_lesson, tmp_path, monkeypatch):
    monkeypatch.setenv(serviceconfig.PROXIES_ENV, "127.0.0.1")
    site = _site(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}", console_lesson,
                 replace(kit.fast_settings(), login_rate_per_client=5))
    try:
        http = browser(site.url)
        codes = [attempt(http, "nobody", "x", {"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(6)]
    finally:
        site.server.stop()
    assert codes == [401] * 6, "behind the proxy every forwarded client has its own limit"


def test_serve_trusts_no_forwarded_header_unless_configured(monkeypatch):
    import uvicorn

    from cli import serve as commands

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(commands.indexing, "database", lambda: None)
    monkeypatch.delenv(serviceconfig.PROXIES_ENV, raising=False)
    monkeypatch.delenv("LESSONQC_SERVICE_CONFIG", raising=False)
    args = argparse.Namespace(host="127.0.0.1", port=1, workers=1)
    for proxies in ("", "10.1.2.3,10.1.2.4"):
        monkeypatch.setenv(serviceconfig.PROXIES_ENV, proxies)
        serviceconfig.load.cache_clear()
        commands.run_serve(args)
    serviceconfig.load.cache_clear()
    assert [(c["proxy_headers"], c["forwarded_allow_ips"]) for c in calls] == \
        [(False, ""), (True, "10.1.2.3,10.1.2.4")]


# ---- 4: racing decisions ----

def logged_in(url: str, name: str) -> tuple[httpx.Client, str]:
    http = browser(url)
    assert attempt(http, name, kit.PASSWORD).status_code == 303
    page = http.get("/console/lessons/xihu-a")
    return http, kit.csrf_of(page.text)


def test_of_four_concurrent_decisions_exactly_one_wins(live):
    reviewers = [logged_in(live.url, "county_xihu") for _ in range(4)]
    forms = [{"action": "pass"}, {"action": "reject", "reason": "广告"}, {"action": "pass"},
             {"action": "reject", "reason": "不合格"}]

    def decide(i: int) -> int:
        http, csrf = reviewers[i]
        return http.post("/console/lessons/xihu-a/decision", data={**forms[i], "csrf_token": csrf}).status_code

    codes = together(4, decide)
    assert sorted(codes) == [303, 409, 409, 409], codes
    with live.database.session() as s:
        decisions = s.scalars(select(Decision).where(Decision.job_id == "xihu-a")).all()
        job = s.get(Job, "xihu-a")
        assert len(decisions) == 1 and job.review_version == 1
        assert job.level == ("city" if decisions[0].action == "pass" else "county")
    assert [job_id for job_id, _ in live.sent] == ["xihu-a"], "one decision callback"


def test_a_decision_from_a_page_older_than_the_last_decision_is_409(live_sqlite):
    first, csrf = logged_in(live_sqlite.url, "county_xihu")
    second, other_csrf = logged_in(live_sqlite.url, "county_xihu")
    assert first.post("/console/lessons/xihu-a/decision",
                      data={"action": "return", "reason": "补充片头", "csrf_token": csrf}).status_code == 303
    stale = second.post("/console/lessons/xihu-a/decision",
                        data={"action": "return", "reason": "另一意见", "version": "0", "csrf_token": other_csrf})
    assert stale.status_code == 409 and "刷新" in stale.text


# ---- suspected: expired rows, the index file, reviewers' files ----

def test_a_login_purges_expired_sessions_and_counters(live_sqlite):
    with live_sqlite.database.session() as s:
        user = accounts.find(s, "county_xihu")
        s.add(LoginSession(token_sha256="0" * 64, user_id=user.id, csrf_token="x",
                           expires_at=utcnow() - timedelta(hours=1)))
        s.add(LoginThrottle(kind="client", account="", client="10.0.0.9", count=3,
                            window_start=utcnow() - timedelta(days=1)))
    assert attempt(browser(live_sqlite.url), "county_xihu", kit.PASSWORD).status_code == 303
    with live_sqlite.database.session() as s:
        assert s.get(LoginSession, "0" * 64) is None
        assert s.scalar(select(func.count()).select_from(LoginThrottle).where(LoginThrottle.client == "10.0.0.9")) == 0
        assert s.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_the_index_file_is_readable_by_its_owner_only(tmp_path):
    fresh = tmp_path / "fresh" / "index.sqlite3"
    older = tmp_path / "older.sqlite3"
    older.touch(mode=0o644)
    os.chmod(older, 0o644)
    for path in (fresh, older):
        database = indexdb.open_database(f"sqlite:///{path}")
        with database.session() as s:
            s.add(User(name=f"u-{path.stem}", level="national", region="", password_hash="x"))
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            assert stat.S_IMODE(part.stat().st_mode) == 0o600, part


def test_reviewers_files_are_sandboxed_on_their_own_path_and_never_cached(live_sqlite):
    http, _ = logged_in(live_sqlite.url, "county_xihu")
    page = http.get("/console/lessons/xihu-a")
    assert page.headers["cache-control"] == "no-store"
    answer = http.get("/console/files/xihu-a/report.html")
    assert answer.status_code == 200 and "<html" in answer.text.lower()
    assert answer.headers["content-security-policy"].startswith("sandbox")
    assert answer.headers["cache-control"] == "no-store" and answer.headers["x-content-type-options"] == "nosniff"
    assert http.get("/console/lessons/xihu-a/files/report.html").status_code == 404
    assert browser(live_sqlite.url).get("/console/files/xihu-a/report.html").status_code == 404, "no login, no file"
    with live_sqlite.database.session() as s:
        s.execute(update(User).values(active=False))
    assert http.get("/console/files/xihu-a/report.html").status_code == 404, "a disabled reviewer's login ends"
