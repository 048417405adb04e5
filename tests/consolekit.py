"""The reviewer console under test: a real checked lesson indexed for several regions, users, a live server.

Lessons are seeded by checking a short generated lesson for real (`pipelines.check`) and indexing
its report through the index's own functions (add_job with the platform's metadata, then
upsert_report), once per region and level the tests need.
"""
from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from testmedia import cached
from testmedia.lesson import LessonSpec, make_lesson
from index import db as indexdb
from index import repository
from index.models import Job
from console import accounts, settings as console_settings
from console.web import Console

PASSWORD = "correct-horse-7"
XIHU = "浙江省/杭州市/西湖区"
USERS = {  # name: (level, region)
    "county_xihu": ("county", XIHU),
    "county_shangcheng": ("county", "浙江省/杭州市/上城区"),
    "city_hangzhou": ("city", "浙江省/杭州市"),
    "admin": ("national", ""),
}
DISPLAY_NAMES = {"county_xihu": "王老师（西湖区）", "city_hangzhou": "陈老师（杭州市）"}   # history shows these
# job id: (region, level, teacher, 课名)
LESSONS = {
    "xihu-a": (f"{XIHU}/求是小学", "county", "王丽", "分数的初步认识"),
    "xihu-b": (f"{XIHU}/文三街小学", "county", "李明", "<script>alert(1)</script>认识图形"),
    "shangcheng-a": ("浙江省/杭州市/上城区/胜利小学", "county", "赵强", "长方形的面积"),
    "xihu-school": (f"{XIHU}/求是小学", "school", "陈静", "还在学校推荐"),
    "ningbo-a": ("浙江省/宁波市/海曙区/中山小学", "county", "孙敏", "宁波的课"),
    "xihu-lookalike": ("浙江省/杭州市/西湖区-北/某校", "county", "周敏", "名字相近的地区"),   # not inside 西湖区
}


def make_checked_lesson(media: Path, out: Path, skip: frozenset[str] = frozenset()) -> tuple[Path, Path, dict[str, Any]]:
    """A 20 s 720p lesson with an ad slide at 10–15 s and spoken promotion, checked for real into `out`
    (less the stages in `skip`: without speech, no Whisper and no transcript)."""
    from pipelines import profile as profiles
    from pipelines.check import check

    video = cached(media, "console-lesson.mp4", make_lesson, LessonSpec(seconds=20, slide_s=5, title_s=4, width=1280,
                                                                        height=720, ad_slide_at=10, promo_speech_at=14))
    check(video, profiles.load("micro-primary"), out, skip=skip)
    return video, out, json.loads((out / "report.json").read_text(encoding="utf-8"))


def seed(database: indexdb.Database, video: Path, report_dir: Path, doc: dict[str, Any]) -> None:
    """Index the checked report once per lesson of LESSONS with its platform metadata; add USERS."""
    settings = fast_settings()
    with database.session() as s:
        for job_id, (region, level, teacher, title) in LESSONS.items():
            repository.add_job(s, repository.NewJob(
                job_id=job_id, source=video.name, profile="micro-primary", media_path=str(video), region=region,
                level=level, lesson={"teacher": teacher, "school": region.rsplit("/", 1)[-1], "subject": "数学",
                                     "grade": "三年级", "title": title, "category": "学科课程"}))
        for name, (level, region) in USERS.items():
            accounts.add_user(s, accounts.NewUser(name, level, region, PASSWORD, is_admin=name == "admin",
                                                  display_name=DISPLAY_NAMES.get(name)), settings)
    for job_id in LESSONS:
        repository.upsert_report(database, {**copy.deepcopy(doc), "job_id": job_id}, str(report_dir))


INFO_JOB = "xihu-info"
SPOKEN = "课后想要更多练习资料的同学，可以扫码关注我们的公众号，也可以加微信。"


