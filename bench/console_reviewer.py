"""A scripted reviewer clears a queue in headless Chromium: one run of the console of whatever tree is
first on PYTHONPATH (bench_console --reviewer runs it for the tree before and after a change).

Each lesson: open it (the first from the queue of undecided lessons, then by the lesson page's 下一节待审),
then per finding click its card and wait until the player shows it (seeked, a frame ready), confirm a
`fail` / dismiss the rest, then pass with a reason. Every HTTP request the
server answers is counted (method, path, bytes). Prints one JSON line of measurements. Imports only
the project's packages (never bench/ or tests/), so the same file drives an older tree.

    PYTHONPATH=TREE python bench/console_reviewer.py REPORT_DIR VIDEO --lessons 20
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REGION = "浙江省/杭州市/西湖区"
PASSWORD = "bench-password-1"


class Counter:
    """ASGI middleware: (method, path, response bytes) of every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app, self.log = app, []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        size = 0

        async def counting(message: dict) -> None:
            nonlocal size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)
        self.log.append((scope["method"], scope["path"], size))


def build(report_dir: Path, video: Path, lessons: int, folder: Path) -> tuple[Any, Any]:
    """The service app over a fresh SQLite index with `lessons` county lessons of one report, a reviewer."""
    from dataclasses import replace

    from console import accounts, settings as console_settings
    from index import repository

    for key, value in (("LESSONQC_DATABASE_URL", f"sqlite:///{folder / 'index.sqlite3'}"),
                       ("LESSONQC_MEDIA_ROOTS", str(video.parent)), ("LESSONQC_REPORT_DIR", str(folder))):
        os.environ[key] = value
    from service.app import create_app
    from workers import indexing

    app = create_app()
    database = indexing.database()
    doc = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    settings = replace(console_settings.load(), argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1)
    with database.session() as s:
        for i in range(lessons):
            repository.add_job(s, repository.NewJob(
                job_id=f"lesson-{i:02d}", source=video.name, profile="micro-primary", media_path=str(video),
                region=f"{REGION}/学校{i % 5}", level="county",
                lesson={"teacher": f"教师{i}", "school": f"学校{i % 5}", "subject": "数学", "grade": "三年级",
                        "title": f"第 {i} 课", "category": "学科课程"}))
        accounts.add_user(s, accounts.NewUser("reviewer", "county", REGION, PASSWORD), settings)
    for i in range(lessons):
        repository.upsert_report(database, {**doc, "job_id": f"lesson-{i:02d}"}, str(report_dir))
    return app, doc


def serve(app: Any) -> tuple[str, Any]:
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def chrome() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                "--window-size=1366,768", "--lang=zh-CN"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def until(driver: Any, condition: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(condition)


def review_lesson(driver: Any, url: str, doc: dict[str, Any], counter: Counter, per_action: list[int]) -> int:
    """Clear one lesson (the next from the lesson page, else from the queue); returns how many full page loads
    it took. Appends the requests
    (not counting the video's) each finding action caused to `per_action`."""
    from selenium.webdriver.common.by import By

    loads = 0

    def loaded() -> None:
        nonlocal loads
        until(driver, lambda d: d.execute_script("return document.readyState === 'complete' && !window.__seen"))
        driver.execute_script("window.__seen = true")
        loads += 1

    following = driver.find_elements(By.ID, "next-lesson")   # the previous lesson's 下一节待审, else the queue
    if following:
        following[0].click()
    else:
        driver.get(f"{url}/console/?decided=no")
        loaded()
        driver.find_element(By.CSS_SELECTOR, "tr.lesson-row td.title a").click()
    loaded()
    for seq, finding in enumerate(doc["findings"]):
        before = driver.execute_script("return window.__seen === true")
        card = driver.find_element(By.ID, f"finding-{seq}")
        card.find_element(By.CSS_SELECTOR, ".message").click()
        if finding["start_s"] is not None:   # look at it: the player shows the finding's first frame
            until(driver, lambda d: d.execute_script(
                "var v = document.getElementById('player'); return !v.seeking && v.readyState >= 3"
                f" && Math.abs(v.currentTime - {finding['start_s']}) < 0.5"))
        status = "confirmed" if finding["severity"] == "fail" else "dismissed"
        mark = len(counter.log)
        card.find_element(By.CSS_SELECTOR, f"button[value={status}]").click()
        until(driver, lambda d: d.find_elements(By.ID, f"review-{seq}")
              and d.execute_script("return document.readyState") == "complete")
        if before and not driver.execute_script("return window.__seen === true"):
            loaded()
        per_action.append(sum(1 for e in counter.log[mark:] if not e[1].endswith("/video")))
    driver.find_element(By.CSS_SELECTOR, "#decision-form input[value=pass]").click()
    driver.find_element(By.ID, "reason").send_keys("规范，同意推荐")
    driver.find_element(By.ID, "decide").click()
    until(driver, lambda d: d.find_elements(By.ID, "read-only") and d.execute_script("return document.readyState") == "complete")
    if not driver.execute_script("return window.__seen === true"):
        loaded()
    return loads


def run(report_dir: Path, video: Path, lessons: int) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    from console.pages import STATIC

    with tempfile.TemporaryDirectory(prefix="bench-reviewer-") as tmp:
        app, doc = build(report_dir, video, lessons, Path(tmp))
        counter = Counter(app)
        url, server = serve(counter)
        driver = chrome()
        try:
            driver.get(f"{url}/console/login")
            driver.find_element(By.NAME, "username").send_keys("reviewer")
            driver.find_element(By.NAME, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
            until(driver, lambda d: d.find_elements(By.ID, "queue-total"))
            counter.log.clear()
            started, loads, per_action = time.perf_counter(), 0, []
            for _ in range(lessons):
                loads += review_lesson(driver, url, doc, counter, per_action)
            seconds = time.perf_counter() - started
            page = next(size for method, path, size in counter.log if path.startswith("/console/lessons/") and method == "GET"
                        and "/files/" not in path)
        finally:
            driver.quit()
            server.should_exit = True
    log, actions = counter.log, lessons * len(doc["findings"])
    finding_posts = [e for e in log if e[0] == "POST" and "/findings/" in e[1]]
    return {"lessons": lessons, "findings_per_lesson": len(doc["findings"]), "seconds": seconds,
            "seconds_per_lesson": seconds / lessons, "full_page_loads_per_lesson": loads / lessons,
            "requests_per_lesson": sum(1 for e in log if not e[1].endswith("/video")) / lessons,
            "video_requests_per_lesson": sum(1 for e in log if e[1].endswith("/video")) / lessons,
            "requests_per_finding_action": sum(per_action) / actions, "most_requests_per_finding_action": max(per_action),
            "finding_answer_bytes": sum(e[2] for e in finding_posts) / actions, "lesson_page_bytes": page,
            "bytes_per_lesson": sum(e[2] for e in log if not e[1].endswith("/video")) / lessons,
            "static_bytes": sum(p.stat().st_size for p in STATIC.iterdir() if p.is_file())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("video", type=Path)
    parser.add_argument("--lessons", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(run(args.report_dir, args.video, args.lessons)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
