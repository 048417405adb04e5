"""The farm across hosts (tests/hostfarm.py): network faults, node loss, a database restart, a skewed clock.

Each test ends with the same outcome (HostFarm.assert_outcome): every job `done` once, its
findings equal to `lessonqc check`'s, exactly one event id per webhook event, delivered once,
the index holding each report's findings once, no message queued or held by a worker.
The hosts are built once for the module; every test puts back the fault it made. Needs root
and iproute2: skips without them locally, fails in CI.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from testmedia import cached, clips
from tests import hostfarm
from tests.conftest import DIAGNOSE
from tests.dbkit import in_ci
from tests.farmkit import wait_for
from tests.hostfarm import HEARTBEAT_MS, QUICK_STAGES, SLOW, HostFarm, patience_s

pytestmark = [pytest.mark.hosts, pytest.mark.allow_error_logs]
REGION = "浙江省/杭州市/西湖区/求是小学"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory):
    if reason := hostfarm.unavailable():
        if in_ci():
            pytest.fail(f"CI: the multi-host tier needs {reason}")
        pytest.skip(reason)
    built = hostfarm.build(tmp_path_factory.mktemp("hosts"))
    try:
        yield built
    finally:
        hostfarm.teardown(built)


@pytest.fixture(autouse=True)
def diagnosis(request: pytest.FixtureRequest):
    """A failed test's report shows the messages still in flight and what each host logged meanwhile."""
    if "farm" in request.fixturenames:
        built: HostFarm = request.getfixturevalue("farm")
        since = built.log_sizes()
        request.node.stash[DIAGNOSE] = lambda: built.diagnose(since)
    yield


@pytest.fixture(scope="module")
def lesson(media_cache: Path) -> Path:
    """8 s, black from 2 to 5 s: a `fail` verdict with a timed finding to compare."""
    return cached(media_cache, "farm-black.mp4", clips.clip, 8.0, black_between=(2.0, 5.0), speech=False)


def _started_on(farm: HostFarm, job_id: str) -> str:
    """The host whose slowtest stage started on `job_id` first."""
    return wait_for(lambda: next((h for h, e, j, _ in farm.slow_marks() if e == "start" and j == job_id), None),
                    patience_s(), poll_s=0.2, what="the slow stage to start")


def test_a_worker_host_cut_off_mid_stage_has_its_task_redone_elsewhere_and_its_late_result_ignored(farm, lesson):
    job = farm.submit(lesson)
    name = _started_on(farm, job)
    other = {"cpu1": "cpu2", "cpu2": "cpu1"}[name]
    farm.net.cut(farm.host(name))
    cut_at = time.monotonic()
    try:
        farm.wait_done([job], patience_s())  # while the host is still cut off: its task was redone on the other one
        assert time.monotonic() - cut_at > HEARTBEAT_MS / 1000
        farm.note("worker cut off", heartbeat_s=HEARTBEAT_MS / 1000,
                  cut_to_report_s=round(time.monotonic() - cut_at, 1))
        report = farm.reports / job / "report.json"
        published = report.stat().st_mtime_ns
    finally:
        farm.net.mend(farm.host(name))
    farm.settle([job], patience_s())  # the cut host comes back, records its late result and acknowledges its message
    marks = farm.slow_marks()
    assert [e for h, e, j, _ in marks if (h, j) == (name, job)] == ["start", "end"], marks  # it did finish, late
    winner = next(pid for h, e, j, pid in marks if (h, e, j) == (other, "end", job))
    doc = farm.job_report(job)
    assert f"pid {winner}" in next(f["message"] for f in doc["findings"] if f["code"] == SLOW)
    assert report.stat().st_mtime_ns == published, "the late result published the report again"
    farm.assert_outcome([job], lesson, runs=2)
    assert farm.exited("cpu1", "cpu2", "gpu", "api") == []


def test_redis_unreachable_from_every_host_the_api_answers_503_and_everything_recovers_without_restart(farm, lesson):
    before = [farm.submit(lesson) for _ in range(3)]  # just before the outage: must not be lost
    farm.net.cut(farm.host("redis"))
    cut_at = time.monotonic()
    try:
        with farm.http(timeout_s=60) as http:
            asked = time.monotonic()
            answer = http.post("/api/v1/jobs", json={"media": str(farm.place(lesson)), "skip": list(QUICK_STAGES)})
            waited = time.monotonic() - asked
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].split(";")[0] in ("application/problem+json", "application/json")
            assert answer.json()["code"] == "farm.unavailable" and waited < 20, (answer.json(), waited)
            farm.note("redis unreachable", answer_503_s=round(waited, 2))
            assert http.get(f"/api/v1/jobs/{before[0]}").status_code == 200  # reads still answer, from the index
        time.sleep(max(0.0, 40 - (time.monotonic() - cut_at)))
    finally:
        farm.net.mend(farm.host("redis"))
    outage, back = time.monotonic() - cut_at, time.monotonic()
    after = farm.submit(lesson)  # the API took work again without a restart
    farm.settle([*before, after], patience_s(len(before) + 1))
    farm.note("redis unreachable", outage_s=round(outage, 1), back_to_settled_s=round(time.monotonic() - back, 1))
    farm.assert_outcome([*before, after], lesson, runs=None)
    assert farm.exited("cpu1", "cpu2", "gpu", "api") == []
    for name in ("cpu1", "cpu2", "gpu"):
        assert "starting it again" not in farm.log(name).read_text(errors="replace"), f"{name} restarted dramatiq"


