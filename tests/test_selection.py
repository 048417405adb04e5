"""Selection rules on one lesson (no database): the typed metadata and its checks, the catalogue node
(`selection.node_unknown`), the title card against the metadata (`intro.metadata_mismatch`) on a real
generated card, and the metadata's way through `lessonqc check` / `submit` and the farm's job spec."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main as cli_main
from pipelines.selection import catalogue, check, config, mismatch
from pipelines.selection.metadata import LessonMeta, MetadataInvalid, Node
from testmedia.cache import cached
from testmedia.cards import card_video
from tests.test_onscreen import near, run_stage
from tests.test_onscreen_cards import LAYOUTS, SLIDES, VALUES
from workers import exitcodes
from workers.jobs import JobSpec

NODE = "小学/数学/人教版/三年级上册/第八单元 分数的初步认识/分数的初步认识"
MATCHING = {"teacher": "王丽", "subject": "数学", "grade": "三年级", "title": "分数的初步认识", "school": "求是小学"}
CARD_S = 6.0   # the generated card's length (testmedia.cards.Card.seconds)


@pytest.fixture(autouse=True)
def fresh_config(monkeypatch):
    """The shipped settings and sample catalogue unless a test names others."""
    monkeypatch.delenv(catalogue.CATALOGUE_ENV, raising=False)
    monkeypatch.delenv(config.SELECTION_CONFIG_ENV, raising=False)
    catalogue.load.cache_clear()
    config.load.cache_clear()
    yield
    catalogue.load.cache_clear()
    config.load.cache_clear()


@pytest.fixture(scope="module")
def table_card(media_cache: Path) -> Path:
    """The ruled-table card of test_onscreen_cards with all five fields (人教版 数学 三年级上册 分数的初步认识 王丽)."""
    layout, _ = LAYOUTS["table"]
    return cached(media_cache, "card-table-complete.mp4", card_video, layout(""), SLIDES)


@pytest.fixture(scope="module")
def card_metrics(table_card: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The on-screen stage's metrics of the card video (its title-card reading in `title_card`)."""
    return {"onscreen": run_stage(table_card, tmp_path_factory.mktemp("card")).metrics}


# ---- metadata ----

def test_metadata_is_checked_once_for_every_entry_point():
    meta = LessonMeta.from_dict({**MATCHING, "node": NODE})
    assert meta.node == Node("小学", "数学", "人教版", "三年级上册", "第八单元 分数的初步认识", "分数的初步认识")
    assert LessonMeta.from_dict(meta.to_dict()) == meta, "to_dict round-trips (the job spec, report.json)"
    assert LessonMeta.from_dict({"teacher": "  王丽  ", "title": ""}).to_dict() == {"teacher": "王丽"}
    for bad, says in (({"teacher": "王\x07丽"}, "teacher: control characters"), ({"title": "课" * 501}, "title: at most 500"),
                      ({"node": "小学/数学"}, "six expected"), ({"node": {"stage": "小学"}}, "node.subject: required"),
                      ({"colour": "red"}, "unknown metadata field 'colour'"), ({"grade": 3}, "grade: must be text")):
        with pytest.raises(MetadataInvalid, match=says):
            LessonMeta.from_dict(bad)


# ---- the catalogue ----

def test_an_open_node_passes_and_an_unknown_one_names_its_first_unknown_part():
    assert check(LessonMeta.from_dict({"node": NODE}), {}) == []
    spaced = LessonMeta.from_dict({"node": "小学/数学/人教版/三年级上册/第八单元　分数的初步认识/分数的初步认识"})
    assert check(spaced, {}) == [], "full-width space and spacing do not make a node unknown"
    (found,) = check(LessonMeta.from_dict({"node": NODE.replace("人教版", "沪教版")}), {})
    assert (found.code, found.severity, found.start_s) == ("selection.node_unknown", "review", None)
    assert (found.evidence["node_part"], found.evidence["part_name"], found.evidence["declared"]) == ("edition", "教材版本", "沪教版")
    assert found.evidence["choices"] == ["人教版"] and found.evidence["catalogue"] == "catalogue.yaml"
    (lesson,) = check(LessonMeta.from_dict({"node": NODE.replace("/分数的初步认识", "/分数的意义", 1)}), {})
    assert lesson.evidence["node_part"] == "lesson" and "分数的简单计算" in lesson.evidence["choices"]


def test_no_node_no_catalogue_finding():
    assert check(LessonMeta.from_dict({"teacher": "王丽"}), {}) == []


def test_the_real_catalogue_file_replaces_the_sample(tmp_path, monkeypatch):
    real = tmp_path / "目录.csv"
    real.write_text("学段,学科,教材版本,册次,单元,课\n初中,数学,沪教版,六年级第一学期,第一章 数的整除,整数和整除的意义\n",
                    encoding="utf-8")
    monkeypatch.setenv(catalogue.CATALOGUE_ENV, str(real))
    catalogue.load.cache_clear()
    assert check(LessonMeta.from_dict({"node": "初中/数学/沪教版/六年级第一学期/第一章 数的整除/整数和整除的意义"}), {}) == []
    (found,) = check(LessonMeta.from_dict({"node": NODE}), {})
    assert (found.evidence["node_part"], found.evidence["declared"], found.evidence["catalogue"]) == ("stage", "小学", "目录.csv")
    real.write_text("学段,学科\n小学,数学\n", encoding="utf-8")
    catalogue.load.cache_clear()
    with pytest.raises(Exception, match="header must be 学段,学科,教材版本,册次,单元,课"):
        catalogue.load()


