"""Selection across lessons through real console decisions: `selection.same_node` on both lessons of a
node once both passed 市级遴选 (and again at 省级), nothing across provinces or nodes; a province's passes
against its national quota on the queue, and a pass beyond it refused until confirmed (CSRF intact)."""
from __future__ import annotations

import copy
import threading
import time
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from sqlalchemy import select

from console import accounts, quotas, workflow
from index import decisions as records
from index import repository
from index.models import Job
from index.review import User
from tests import consolekit as kit

NODE = {"stage": "小学", "subject": "数学", "edition": "人教版", "volume": "三年级上册", "unit": "第八单元 分数的初步认识",
        "lesson": "分数的初步认识"}
OTHER_NODE = {**NODE, "lesson": "分数的简单计算"}
# job id: (region, node, teacher, 课名)
LESSONS = {
    "node-a": ("浙江省/杭州市/西湖区/求是小学", NODE, "王丽", "分数的初步认识（一）"),
    "node-b": ("浙江省/杭州市/上城区/胜利小学", {**NODE, "unit": "第八单元　分数的初步认识"}, "赵强", "分数的初步认识（二）"),
    "node-c": ("浙江省/杭州市/西湖区/文三街小学", OTHER_NODE, "李明", "分数的简单计算"),
    "node-js": ("江苏省/南京市/鼓楼区/琅琊路小学", NODE, "孙敏", "分数的初步认识（南京）"),
}
SAME = "selection.same_node"


@pytest.fixture
def site(index_url, console_lesson, tmp_path, monkeypatch):
    """The service app on an index with four city-level lessons (three of one node, two provinces), a city,
    a Nanjing city and a Zhejiang province reviewer; this year's Zhejiang quota is 1."""
    quota_file = tmp_path / "quotas.yaml"
    quota_file.write_text(f"level: province\nquotas:\n  {datetime.now(timezone.utc).year}:\n    浙江省: 1\n",
                          encoding="utf-8")
    monkeypatch.setenv(quotas.QUOTAS_ENV, str(quota_file))
    quotas.load.cache_clear()
    video, report_dir, doc = console_lesson
    app, database = kit.service_app(monkeypatch, tmp_path, index_url, video.parent)
    settings = kit.fast_settings()
    with database.session() as s:
        for job_id, (region, node, teacher, title) in LESSONS.items():
            repository.add_job(s, repository.NewJob(
                job_id=job_id, source=video.name, profile="micro-primary", media_path=str(video), region=region,
                level="city", lesson={"teacher": teacher, "school": region.rsplit("/", 1)[-1], "title": title,
                                      "node": node}))
        for name, level, region in (("city_hangzhou", "city", "浙江省/杭州市"), ("city_nanjing", "city", "江苏省/南京市"),
                                    ("province_zj", "province", "浙江省")):
            accounts.add_user(s, accounts.NewUser(name, level, region, kit.PASSWORD), settings)
    for job_id in LESSONS:
        repository.upsert_report(database, {**copy.deepcopy(doc), "job_id": job_id}, str(report_dir))
    yield database, app, len(doc["findings"])
    quotas.load.cache_clear()


login = kit.signed_in


def decide(client: TestClient, job: str, **extra: str):
    page = client.get(f"/console/lessons/{job}").text
    return client.post(f"/console/lessons/{job}/decision", follow_redirects=False,
                       data={"action": "pass", "confirm_unreviewed": "yes", "csrf_token": kit.csrf_of(page), **extra})


def console_doc(database) -> dict:
    """node-a's published report.json (the one every lesson here was indexed from)."""
    import json
    from pathlib import Path

    with database.session() as s:
        return json.loads((Path(s.get(Job, "node-a").report_dir) / "report.json").read_text(encoding="utf-8"))


def same_node(database, job_id: str) -> list[tuple[int, str, str, str]]:
    """(seq, severity, other job, level) of the job's selection.same_node findings."""
    with database.session() as s:
        return [(f.seq, f.severity, f.evidence["other_job_id"], f.evidence["level"])
                for f in s.get(Job, job_id).findings if f.code == SAME]