def _reviewer(farm: HostFarm) -> httpx.Client:
    """A school-level reviewer of REGION, logged in to the console over the network."""
    from console import accounts
    from index.db import open_database
    from tests.consolekit import PASSWORD, csrf_of, fast_settings

    with open_database(farm.database_url, migrate=False).session() as session:
        accounts.add_user(session, accounts.NewUser("school_reviewer", "school", REGION, PASSWORD), fast_settings())
    http = httpx.Client(base_url=farm.api_url, timeout=30)
    form = http.get("/console/login")
    answer = http.post("/console/login", data={"username": "school_reviewer", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text)})
    assert answer.status_code in (200, 303), answer.text
    return http


def _decide(http: httpx.Client, job_id: str, deadline: float) -> list[int]:
    """Post `pass` (with the review version the page showed) until the console takes it (a database restart
    in between: 5xx or a dropped connection, then again); return the status codes seen. A repeat after an
    unseen success is refused (409)."""
    from tests.consolekit import csrf_of

    seen: list[int] = []
    while time.monotonic() < deadline:
        try:
            page = http.get(f"/console/lessons/{job_id}")
            if page.status_code == 200:
                version = re.search(r'name="version" value="(\d+)"', page.text)
                form = {"action": "pass", "csrf_token": csrf_of(page.text), "confirm_unreviewed": "yes",
                        "version": version.group(1) if version else ""}
                answer = http.post(f"/console/lessons/{job_id}/decision", data=form)
                seen.append(answer.status_code)
                if answer.status_code in (303, 409):
                    return seen
            else:
                seen.append(page.status_code)
        except httpx.HTTPError:
            seen.append(0)
        time.sleep(0.3)
    return seen


def test_postgres_restarted_during_index_writes_and_decisions_loses_and_doubles_nothing(farm, lesson):
    reviewer = _reviewer(farm)
    first = [farm.submit(lesson, region=REGION) for _ in range(2)]
    farm.wait_done(first, patience_s(len(first)))
    rest = [farm.submit(lesson, region=REGION) for _ in range(3)]
    _started_on(farm, rest[-1])  # the later jobs are mid-flight: their report steps write the index soon
    outcomes: dict[str, list[int]] = {}
    deciding = threading.Thread(daemon=True, target=lambda: outcomes.update(
        {j: _decide(reviewer, j, time.monotonic() + patience_s(len(first), 4)) for j in first}))
    deciding.start()
    time.sleep(0.3)
    restarted = time.monotonic()
    farm.restart_postgres(down_s=4)
    deciding.join(patience_s(len(first), 4) + 30)
    farm.settle([*first, *rest], patience_s(len(first) + len(rest), 4))
    farm.note("postgres restarted", down_s=4, restart_to_settled_s=round(time.monotonic() - restarted, 1),
              decision_answers=str(outcomes))
    later = {j: _decide(reviewer, j, time.monotonic() + patience_s()) for j in rest}
    assert all(seen[-1] == 303 for seen in later.values()), later
    assert all(seen and seen[-1] in (303, 409) for seen in outcomes.values()), outcomes
    jobs = [*first, *rest]
    wait_for(lambda: len({h["decision"] for h in farm.webhooks() if h["event"] == "review.decided"}) >= len(jobs),
             patience_s(), poll_s=0.5, what="a review.decided webhook per decision")
    with farm.http() as http:
        for job_id in jobs:
            decided = http.get(f"/api/v1/jobs/{job_id}/decisions").json()
            assert [(d["level"], d["action"]) for d in decided["decisions"]] == [("school", "pass")], decided
            assert decided["level"] == "county"
    farm.settle(jobs, patience_s())
    farm.assert_outcome(jobs, lesson, runs=None)