# ---- the title card against the metadata ----

@pytest.mark.parametrize("card, declared", [
    ({"年级": "七年级上册"}, {"grade": "初一", "node": "初中/数学/人教版/1/第一章 有理数/正数和负数"}),
    ({"年级": "七年級（上）"}, {"grade": "七年级"}),
    ({"教材版本": "人民教育出版社"}, {"node": NODE}),
    ({"教材版本": "北京师范大学出版"}, {"node": NODE.replace("人教版", "北师大版")}),
    ({"主讲教师": "王丽老师、李明"}, {"teacher": "王 丽"}),
    ({"主讲教师": "分数的初步认识王丽"}, {"teacher": "王丽"}),
    ({"课名": "《分数的初步认识》（第一课时）"}, {"title": "分数的初步认识"}),
    ({"课名": "ＡＢＣ　Song"}, {"title": "abc song"}),
    ({"学科": "道法"}, {"subject": "道德与法治"}),
])
def test_tolerant_comparison_agrees_on_the_same_thing_written_otherwise(card, declared):
    assert mismatch.compare(card, LessonMeta.from_dict(declared), config.load()) == []


@pytest.mark.parametrize("card, declared", [
    ({"年级": "七年级下册"}, {"grade": "初一", "node": "初中/数学/人教版/1/第一章 有理数/正数和负数"}),
    ({"年级": "八年级上册"}, {"grade": "初一"}),
    ({"教材版本": "北师大版"}, {"node": NODE}),
    ({"主讲教师": "王丽华"}, {"teacher": "王丽"}),
    ({"主讲教师": "王丽华"}, {"teacher": "丽华"}),
    ({"课名": "长方形的面积"}, {"title": "分数的初步认识"}),
])
def test_a_different_value_disagrees(card, declared):
    (d,) = mismatch.compare(card, LessonMeta.from_dict(declared), config.load())
    assert d.field == next(iter(card))


def test_field_values_are_cut_at_the_next_label_and_found_by_pattern_or_heading():
    from pipelines import profile as profiles
    from pipelines.onscreen.titlecard import read_values

    fields = profiles.load("micro-primary").onscreen.title_card.fields
    lines = ["学科：数学 年级：三年级上册", "主讲教师  王丽", "北京师范大学出版社", "第八单元"]
    assert read_values(lines, "分数的初步认识", fields) == {
        "学科": "数学", "年级": "三年级上册", "主讲教师": "王丽", "教材版本": "北京师范大学出版社", "课名": "分数的初步认识"}
    assert read_values(["人教版 三年级上册", "《认识图形》"], None, fields) == {
        "教材版本": "人教版", "年级": "三年级上册", "课名": "《认识图形》"}


def test_the_card_is_read_field_for_field_with_its_time_range(card_metrics):
    read = card_metrics["onscreen"]["title_card"]
    assert read["fields"] == {**VALUES}
    assert near(read["start_s"], 0.0, 0.5) and near(read["end_s"], CARD_S, 0.5)


def test_matching_metadata_keeps_the_real_card_clean(card_metrics):
    assert check(LessonMeta.from_dict({**MATCHING, "node": NODE}), card_metrics) == []


def test_a_wrong_teacher_and_title_are_found_over_the_card(card_metrics):
    meta = LessonMeta.from_dict({**MATCHING, "teacher": "李明", "title": "长方形的面积", "node": NODE})
    found = check(meta, card_metrics)
    assert [(f.code, f.severity, f.evidence["field"]) for f in found] == [
        ("intro.metadata_mismatch", "review", "课名"), ("intro.metadata_mismatch", "review", "主讲教师")]
    teacher = found[1]
    assert (teacher.evidence["card"], teacher.evidence["metadata"]) == ("王丽", "李明")
    assert near(teacher.start_s, 0.0, 0.5) and near(teacher.end_s, CARD_S, 0.5)


def test_lessonqc_check_with_meta_and_node_writes_them_and_their_findings(table_card, tmp_path, capsys):
    """The CLI end to end on the real card: --meta and --node reach report.json / report.html; a wrong teacher
    and an unknown node are findings."""
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({**MATCHING, "teacher": "李明"}, ensure_ascii=False), encoding="utf-8")
    node = NODE.replace("第八单元 分数的初步认识", "第九单元")
    code = cli_main(["check", str(table_card), "--out", str(tmp_path / "out"), "--skip-stage", "speech",
                     "--meta", str(meta), "--node", node])
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert doc["lesson"] == {**MATCHING, "teacher": "李明", "node": Node.parse(node).to_dict()}
    assert doc["stages"]["selection"]["status"] == "ok"
    codes = {f["code"]: f for f in doc["findings"] if f["code"].startswith(("selection.", "intro."))}
    assert set(codes) == {"intro.metadata_mismatch", "selection.node_unknown"}, codes
    assert codes["intro.metadata_mismatch"]["evidence"]["field"] == "主讲教师"
    assert codes["selection.node_unknown"]["evidence"]["declared"] == "第九单元"
    assert code == exitcodes.for_verdicts([doc["verdict"]])
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "申报信息" in html and "李明" in html and "第九单元" in html
    assert "intro.metadata_mismatch" in capsys.readouterr().out


