"""Originality: a lesson re-using 30 s of another is found (both ranges ±1 s) under each transformation;
look-alikes (one slide template, one teacher's voice, registered common material) are not.

Lesson A is 60 s of its own footage and melody; each lesson B is a title card (5 s), 15 s of
its own, A's 15–45 s transformed (at B's 20–50 s), then 10 s of its own. Media are 320x180
(bit rates scaled by pixel count: 1 and 8 Mbps at 1080p are 28 and 220 kbps here; scaling is
180↔270, the ratio of 720↔1080). The index is real (SQLite, and PostgreSQL for the first test).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main as lessonqc
from index import db
from index import prints as stored
from pipelines import profile as profiles
from pipelines.domain import Finding
from pipelines.originality import config, cross, prints
from pipelines.originality.cross import fingerprint_file
from testmedia import cached
from testmedia import originality as media
from testmedia.originality import Part
from tests import originalitykit as kit
from workers import originality

SIZE, BIG, REUSED_AT, REUSED_OF, SKIP = kit.SIZE, kit.BIG, kit.REUSED_AT, kit.REUSED_OF, kit.SKIP
lesson_b, reuse = kit.lesson_b, kit.reuse


@pytest.fixture(scope="module")
def lessons(media_cache: Path) -> dict[str, Path]:
    return kit.lessons(media_cache)


@pytest.fixture(scope="module")
def profile() -> profiles.Profile:
    return profiles.load("micro-primary")


@pytest.fixture
def sqlite_index(tmp_path: Path) -> db.Database:
    return db.open_database(f"sqlite:///{tmp_path / 'index.sqlite3'}")


def indexed(database: db.Database, video: Path, profile: profiles.Profile, job_id: str) -> None:
    originality.import_archive(database, job_id, str(video), {"title": f"lesson {job_id}", "teacher": "王丽",
                                                              "school": "实验小学"}, "浙江省/杭州市", 2024,
                               fingerprint_file(video, profile))


def matched(database: db.Database, video: Path, profile: profiles.Profile) -> list[Finding]:
    mine = cross.without_common(fingerprint_file(video, profile))
    return cross.check("new-lesson", mine, originality.IndexLessons(lambda: database), 60.0)


def assert_reused(found: list[Finding], at: tuple[float, float], of: tuple[float, float], kinds: set[str],
                  other: str = "a") -> Finding:
    hits = [f for f in found if f.code == "originality.reused" and abs(f.start_s - at[0]) <= 1.0
            and abs(f.end_s - at[1]) <= 1.0]
    assert len(hits) == 1, [(f.code, f.start_s, f.end_s, f.evidence) for f in found]
    ev = hits[0].evidence
    assert ev["other_job_id"] == other and hits[0].severity == "review"
    assert abs(ev["other_start_s"] - of[0]) <= 1.0 and abs(ev["other_end_s"] - of[1]) <= 1.0, ev
    assert ev["matched"] in kinds, ev
    return hits[0]


def test_reused_30s_found_with_both_ranges_and_metadata(lessons, media_cache, profile, index_url):
    database = db.open_database(index_url)
    indexed(database, lessons["a"], profile, "a")
    indexed(database, lessons["other"], profile, "unrelated")
    b = lesson_b(media_cache, lessons, reuse(lessons))
    found = matched(database, b, profile)
    hit = assert_reused(found, REUSED_AT, REUSED_OF, {"both"})
    assert hit.evidence["other_title"] == "lesson a" and hit.evidence["other_teacher"] == "王丽"
    assert hit.evidence["other_school"] == "实验小学" and hit.evidence["other_region"] == "浙江省/杭州市"
    assert hit.evidence["other_year"] == 2024 and hit.evidence["similarity"] > 0.8
    assert [f.code for f in found] == ["originality.reused"], "30 of 60 s is re-use, not a duplicate"


@pytest.mark.parametrize("name, middle, size, bitrate, kinds", [
    ("1 Mbps", "", SIZE, "28k", {"both"}),
    ("8 Mbps", "", SIZE, "220k", {"both"}),
    ("larger picture", "", BIG, "400k", {"both"}),
    ("smaller picture", "scale=iw*2/3:ih*2/3", SIZE, "250k", {"both"}),
    ("10% crop", "crop=iw*0.9:ih*0.9", SIZE, "250k", {"both"}),
    ("letterbox", "scale=iw*0.8:ih*0.8,pad=iw/0.8:ih/0.8:(ow-iw)/2:(oh-ih)/2", SIZE, "250k", {"both"}),
    ("brighter 20%", "colorlevels=rimax=0.833:gimax=0.833:bimax=0.833", SIZE, "250k", {"both"}),
    ("darker 20%", "colorlevels=romax=0.8:gomax=0.8:bomax=0.8", SIZE, "250k", {"both"}),
    ("mirrored", "hflip", SIZE, "250k", {"both"}),
])
def test_reused_footage_survives(name, middle, size, bitrate, kinds, lessons, media_cache, profile, sqlite_index):
    indexed(sqlite_index, lessons["a"], profile, "a")
    b = lesson_b(media_cache, lessons, reuse(lessons, middle), size, bitrate)
    hit = assert_reused(matched(sqlite_index, b, profile), REUSED_AT, REUSED_OF, kinds)
    assert hit.evidence["mirrored"] == (name == "mirrored")


def test_cut_and_reordered_pieces_are_each_found(lessons, media_cache, profile, sqlite_index):
    indexed(sqlite_index, lessons["a"], profile, "a")
    a = lessons["a"]
    b = lesson_b(media_cache, lessons, (Part(a, 30, 45), Part(a, 15, 30)))
    found = matched(sqlite_index, b, profile)
    assert_reused(found, (20, 35), (30, 45), {"both"})
    assert_reused(found, (35, 50), (15, 30), {"both"})


def test_sound_at_another_level_under_other_pictures(lessons, media_cache, profile, sqlite_index):
    indexed(sqlite_index, lessons["a"], profile, "a")
    b = lesson_b(media_cache, lessons, (Part(lessons["other"], 15, 45, volume=0.35, sound_from=lessons["a"]),))
    assert_reused(matched(sqlite_index, b, profile), REUSED_AT, REUSED_OF, {"sound"})


def test_whole_lesson_again_is_a_duplicate(lessons, media_cache, profile, sqlite_index):
    indexed(sqlite_index, lessons["a"], profile, "a")
    again = cached(media_cache, "orig-again.mp4", media.derived, (Part(lessons["a"], 0, 60),), SIZE, "150k")
    found = matched(sqlite_index, again, profile)
    dup = [f for f in found if f.code == "originality.duplicate"]
    assert len(dup) == 1 and dup[0].evidence["other_job_id"] == "a" and dup[0].evidence["share"] >= 0.9


def test_shared_slide_template_is_not_reuse(media_cache, profile, sqlite_index):
    first = cached(media_cache, "orig-tpl1.mp4", media.template_slides,
                   ("分数的意义\n把一个整体平均分", "分数的读法\n二分之一", "练习\n涂出四分之一", "小结\n分子 分母"), 10.0, 21, SIZE)
    second = cached(media_cache, "orig-tpl2.mp4", media.template_slides,
                    ("三角形的面积\n底乘高除以二", "平行四边形\n剪拼转化", "例题\n底 6 cm 高 4 cm", "作业\n练习十九"), 10.0, 22, SIZE)
    indexed(sqlite_index, first, profile, "t1")
    assert matched(sqlite_index, second, profile) == []


def test_same_voice_in_other_lessons_is_not_reuse(media_cache, profile, sqlite_index):
    first = cached(media_cache, "orig-voice1.mp4", media.voiced, 31, ("zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac"), SIZE)
    second = cached(media_cache, "orig-voice2.mp4", media.voiced, 32, ("zh_lesson_fraction_3.flac", "zh_promo_wechat.flac"), SIZE)
    indexed(sqlite_index, first, profile, "v1")
    assert matched(sqlite_index, second, profile) == []


@pytest.fixture
def opening_lessons(media_cache: Path) -> tuple[Path, Path, Path]:
    opening = cached(media_cache, "orig-opening.mp4", media.footage, 41, 12.0, SIZE)
    one = cached(media_cache, "orig-open1.mp4", media.derived,
                 (Part(opening, 0, 12), Part(cached(media_cache, "orig-o1.mp4", media.footage, 42, 20.0, SIZE), 0, 20)))
    two = cached(media_cache, "orig-open2.mp4", media.derived,
                 (Part(opening, 0, 12), Part(cached(media_cache, "orig-o2.mp4", media.footage, 43, 20.0, SIZE), 0, 20)))
    return opening, one, two


@pytest.fixture
def common_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def register(*files: Path) -> None:
        path = tmp_path / "originality.yaml"
        path.write_text(json.dumps({"common": [{"name": f.stem, "file": str(f)} for f in files]}))
        monkeypatch.setenv(config.ORIGINALITY_CONFIG_ENV, str(path))
        config.load.cache_clear()
    yield register
    monkeypatch.delenv(config.ORIGINALITY_CONFIG_ENV, raising=False)
    config.load.cache_clear()


def test_registered_common_opening_never_counts(opening_lessons, profile, sqlite_index, common_config):
    opening, one, two = opening_lessons
    indexed(sqlite_index, one, profile, "o1")
    assert_reused(matched(sqlite_index, two, profile), (0, 12), (0, 12), {"both"}, other="o1")  # the control
    common_config(opening)
    indexed(sqlite_index, one, profile, "o1")  # kept again, the opening masked out
    assert matched(sqlite_index, two, profile) == []


def test_bad_originality_config_is_refused_naming_the_key(tmp_path, monkeypatch):
    path = tmp_path / "bad.yaml"
    path.write_text("matching:\n  min_seconds: -3\n")
    monkeypatch.setenv(config.ORIGINALITY_CONFIG_ENV, str(path))
    config.load.cache_clear()
    try:
        with pytest.raises(profiles.ProfileError, match="matching.min_seconds"):
            config.load()
    finally:
        monkeypatch.delenv(config.ORIGINALITY_CONFIG_ENV)
        config.load.cache_clear()


def test_embedded_check_indexes_and_finds_reuse(lessons, media_cache, tmp_path):
    index = tmp_path / "lessons.sqlite3"
    b = lesson_b(media_cache, lessons, reuse(lessons))
    assert lessonqc(["check", "--index", str(index), *SKIP, "--out", str(tmp_path / "a"), str(lessons["a"])]) in (0, 1, 2)
    assert lessonqc(["check", "--index", str(index), *SKIP, "--out", str(tmp_path / "b"), str(b)]) in (1, 2)
    a_doc = json.loads((tmp_path / "a" / "report.json").read_text())
    b_doc = json.loads((tmp_path / "b" / "report.json").read_text())
    assert not [f for f in a_doc["findings"] if f["code"].startswith("originality.")], "nothing indexed before A"
    hit = assert_reused([Finding(**f) for f in b_doc["findings"] if f["code"].startswith("originality.")],
                        REUSED_AT, REUSED_OF, {"both"}, other=a_doc["job_id"])
    assert hit.evidence["thumbnail"].startswith("thumbs/")
    assert b_doc["stages"]["originality"]["status"] == "ok" and b_doc["stages"]["fingerprint"]["status"] == "ok"
    with db.open_database(f"sqlite:///{index}").session() as session:
        assert stored.has_prints(session, a_doc["job_id"]) and stored.has_prints(session, b_doc["job_id"])


def test_index_keys_of_a_lesson(lessons, profile):
    mine = fingerprint_file(lessons["a"], profile)
    cfg = config.load()
    keys = prints.index_keys(mine, cfg.picture, cfg.sound, cfg.lookup.tick_s)
    query = prints.query_keys(mine, cfg.picture, cfg.sound, cfg.lookup.tick_s)
    assert len(mine.picture) == 120 and all(mine.picture), "2 fps, every frame of footage hashed"
    assert 0 < len(keys) < len(query)
    assert set((keys.key >> 32).tolist()) == {1, 2, 3, 4}, "picture bands 1-3, sound 4"
    assert keys.at.min() >= 0 and keys.at.max() <= round(60.0 / cfg.lookup.tick_s), "times within the lesson"
    sound = keys.key[keys.key >> 32 == prints.SOUND_TAG]
    assert 0.5 < len(sound) * cfg.sound.index_modulus / len(mine.sound) < 2, "one sound value in index_modulus"


@pytest.fixture
def stub_farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import dramatiq

    from workers import broker as brokers
    from workers import jobs, paths, settings

    media_root, reports = tmp_path / "media", tmp_path / "reports"
    media_root.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(media_root))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(reports))
    monkeypatch.delenv(db.DATABASE_URL_ENV, raising=False)
    jobs.open_job_profile.cache_clear()
    binding = brokers.install(brokers.make_stub())
    worker = dramatiq.Worker(binding.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield media_root
    worker.stop()
    brokers.uninstall()
    jobs.open_job_profile.cache_clear()


def test_farm_and_embedded_check_find_the_same_reuse(lessons, media_cache, stub_farm, tmp_path):
    import shutil

    from tests.farmkit import wait_for
    from workers import api

    b = lesson_b(media_cache, lessons, reuse(lessons, "hflip"))
    skip = ["speech", "onscreen", "lab"]
    docs = {}
    for name, video in (("a", lessons["a"]), ("b", b)):
        shutil.copyfile(video, stub_farm / f"{name}.mp4")
        job_id = api.submit(stub_farm / f"{name}.mp4", "micro-primary", skip=skip,
                            details=api.Details(lesson={"title": f"farm lesson {name}"}))
        docs[name] = wait_for(lambda: api.report(job_id), 300, poll_s=0.5, what=f"the farm report of {name}")
    index = tmp_path / "embedded.sqlite3"
    for name in ("a", "b"):  # the same files, under the media roots
        assert lessonqc(["check", "--index", str(index), *SKIP, "--out", str(tmp_path / name),
                         str(stub_farm / f"{name}.mp4")]) in (1, 2)
    embedded = json.loads((tmp_path / "b" / "report.json").read_text())
    a_id = json.loads((tmp_path / "a" / "report.json").read_text())["job_id"]

    def reused(doc: dict, other: str) -> Finding:
        return assert_reused([Finding(**f) for f in doc["findings"] if f["code"].startswith("originality.")],
                             REUSED_AT, REUSED_OF, {"both"}, other=other)

    farm_hit, check_hit = reused(docs["b"], docs["a"]["job_id"]), reused(embedded, a_id)
    assert farm_hit.evidence["other_title"] == "farm lesson a" and farm_hit.evidence["mirrored"]
    assert (farm_hit.start_s, farm_hit.end_s, farm_hit.evidence["matched"]) == \
        (check_hit.start_s, check_hit.end_s, check_hit.evidence["matched"])
    assert docs["b"]["stages"]["originality"]["status"] == embedded["stages"]["originality"]["status"] == "ok"


def test_matches_api_lists_both_directions_within_the_token_s_scope(lessons, media_cache, tmp_path, monkeypatch):
    """Each direction told from the asked job; a region token reads the asked job only in its region, and
    a match naming a lesson outside it keeps that lesson's metadata but says it is not visible."""
    import shutil

    from index.models import Job
    from index import tokens
    from tests.apikit import ServerThread, client, make_token, service_env
    from workers import indexing

    index = tmp_path / "service.sqlite3"
    env = service_env(monkeypatch, tmp_path, f"sqlite:///{index}")
    ids, regions = {}, {"a": "浙江省/杭州市/上城区/胜利小学", "b": "浙江省/杭州市/西湖区/求是小学"}
    for name, video in (("a", lessons["a"]), ("b", lesson_b(media_cache, lessons, reuse(lessons)))):
        shutil.copyfile(video, Path(env["LESSONQC_MEDIA_ROOTS"]) / f"{name}.mp4")
        lessonqc(["check", "--index", str(index), *SKIP, "--out", str(tmp_path / name),
                  str(Path(env["LESSONQC_MEDIA_ROOTS"]) / f"{name}.mp4")])
        ids[name] = json.loads((tmp_path / name / "report.json").read_text())["job_id"]
    with indexing.database().session() as s:
        for name, region in regions.items():
            s.get(Job, ids[name]).region = region
        xihu = tokens.create(s, "xihu", ["read"], region="浙江省/杭州市/西湖区")
        submit_only = tokens.create(s, "uploader", ["submit"])
    server = ServerThread().start()
    try:
        with client(server.url, make_token()) as http:
            mine = http.get(f"/api/v1/jobs/{ids['b']}/matches")
            theirs = http.get(f"/api/v1/jobs/{ids['a']}/matches")
            missing = http.get("/api/v1/jobs/no-such-job/matches")
        with client(server.url, xihu) as regional:
            mine_there, outside = regional.get(f"/api/v1/jobs/{ids['b']}/matches"), regional.get(f"/api/v1/jobs/{ids['a']}/matches")
        with client(server.url, submit_only) as uploader:
            no_scope = uploader.get(f"/api/v1/jobs/{ids['b']}/matches")
        with client(server.url, None) as anonymous:
            refused = anonymous.get(f"/api/v1/jobs/{ids['b']}/matches")
    finally:
        server.stop()
    assert mine.status_code == 200, mine.text
    [match] = mine.json()["matches"]
    assert match["found_in"] == "this" and match["job_id"] == ids["b"] and match["other_job_id"] == ids["a"]
    assert abs(match["start_s"] - 20) <= 1 and abs(match["other_start_s"] - 15) <= 1 and match["matched"] == "both"
    assert match["other_region"] == regions["a"] and match["other_visible"] is True
    [back] = theirs.json()["matches"]
    assert back["found_in"] == "other" and back["job_id"] == ids["a"] and back["other_job_id"] == ids["b"]
    assert abs(back["start_s"] - 15) <= 1 and abs(back["end_s"] - 45) <= 1, "the asked job's range first"
    assert abs(back["other_start_s"] - 20) <= 1 and abs(back["other_end_s"] - 50) <= 1
    assert back["other_region"] == regions["b"] and back["similarity"] == match["similarity"]
    [seen] = mine_there.json()["matches"]
    assert seen["other_visible"] is False and seen["other_region"] == regions["a"], "metadata, not visible"
    assert outside.status_code == 404 and outside.json()["code"] == "job.not_found"
    assert no_scope.status_code == 403 and no_scope.json()["code"] == "auth.scope"
    assert missing.status_code == 404 and missing.json()["code"] == "job.not_found"
    assert refused.status_code == 401


def test_fpcalc_raw_output_is_parsed():
    from pipelines.originality.sound import parse_raw

    sample = "DURATION=10\nFINGERPRINT=3096194662,3113030374,0,4294967295\n"
    assert parse_raw(sample).tolist() == [3096194662, 3113030374, 0, 4294967295]
    assert parse_raw("DURATION=0\nFINGERPRINT=\n").tolist() == [] and parse_raw("ERROR: nothing\n") is None