def with_review_extras(doc: dict[str, Any], watermarks: int = 4) -> dict[str, Any]:
    """`doc` plus what a day of reviewing meets: whole-length 提示 watermarks and a spoken promotion
    heard wrong (the cue words misheard, the sentence in the evidence), as the pipelines report them."""
    out = copy.deepcopy(doc)
    length = float(out["media"]["duration_s"])
    out["findings"] += [{"code": "text.watermark", "severity": "info", "start_s": 0.0, "end_s": length,
                         "message": f"画面有持续水印/标识 台标{n} / persistent watermark or logo",
                         "evidence": {"text": f"台标{n}", "present_share": 0.95}} for n in range(watermarks)]
    out["findings"].append({"code": "speech.ad", "severity": "fail", "start_s": 14.0, "end_s": 18.0,
                            "message": "疑似口播推广：骚骂关注我们的公众好、骚骂关注",
                            "evidence": {"key": "spoken_ad", "rules": ["action+channel", "scan_code"],
                                         "heard": ["骚骂关注我们的公众好", "骚骂关注"], "how": ["sound"],
                                         "transcript": SPOKEN}})
    return out


def seed_review_extras(database: indexdb.Database, video: Path, report_dir: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Index INFO_JOB (a county lesson of 西湖区) with `with_review_extras(doc)`; returns that report."""
    extra = {**with_review_extras(doc), "job_id": INFO_JOB}
    with database.session() as s:
        repository.add_job(s, repository.NewJob(
            job_id=INFO_JOB, source=video.name, profile="micro-primary", media_path=str(video),
            region=f"{XIHU}/保俶塔小学", level="county",
            lesson={"teacher": "吴芳", "school": "保俶塔小学", "subject": "数学", "grade": "三年级",
                    "title": "水印很多的课", "category": "学科课程"}))
    repository.upsert_report(database, extra, str(report_dir))
    return extra


def finding_seq(doc: dict[str, Any], code: str) -> int:
    return next(i for i, f in enumerate(doc["findings"]) if f["code"] == code)


def level_of(database: indexdb.Database, job_id: str) -> str:
    with database.session() as s:
        return s.get(Job, job_id).level


def fast_settings() -> console_settings.ConsoleSettings:
    """The default settings with a cheap argon2 cost (tests create many hashes)."""
    from dataclasses import replace

    return replace(console_settings.load(), argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def signed_in(app: Any, name: str, password: str = PASSWORD) -> Any:
    """A TestClient logged in to the console as `name` (through the log-in form and its CSRF token)."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    form = client.get("/console/login")
    answer = client.post("/console/login", data={"username": name, "password": password,
                                                 "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(app: Any) -> LiveServer:
    """Run `app` on uvicorn in a thread on a free port, as `lessonqc serve` runs it (the browser needs a real socket)."""
    import uvicorn

    from service.app import server_options

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           **server_options()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def service_app(monkeypatch: Any, folder: Path, database_url: str, media: Path,
                settings: console_settings.ConsoleSettings | None = None, hook: Any = None) -> tuple[Any, Any]:
    """The real `lessonqc serve` app on `database_url`, videos under `media`; optionally other console
    settings or decision hook. Returns (app, the index Database)."""
    from service.app import create_app
    from workers import indexing, serviceconfig

    reports = folder / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    for key, value in (("LESSONQC_DATABASE_URL", database_url), ("LESSONQC_MEDIA_ROOTS", str(media)),
                       ("LESSONQC_REPORT_DIR", str(reports))):
        monkeypatch.setenv(key, value)
    serviceconfig.load.cache_clear()
    app = create_app()
    if settings is not None or hook is not None:
        app.state.console = Console(indexing.database, settings or fast_settings(),
                                    on_decision=hook or app.state.console.on_decision)
    return app, indexing.database()


def browser(size: tuple[int, int] = (1366, 768)) -> Iterator[Any]:
    """`chrome(size)` for a browser test's fixture: skipped without chromium and chromedriver (failed in CI)."""
    import os
    import shutil

    import pytest

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI"):
            pytest.fail("CI: chromium and chromium-driver must be installed (make setup installs them)")
        pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver)")
    yield from chrome(size)


def chrome(size: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """Headless Debian Chromium through chromedriver (nothing is downloaded), a window of `size`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                f"--window-size={size[0]},{size[1]}", "--autoplay-policy=no-user-gesture-required", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(driver: Any, url: str, name: str) -> None:
    """Log `name` in through the console's login form (the queue is then shown)."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/console/login")
    driver.find_element(By.NAME, "username").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "queue-total"))


def wait_for(driver: Any, condition: Any, timeout: float = 15) -> Any:
    """Wait for `condition`; parts the page swaps in meanwhile are looked up again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


AXE = Path(__file__).resolve().parent.parent / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def shot(driver: Any, name: str) -> Path:
    """A screenshot of the window under .cache/artifacts (LESSONQC_ARTIFACTS overrides); its path."""
    import os

    folder = Path(os.environ.get("LESSONQC_ARTIFACTS") or Path(__file__).resolve().parent.parent / ".cache" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def need_axe() -> None:
    """Skip without axe-core (`make axe`); fail in CI."""
    import os

    import pytest

    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI: {AXE} missing (make setup installs axe-core from npm)")
        pytest.skip("axe-core not installed (make axe)")


def axe_violations(driver: Any) -> list[tuple[str, str, int, Any]]:
    """axe-core's serious and critical violations on the page shown: (rule, impact, nodes, first target)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(JSON.stringify(r.violations)); });")
    return [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in json.loads(result)
            if v["impact"] in ("serious", "critical")]


# Two lessons where the second re-uses 30 s of the first (tests/originalitykit.py), in two districts of
# 杭州市 at the county level: each district's reviewer sees one of them, MATCH_REVIEWER (county level,
# the whole city) sees both. job id: (region, teacher, 课名)
MATCH_LESSONS = {
    "match-a": ("浙江省/杭州市/上城区/胜利小学", "赵强", "分数的意义（原课）"),
    "match-b": (f"{XIHU}/文三街小学", "李明", "<b>分数</b>的意义（重用）"),
}
MATCH_REVIEWER = ("county_hangzhou", "county", "浙江省/杭州市")


def match_jobs(videos: dict[str, Path]) -> dict[str, repository.NewJob]:
    """MATCH_LESSONS as the platform submits them (county level), videos by job id."""
    return {job_id: repository.NewJob(
        job_id=job_id, source=videos[job_id].name, profile="micro-primary", media_path=str(videos[job_id]),
        region=region, level="county", lesson={"teacher": teacher, "school": region.rsplit("/", 1)[-1],
                                               "subject": "数学", "grade": "三年级", "title": title,
                                               "category": "学科课程"})
        for job_id, (region, teacher, title) in MATCH_LESSONS.items()}


def checked_matches(cache: Path, out: Path) -> tuple[dict[str, Path], dict[str, dict[str, Any]], Path]:
    """MATCH_LESSONS checked for real, in order, against a scratch index (match-b's report names match-a):
    videos and report documents by job id, and `out` (the reports are published under out/<job id>)."""
    from tests import originalitykit as origin

    lessons = origin.lessons(cache)
    videos = {"match-a": lessons["a"], "match-b": origin.lesson_b(cache, lessons, origin.reuse(lessons))}
    scratch = indexdb.open_database(f"sqlite:///{out / 'scratch.sqlite3'}")
    return videos, origin.check_pair(scratch, match_jobs(videos), videos, out), out


def seed_matches(database: indexdb.Database, videos: dict[str, Path], docs: dict[str, dict[str, Any]],
                 out: Path) -> None:
    """checked_matches' lessons and reports into a console's index, and MATCH_REVIEWER."""
    name, level, region = MATCH_REVIEWER
    with database.session() as s:
        for new in match_jobs(videos).values():
            repository.add_job(s, new)
        accounts.add_user(s, accounts.NewUser(name, level, region, PASSWORD), fast_settings())
    for job_id, doc in docs.items():
        repository.upsert_report(database, doc, str(out / job_id))