def test_same_node_is_found_on_both_lessons_once_both_passed_the_city(site):
    database, app, reported = site
    nanjing, city = login(app, "city_nanjing"), login(app, "city_hangzhou")
    assert decide(nanjing, "node-js").status_code == 303          # the same node passed in another province
    assert decide(city, "node-a").status_code == 303
    assert same_node(database, "node-a") == [] and same_node(database, "node-js") == []
    assert decide(city, "node-c").status_code == 303              # another node of the same unit
    assert decide(city, "node-b").status_code == 303
    assert same_node(database, "node-b") == [(reported, "review", "node-a", "city")]
    assert same_node(database, "node-a") == [(reported, "review", "node-b", "city")]
    assert same_node(database, "node-c") == [] and same_node(database, "node-js") == []
    page = city.get("/console/lessons/node-b").text
    assert SAME in page and "分数的初步认识（一）" in page and "王丽" in page and "市级遴选" in page and "另一节课课名" in page
    assert "目录节点" in page and "第八单元" in page
    queue = city.get("/console/", params={"decided": "all", "code": SAME}).text
    assert "node-a" in queue and "node-b" in queue and "node-c" not in queue
    repository.upsert_report(database, {**copy.deepcopy(console_doc(database)), "job_id": "node-b"}, "elsewhere")
    assert same_node(database, "node-b") == [(reported, "review", "node-a", "city")], "a re-index keeps them"


def test_the_province_quota_is_shown_and_a_pass_beyond_it_must_be_confirmed(site):
    database, app, reported = site
    city = login(app, "city_hangzhou")
    for job in ("node-a", "node-b", "node-c"):
        assert decide(city, job).status_code == 303
    province = login(app, "province_zj")
    year = datetime.now(timezone.utc).year
    assert f"浙江省 {year} 年报送部级遴选：已通过 <strong>0</strong> / 名额 <strong>1</strong>" in province.get("/console/").text
    assert 'name="confirm_over_quota"' not in province.get("/console/lessons/node-a").text
    assert decide(province, "node-a").status_code == 303
    assert "已通过 <strong>1</strong> / 名额 <strong>1</strong>（名额已满" in province.get("/console/").text
    assert 'name="confirm_over_quota"' in province.get("/console/lessons/node-b").text
    refused = decide(province, "node-b")
    assert refused.status_code == 400 and "超出名额" in refused.text
    with database.session() as s:
        assert s.get(Job, "node-b").level == "province", "nothing was decided"
    forged = province.post("/console/lessons/node-b/decision", follow_redirects=False,
                           data={"action": "pass", "confirm_unreviewed": "yes", "confirm_over_quota": "yes"})
    assert forged.status_code == 403, "the confirmation does not bypass CSRF"
    assert decide(province, "node-b", confirm_over_quota="yes").status_code == 303
    with database.session() as s:
        assert s.get(Job, "node-b").level == "national"
        history = [d.action for d in records.decisions_of(s, "node-b")]
    assert history == ["pass", "pass"]
    assert "已通过 <strong>2</strong> / 名额 <strong>1</strong>" in province.get("/console/").text
    # both passed 省级 too: a second pair of findings, at that level
    assert same_node(database, "node-b")[-1] == (reported + 1, "review", "node-a", "province")
    assert same_node(database, "node-a")[-1] == (reported + 1, "review", "node-b", "province")


def test_a_reviewer_outside_the_quota_level_sees_no_quota(site):
    _, app, _ = site
    assert 'id="quota"' not in login(app, "city_hangzhou").get("/console/").text


@pytest.mark.parametrize("index_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_two_passes_of_one_node_written_at_once_each_find_the_other(site):
    """The first pass is still uncommitted while the second is judged (two console processes on PostgreSQL):
    the second waits for it, so same_node is on both lessons (before, neither had it)."""
    database, _, reported = site
    first_decided, errors = threading.Event(), []

    def pass_lesson(job_id: str, hold_s: float) -> None:
        try:
            with database.session() as s:
                user = s.scalar(select(User).where(User.name == "city_hangzhou"))
                workflow.decide(s, user, s.get(Job, job_id), "pass", "", 500, unreviewed_ok=True)
                if hold_s:
                    first_decided.set()
                    time.sleep(hold_s)  # committed late: the other pass is judged meanwhile
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            first_decided.set()

    first = threading.Thread(target=pass_lesson, args=("node-a", 1.5))
    first.start()
    assert first_decided.wait(30)
    second = threading.Thread(target=lambda: pass_lesson("node-b", 0))
    second.start()
    first.join(60)
    second.join(60)
    assert not errors
    assert same_node(database, "node-b") == [(reported, "review", "node-a", "city")]
    assert same_node(database, "node-a") == [(reported, "review", "node-b", "city")]