def test_the_speech_host_serves_its_queue_across_the_network(farm, lesson, monkeypatch):
    """The "GPU" host takes the speech queue's work (the plug-in stage routed there: no Whisper in this tier)."""
    started = time.monotonic()
    job = farm.submit_direct(lesson, "speechlane.yaml", monkeypatch)
    farm.settle([job], patience_s())
    farm.note("speech lane", plain_s=round(time.monotonic() - started, 1))
    assert {h for h, e, j, _ in farm.slow_marks() if j == job} == {"gpu"}
    farm.assert_outcome([job], lesson)


def test_the_speech_host_behind_a_slow_lossy_link_only_slows_its_jobs(farm, lesson, monkeypatch):
    with farm.slow_link("gpu", ("speech",), delay_ms=150, jitter_ms=50, loss_pct=5) as made_by:
        started = time.monotonic()
        jobs = [farm.submit_direct(lesson, "speechlane.yaml", monkeypatch) for _ in range(2)]
        farm.settle(jobs, 2 * patience_s(len(jobs)))  # every packet 100-200 ms late, 5 % lost
        farm.note("speech lane", shaped_s=round(time.monotonic() - started, 1), link=made_by)
        assert {h for h, e, j, _ in farm.slow_marks() if j in jobs} == {"gpu"}
    farm.assert_outcome(jobs, lesson)


def test_a_worker_host_whose_clock_runs_5_minutes_ahead_neither_repeats_work_nor_ends_jobs_early(farm, lesson,
                                                                                                  monkeypatch):
    farm.stop_worker("cpu2")
    farm.start_worker("cpu2", **farm.skewed_env(300))
    try:
        farm.wait_workers(3)
        started = time.monotonic()
        jobs = [farm.submit_direct(lesson, "quick.yaml", monkeypatch) for _ in range(4)]
        farm.settle(jobs, patience_s(len(jobs)))
        farm.note("clock ahead", jobs=4, settled_s=round(time.monotonic() - started, 1))
        skewed = [j for h, e, j, _ in farm.slow_marks() if h == "cpu2" and j in jobs]
        assert skewed, "the skewed host ran none of the jobs"
        client = farm.client()
        assert all(client.hget(f"lessonqc:job:{j}", "redrives") is None for j in jobs), "a job was re-driven early"
        stamps = [(h["at"], int(h["stamp"])) for h in farm.webhooks() if h["job_id"] in jobs]
        assert stamps and all(abs(stamp - at) < 30 for at, stamp in stamps), f"stamped off Redis's clock: {stamps}"
        farm.assert_outcome(jobs, lesson)  # a task run twice, or ended as an error by an early deadline, fails here
    finally:
        farm.stop_worker("cpu2")
        farm.start_worker("cpu2")
        farm.wait_workers(3)


def test_the_webhook_receiver_down_for_a_while_gets_every_event_once_after_it_returns(farm, lesson):
    hooks = farm.host("hooks")
    farm.net.cut(hooks)
    cut_at, cut_at_wall = time.monotonic(), time.time()
    try:
        jobs = [farm.submit(lesson) for _ in range(3)]
        farm.wait_done(jobs, patience_s(len(jobs)))
        time.sleep(max(0.0, 45 - (time.monotonic() - cut_at)))
        assert not [h for h in farm.webhooks() if h["job_id"] in jobs]
        with farm.http() as http:
            assert {http.get(f"/api/v1/jobs/{j}").json()["callback_state"] for j in jobs} <= {"pending", None}
        back = time.time()
    finally:
        farm.net.mend(hooks)
    farm.settle(jobs, patience_s(len(jobs)))
    arrived = [h["at"] for h in farm.webhooks() if h["job_id"] in jobs]
    assert all(at >= back for at in arrived)
    farm.note("receiver down", down_s=round(back - cut_at_wall, 1),
              back_to_all_delivered_s=round(max(arrived) - back, 1))
    farm.assert_outcome(jobs, lesson)


def test_teardown_leaves_nothing_of_ours_and_touches_nothing_else():
    """A network built and torn down: none of its namespaces or links remain; others' are untouched."""
    if reason := hostfarm.unavailable():
        pytest.skip(reason)
    from tests import netkit

    others = set(netkit.sh("ip", "netns", "list").stdout.split()) | set(re.findall(r"^\d+: (\S+?)[:@]",
                                                                                  netkit.sh("ip", "-o", "link").stdout,
                                                                                  re.M))
    net = netkit.Network()
    net.add("a")
    net.add("b")
    assert len(net.leftovers()) == 5
    net.teardown()
    assert net.leftovers() == []
    after = set(netkit.sh("ip", "netns", "list").stdout.split()) | set(re.findall(r"^\d+: (\S+?)[:@]",
                                                                                 netkit.sh("ip", "-o", "link").stdout,
                                                                                 re.M))
    assert others <= after