def test_bad_metadata_on_the_command_line_is_a_usage_error(tmp_path, capsys):
    meta = tmp_path / "meta.json"
    meta.write_text('{"teacher": "王\\u0000丽"}', encoding="utf-8")
    assert cli_main(["check", "x.mp4", "--meta", str(meta), "--skip-stage", "speech"]) == 4
    assert "teacher: control characters" in capsys.readouterr().err
    assert cli_main(["check", "x.mp4", "--node", "小学/数学", "--skip-stage", "speech"]) == 4
    assert "six expected" in capsys.readouterr().err


def test_submit_hands_the_metadata_to_the_farm(monkeypatch, tmp_path):
    """`lessonqc submit --meta --node` gives the farm the same metadata, which its job spec carries to the
    report step (JobSpec round trip)."""
    from workers import api

    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(MATCHING, ensure_ascii=False), encoding="utf-8")
    seen = []
    monkeypatch.setattr(api, "submit", lambda *a, **k: seen.append(k["details"]) or "job-1")
    assert cli_main(["submit", "a.mp4", "--meta", str(meta), "--node", NODE]) == 0
    (details,) = seen
    assert details.lesson == LessonMeta.from_dict({**MATCHING, "node": NODE})
    spec = JobSpec("job-1", "a.mp4", "micro-primary", lesson=details.lesson.to_dict())
    assert JobSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).metadata() == details.lesson
    assert JobSpec.from_dict({"job_id": "job-2", "media": "a.mp4", "profile": "micro-primary"}).metadata() is None


def test_the_farm_report_step_runs_the_same_rules_from_the_job_spec(table_card, tmp_path, monkeypatch):
    """The farm's steps in memory (probe, each task, the report step): the job spec's metadata gives the
    same `lesson` and findings as `lessonqc check`."""
    from tests.farmkit import ListOutbox
    from workers import jobs, paths, settings
    from workers.state import JobStore, MemoryBackend

    media, reports = tmp_path / "media", tmp_path / "reports"
    media.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(media))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(reports))
    (media / "card.mp4").write_bytes(table_card.read_bytes())
    farm = jobs.Farm(JobStore(MemoryBackend()), ListOutbox(), reports)
    meta = LessonMeta.from_dict({**MATCHING, "title": "长方形的面积", "node": NODE})
    spec = JobSpec("sel1", str(media / "card.mp4"), "micro-primary",
                   skip=("speech", "lab", "fingerprint", "soundprint"), lesson=meta.to_dict())
    farm.store.create(spec.job_id, spec.to_dict())
    jobs.start(spec, farm)
    for task in farm.store.plan(spec.job_id):
        jobs.run_task(spec, jobs.Task.from_dict(task), farm)
    jobs.finalize(spec, farm)
    doc = json.loads((reports / "sel1" / "report.json").read_text(encoding="utf-8"))
    assert doc["lesson"] == meta.to_dict()
    (found,) = [f for f in doc["findings"] if f["code"] == "intro.metadata_mismatch"]
    thumb = found["evidence"].pop("thumbnail")
    assert found["evidence"] == {"field": "课名", "card": "分数的初步认识", "metadata": "长方形的面积"}
    assert (reports / "sel1" / thumb).is_file(), "a picture of the card for the reviewer"
    assert near(found["start_s"], 0.0, 0.5) and near(found["end_s"], CARD_S, 0.5)
    assert not [f for f in doc["findings"] if f["code"] == "selection.node_unknown"]


def test_a_checked_report_indexed_by_check_index_keeps_its_node(tmp_path):
    """`lessonqc check --index` indexes the report itself: its `lesson` becomes the lessons row, node key too."""
    from index import db, repository
    from index.models import Job

    database = db.open_database(f"sqlite:///{tmp_path / 'index.sqlite3'}")
    lesson = LessonMeta.from_dict({**MATCHING, "node": NODE}).to_dict()
    doc = {"job_id": "checked", "source": "a.mp4", "profile": "micro-primary", "verdict": "pass", "findings": [],
           "stages": {}, "media": None, "created_at": "2026-12-07T10:00:00+00:00", "lesson": lesson}
    repository.upsert_report(database, doc, str(tmp_path))
    with database.session() as s:
        row = s.get(Job, "checked").lesson
        assert (row.teacher, repository.node_of(row)) == ("王丽", Node.parse(NODE).to_dict())
        assert row.node_key == "小学/数学/人教版/三年级上册/第八单元分数的初步认识/分数的初步认识"
