"""Speech stage: real Mandarin/English audio through whisper base (marked `model`), and pure units."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import profile as profiles
from pipelines.speech import language as speech_lang
from pipelines.speech import measures
from pipelines.speech import windows as speech_windows
from pipelines.speech import ads as spoken_ads
from pipelines.speech import subtitles
from pipelines.domain import AudioInfo, Media, StageOutput, TranscriptSegment, VideoInfo
from pipelines.speech.stage import SpeechStage
from pipelines.speech.asr import simplified, split_by_chunks
from pipelines.speech.measures import TALLY_KEY, SpeechTally
from pipelines.registry import all_stages
from pipelines.stages import StageContext
from testmedia import speech as sm
from testmedia.speech import Piece

LESSON_TEXTS = [  # what the three lesson clips say, and what whisper base wrote for them
    "同学们好，今天我们一起学习分数的意义。把一个整体平均分成若干份，表示这样的一份或几份的数，叫做分数。",
    "请大家看屏幕上的图形，这个长方形被平均分成了四份，涂色的部分是其中的一份，用四分之一来表示。",
    "下面我们来做一个小练习。请同学们拿出学习任务单，独立完成第一题，然后和同桌交流你的想法。",
    "同学们好,今天我们一起学习分数的意义,把一个整体平均分成肉肝份疑,表示这样的一份或几份的数,叫做分数。",
    "除色的部分是其中的1分用4分之1来表示",
    "下面我们来做一个小练习请同学们拿出学习任务单独立完成第一体然后和同桌交流你的想法",
]
ORDINARY = [  # lesson speech that mentions buying, discounts or numbers without promoting anything
    "小明去商店购买了3支铅笔，每支2元，一共花了多少钱？",
    "商店搞活动，这件衣服打八折，原价100元，现在要多少元？",
    "请同学们数一数：1、3、5、7、9、11、13，这些都是奇数。",
    "我们学校的电话会议下午开始，大家先看第十二页。",
    "观众朋友们，请看这个实验，把两个三角形拼成一个平行四边形。",
    "他又会把这个分数约分，得到二分之一。",
    "一二三四五，上山打老虎。",
    "长方形的面积等于长乘宽，3.5厘米乘2厘米等于7平方厘米。",
]
PROMO_HEARD = "客后想要更多练习资料的同学,可以骚骂观众我们的公众好。也可以加微信资寻,报名还有优惠。"


# ---------- helpers ----------

def media_of(seconds: float) -> Media:
    video = VideoInfo("h264", 1920, 1080, "16:9", 25.0, False, None, "yuv420p", "progressive")
    return Media("mp4", seconds, 0, None, video, AudioInfo("aac", 48000, 2, 128000))


def context(wav: Path, workdir: Path, profile: profiles.Profile, start_s: float = 0.0,
            duration_s: float | None = None, total_s: float | None = None) -> StageContext:
    seconds = total_s if total_s is not None else sm.samples(wav).size / sm.RATE
    workdir.mkdir(parents=True, exist_ok=True)
    return StageContext(wav, media_of(seconds), profile, workdir, start_s, duration_s)


def codes(out: StageOutput, code: str) -> list:
    return [f for f in out.findings if f.code == code]


def seg(start: float, end: float, text: str, lang: str = "zh") -> TranscriptSegment:
    return TranscriptSegment(start, end, text, lang)


# ---------- real audio through the model ----------

@pytest.fixture(scope="module")
def speech_dir(media_cache: Path) -> Path:
    folder = media_cache / "speech"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def zh_profile() -> profiles.Profile:
    return profiles.load("micro-primary")


@pytest.fixture(scope="module")
def mandarin_run(speech_dir: Path, tmp_path_factory, zh_profile) -> StageOutput:
    wav, _ = sm.track(speech_dir, "mandarin.wav", sm.mandarin(2))
    return SpeechStage().analyse(wav, context(wav, tmp_path_factory.mktemp("zh"), zh_profile))


@pytest.fixture(scope="module")
def mixed(speech_dir: Path) -> tuple[Path, tuple[float, float]]:
    """Mandarin, an English stretch, Mandarin; returns the WAV and the English (start, end)."""
    pieces = sm.mandarin(1) + [Piece("silence", 1.0), Piece("english"), Piece("silence", 1.0)] + sm.mandarin(1)
    wav, bounds = sm.track(speech_dir, "mixed.wav", pieces)
    return wav, bounds[len(sm.mandarin(1)) + 1]


@pytest.fixture(scope="module")
def mixed_run(mixed, tmp_path_factory, zh_profile) -> StageOutput:
    wav, _ = mixed
    return SpeechStage().analyse(wav, context(wav, tmp_path_factory.mktemp("mixed"), zh_profile))


@pytest.mark.model
def test_mandarin_lesson_has_no_language_ad_or_low_speech_finding(mandarin_run: StageOutput) -> None:
    assert mandarin_run.findings == []
    assert mandarin_run.metrics["language_shares"].get("zh", 0) > 0.95
    assert mandarin_run.metrics["speech_ratio"] > 0.8
    text = "".join(s.text for s in mandarin_run.transcript)
    assert text.count("分数") >= 4 and "长方形" in text
    assert {s.lang for s in mandarin_run.transcript} == {"zh"}


@pytest.mark.model
def test_mandarin_lesson_writes_subtitles_matching_the_transcript(mandarin_run: StageOutput) -> None:
    srt = Path(mandarin_run.artifacts["transcript_srt"]).read_text(encoding="utf-8")
    vtt = Path(mandarin_run.artifacts["transcript_vtt"]).read_text(encoding="utf-8")
    assert srt.count(" --> ") == vtt.count(" --> ") == len(mandarin_run.transcript) > 0
    assert vtt.startswith("WEBVTT") and mandarin_run.transcript[0].text in srt


@pytest.mark.model
def test_english_stretch_gives_one_finding_covering_it(mixed, mixed_run: StageOutput) -> None:
    _, (en_start, en_end) = mixed
    found = codes(mixed_run, "speech.language")
    assert len(found) == 1, found
    assert abs(found[0].start_s - en_start) <= 2.0 and abs(found[0].end_s - en_end) <= 2.0
    assert found[0].severity == "fail" and found[0].evidence["language"] == "en"
    assert found[0].evidence["probability"] >= 0.8


@pytest.mark.model
def test_foreign_language_course_accepts_the_english_stretch(mixed, tmp_path: Path) -> None:
    wav, (en_start, en_end) = mixed
    profile = profiles.load("micro-primary", extra_languages=["en"])
    out = SpeechStage().analyse(wav, context(wav, tmp_path, profile))
    assert codes(out, "speech.language") == []
    english = [s for s in out.transcript if s.lang == "en"]
    assert english and all(en_start - 1 <= s.start_s and s.end_s <= en_end + 1 for s in english)
    assert "fraction" in " ".join(s.text for s in english).lower()


@pytest.mark.model
def test_segments_merge_to_the_whole_run(mixed, mixed_run: StageOutput, tmp_path: Path, zh_profile) -> None:
    wav, (en_start, en_end) = mixed
    data = sm.samples(wav)
    total = data.size / sm.RATE
    cut = (en_start + en_end) / 2
    parts = []
    for k, (start, stop) in enumerate([(0.0, cut), (cut, total)]):
        piece = sm.write(tmp_path / f"part{k}.wav", data[int(start * sm.RATE):int(stop * sm.RATE)])
        ctx = context(piece, tmp_path / f"w{k}", zh_profile, start, stop - start, total_s=total)
        parts.append(SpeechStage().analyse(piece, ctx))
    assert all("transcript_srt" not in p.artifacts for p in parts)
    merged = SpeechStage().merge(parts, context(wav, tmp_path / "merged", zh_profile))
    found = codes(merged, "speech.language")
    assert len(found) == 1 and abs(found[0].start_s - en_start) <= 2.0 and abs(found[0].end_s - en_end) <= 2.0
    assert merged.metrics["speech_ratio"] == pytest.approx(mixed_run.metrics["speech_ratio"], abs=0.03)
    assert merged.metrics["longest_gap_s"] == pytest.approx(mixed_run.metrics["longest_gap_s"], abs=0.5)
    assert codes(merged, "speech.low_speech") == [] and codes(merged, "speech.ad") == []
    assert Path(merged.artifacts["transcript_srt"]).read_text(encoding="utf-8").count(" --> ") == len(merged.transcript)


@pytest.mark.model
def test_mostly_silent_lesson_is_low_speech(speech_dir: Path, tmp_path: Path, zh_profile) -> None:
    wav, _ = sm.track(speech_dir, "silent.wav",
                      [Piece("silence", 40.0), Piece("zh_lesson_fraction_1.flac"), Piece("silence", 40.0)])
    out = SpeechStage().analyse(wav, context(wav, tmp_path, zh_profile))
    low = codes(out, "speech.low_speech")
    assert len(low) == 1 and low[0].severity == "fail"
    assert out.metrics["speech_ratio"] < zh_profile.speech.low_speech.fail_below
    assert out.metrics["longest_gap_s"] >= 39.0
    assert codes(out, "speech.language") == []


@pytest.mark.model
def test_spoken_promotion_is_found_in_its_time_range(speech_dir: Path, tmp_path: Path, zh_profile) -> None:
    pieces = [Piece("zh_lesson_fraction_1.flac"), Piece("silence", 1.0), Piece("zh_promo_wechat.flac"),
              Piece("silence", 1.0), Piece("zh_lesson_fraction_3.flac")]
    wav, bounds = sm.track(speech_dir, "promo.wav", pieces)
    promo_start, promo_end = bounds[2]
    out = SpeechStage().analyse(wav, context(wav, tmp_path, zh_profile))
    ads = codes(out, "speech.ad")
    assert len(ads) == 1, ads
    assert ads[0].severity == "fail"
    assert abs(ads[0].start_s - promo_start) <= 2.0 and abs(ads[0].end_s - promo_end) <= 2.0
    assert "微信" in ads[0].evidence["transcript"]
    assert {"wechat", "official_account"} <= set(ads[0].evidence["rules"])


@pytest.mark.model
def test_transcripts_have_no_traditional_characters(mandarin_run: StageOutput, mixed_run: StageOutput) -> None:
    text = "".join(s.text for s in mandarin_run.transcript + mixed_run.transcript)
    assert text and simplified(text) == text


def test_stage_is_registered_and_skips_videos_without_audio(zh_profile) -> None:
    stage = all_stages()["speech"]
    assert isinstance(stage, SpeechStage)
    silent_video = media_of(60.0)
    silent_video.audio = None
    assert stage.enabled(zh_profile, media_of(60.0)) and not stage.enabled(zh_profile, silent_video)


# ---------- spoken promotion matcher ----------

@pytest.fixture(scope="module")
def cues() -> spoken_ads.AdMatcher:
    return spoken_ads.matcher(profiles.load("micro-primary").speech.ads.rules_file)


def test_misheard_promotion_matches_by_sound(cues) -> None:
    found = {(m.rule, m.heard, m.how) for m in cues.find(PROMO_HEARD)}
    assert ("scan_code", "骚骂", "sound") in found
    assert ("official_account", "公众好", "sound") in found
    assert ("wechat", "加微信", "text") in found


@pytest.mark.parametrize("text", LESSON_TEXTS + ORDINARY)
def test_ordinary_lesson_speech_has_no_strong_cue(cues, text: str) -> None:
    assert [m for m in cues.find(text) if m.strong] == []


@pytest.mark.parametrize("text", LESSON_TEXTS + ORDINARY)
def test_ordinary_lesson_speech_gives_no_ad_finding(cues, text: str) -> None:
    assert spoken_ads.ad_findings([seg(0.0, 8.0, text)], cues, 20.0, 3.0) == []


@pytest.mark.parametrize("text,number", [
    ("有需要的家长请拨打13812345678咨询", "13812345678"),
    ("电话是138 1234 5678", "138 1234 5678"),
    ("联系方式幺三八幺二三四五六七八", "幺三八幺二三四五六七八"),
    ("客服热线400-820-1234", "400-820-1234"),
])
def test_phone_numbers_in_digits_or_spoken_numerals_match(cues, text: str, number: str) -> None:
    phones = [m for m in cues.find(text) if m.rule.startswith("phone")]
    assert [m.heard for m in phones] == [number]


def test_urls_match_written_and_spoken(cues) -> None:
    assert [m.heard for m in cues.find("欢迎访问www.abc.com了解更多") if m.rule == "url"] == ["www.abc.com"]
    assert [m.heard for m in cues.find("网址是 abc点com") if m.rule == "url"] == ["点com"]


def test_ad_findings_time_range_severity_and_joining(cues) -> None:
    transcript = [seg(0.0, 5.0, "同学们好"), seg(40.0, 47.0, PROMO_HEARD[:27]), seg(47.5, 52.0, PROMO_HEARD[27:]),
                  seg(60.0, 66.0, "下面我们来做一个小练习"), seg(100.0, 104.0, "报名还有优惠"),
                  seg(200.0, 204.0, "这道题里小明购买了铅笔"), seg(300.0, 306.0, "有需要请拨打13812345678")]
    found = spoken_ads.ad_findings(transcript, cues, 20.0, 3.0)
    assert [(f.start_s, f.end_s, f.severity) for f in found] == [
        (40.0, 52.0, "fail"), (100.0, 104.0, "review"), (300.0, 306.0, "fail")]
    assert found[0].evidence["transcript"] == PROMO_HEARD
    assert found[2].evidence["rules"] == ["action+number", "phone_mobile"]


# ---------- subtitles ----------

def test_srt_and_vtt_text() -> None:
    transcript = [seg(0.0, 2.5, "同学们好"), seg(3661.5, 3663.25, "下面 我们\n来做")]
    assert subtitles.srt(transcript) == ("1\n00:00:00,000 --> 00:00:02,500\n同学们好\n\n"
                                         "2\n01:01:01,500 --> 01:01:03,250\n下面 我们 来做\n")
    assert subtitles.vtt(transcript) == ("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n同学们好\n\n"
                                         "01:01:01.500 --> 01:01:03.250\n下面 我们 来做\n")


def test_subtitles_written_into_the_folder(tmp_path: Path) -> None:
    paths = subtitles.write([seg(1.0, 2.0, "好")], tmp_path)
    assert Path(paths["transcript_srt"]).read_text(encoding="utf-8").endswith("好\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["transcript.srt", "transcript.vtt"]


# ---------- windows, language stretches, tallies, merge ----------

def chunk(start_s: float, end_s: float) -> speech_windows.Chunk:
    return speech_windows.Chunk(int(start_s * sm.RATE), int(end_s * sm.RATE))


def test_language_windows_join_short_chunks_only_across_short_pauses() -> None:
    chunks = [chunk(0, 1), chunk(1.5, 2.5), chunk(2.7, 9), chunk(20, 21), chunk(21.2, 30)]
    windows = speech_windows.language_windows(chunks, min_s=3.0, max_s=12.0, join_gap_s=1.5)
    assert [(w.start_s, w.end_s) for w in windows] == [(0, 9), (20, 30)]
    windows = speech_windows.language_windows(chunks, min_s=3.0, max_s=8.0, join_gap_s=1.5)
    assert [(w.start_s, w.end_s) for w in windows] == [(0, 2.5), (2.7, 9), (20, 21), (21.2, 30)]


def test_transcription_windows_keep_one_language_and_a_size_limit() -> None:
    windows = [speech_windows.Window([chunk(i * 10, i * 10 + 8)], text_lang=lang)
               for i, lang in enumerate(["zh", "zh", "zh", "zh", "en", "zh"])]
    out = speech_windows.transcription_windows(windows, max_s=30.0)
    assert [(w.text_lang, w.start_s, w.end_s) for w in out] == [
        ("zh", 0, 28), ("zh", 30, 38), ("en", 40, 48), ("zh", 50, 58)]


def test_language_findings_merge_neighbours_and_mark_low_confidence_for_review(zh_profile) -> None:
    cfg = zh_profile.speech.language
    flagged = [speech_lang.Flagged(10, 16, 6, "en", 0.97), speech_lang.Flagged(17, 25, 8, "en", 0.95),
               speech_lang.Flagged(60, 68, 8, "ja", 0.45), speech_lang.Flagged(90, 91, 1, "en", 0.99)]
    found = speech_lang.findings(flagged, cfg)
    assert [(f.start_s, f.end_s, f.severity, f.evidence["language"]) for f in found] == [
        (10, 25, "fail", "en"), (60, 68, "review", "ja")]


def test_text_language_falls_back_to_the_profile_language_when_unsure() -> None:
    window = speech_windows.Window([chunk(0, 5)], lang="ja", prob=0.4)
    assert speech_lang.text_language(window, ["zh"], 0.8) == "zh"
    window.prob = 0.9
    assert speech_lang.text_language(window, ["zh"], 0.8) == "ja"


def test_tallies_combine_with_silence_across_the_seam() -> None:
    a = SpeechTally(0, 300, speech_s=200, lead_gap_s=1, trail_gap_s=20, inner_gap_s=5, language_s={"zh": 200})
    b = SpeechTally(300, 600, speech_s=0, lead_gap_s=300, trail_gap_s=300)
    c = SpeechTally(600, 900, speech_s=250, lead_gap_s=10, trail_gap_s=2, inner_gap_s=4, language_s={"zh": 250})
    total = measures.combine([c, a, b])
    assert (total.start_s, total.end_s, total.speech_s) == (0, 900, 450)
    assert (total.lead_gap_s, total.inner_gap_s, total.trail_gap_s) == (1, 330, 2)
    assert measures.metrics(total, [])["longest_gap_s"] == 330


def test_low_speech_thresholds(zh_profile) -> None:
    cfg = zh_profile.speech.low_speech
    assert measures.low_speech(cfg.review_below + 0.01, cfg) is None
    assert measures.low_speech(cfg.review_below - 0.01, cfg).severity == "review"
    assert measures.low_speech(cfg.fail_below - 0.01, cfg).severity == "fail"


def part(start: float, end: float, speech: float, transcript: list[TranscriptSegment],
         flagged: list[dict] | None = None) -> StageOutput:
    tally = SpeechTally(start, end, speech_s=speech, lead_gap_s=0 if speech else end - start,
                        trail_gap_s=0 if speech else end - start, language_s={"zh": speech} if speech else {},
                        flagged=flagged or [])
    return StageOutput(metrics={TALLY_KEY: tally.to_dict()}, transcript=transcript)


def test_merge_redecides_low_speech_and_joins_a_stretch_across_the_seam(tmp_path: Path, zh_profile) -> None:
    speechy = part(0, 300, 240, [seg(10, 14, "同学们好")],
                   [{"start_s": 295.0, "end_s": 299.5, "speech_s": 4.5, "lang": "en", "prob": 0.95}])
    quiet = part(300, 600, 30, [seg(301, 305, "加微信了解")],
                 [{"start_s": 300.5, "end_s": 302.0, "speech_s": 1.5, "lang": "en", "prob": 0.95}])
    ctx = context(tmp_path / "x.wav", tmp_path, zh_profile, total_s=600)
    merged = SpeechStage().merge([quiet, speechy], ctx)
    assert merged.metrics["speech_ratio"] == pytest.approx(270 / 600)
    assert codes(merged, "speech.low_speech") == []
    lang = codes(merged, "speech.language")
    assert [(f.start_s, f.end_s) for f in lang] == [(295.0, 302.0)]
    assert [(f.start_s, f.end_s) for f in codes(merged, "speech.ad")] == [(301, 305)]
    alone = SpeechStage().merge([quiet], ctx)
    assert codes(alone, "speech.low_speech")[0].severity == "fail" and codes(alone, "speech.language") == []


def test_simplified_converts_traditional_text() -> None:
    assert simplified("這個長方形被平均分成了四份，塗色的部分") == "这个长方形被平均分成了四份，涂色的部分"


def test_a_window_long_segment_is_split_at_sentence_chunks() -> None:
    text = "同学们好,今天我们学习分数。可以扫码关注我们的公众号,也可以加微信。下面我们来做一个小练习。"
    pieces = split_by_chunks(seg(0.1, 16.9, text), [(0.0, 5.0), (5.8, 12.5), (13.2, 17.0)])
    assert [(p.start_s, p.end_s) for p in pieces] == [(0.1, 5.0), (5.8, 12.5), (13.2, 16.9)]
    assert [p.text for p in pieces] == ["同学们好,今天我们学习分数。", "可以扫码关注我们的公众号,也可以加微信。", "下面我们来做一个小练习。"]
    assert split_by_chunks(seg(7.5, 12.0, "好"), [(0.0, 6.0), (7.0, 13.0)]) == [seg(7.5, 12.0, "好")]


@pytest.mark.model
def test_window_by_window_and_batched_decoding_agree(speech_dir: Path, tmp_path: Path, zh_profile) -> None:
    wav, _ = sm.track(speech_dir, "promo-only.wav", [Piece("zh_promo_wechat.flac")])
    custom = tmp_path / "sequential.yaml"
    custom.write_text("speech:\n  model:\n    device: cpu\n    cpu:\n      batch_size: 0\n", encoding="utf-8")
    outs = [SpeechStage().analyse(wav, context(wav, tmp_path / p.name, p))
            for p in (profiles.load(custom), zh_profile)]
    for out in outs:
        assert len(codes(out, "speech.ad")) == 1 and "加微信" in "".join(s.text for s in out.transcript)
    assert abs(len(outs[0].transcript[0].text) - len(outs[1].transcript[0].text)) <= 3


def test_a_window_batched_decoding_loops_on_is_decoded_again_with_the_temperature_fallbacks(zh_profile) -> None:
    """Batched decoding has no temperature fallback. Seen on one machine's CPU: a window starting mid-sentence
    came out as "读习《读》读习《读》..." and the spoken promotion inside it was lost (no speech.ad). A window with
    a segment over the compression-ratio threshold is decoded again on its own, with the fallbacks."""
    from types import SimpleNamespace

    import numpy as np
    from faster_whisper.transcribe import get_compression_ratio

    from pipelines.speech import asr
    from pipelines.speech.windows import SAMPLE_RATE, Chunk, Window

    cfg = zh_profile.speech.transcribe
    windows = [Window([Chunk(0, 5 * SAMPLE_RATE)], text_lang="zh"),
               Window([Chunk(10 * SAMPLE_RATE, 16 * SAMPLE_RATE)], text_lang="zh")]
    samples = np.zeros(20 * SAMPLE_RATE, dtype=np.float32)
    loop = "读习《读》" * 30
    batched = [SimpleNamespace(text="同学们好。", start=0.2, end=4.8, compression_ratio=1.1),
               SimpleNamespace(text=loop, start=5.0, end=11.0, compression_ratio=get_compression_ratio(loop))]
    calls: list[dict] = []

    def sequential(audio, **options):
        calls.append({"seconds": audio.size / SAMPLE_RATE, **options})
        return iter([SimpleNamespace(text="可以扫码关注我们的公众号。", start=0.0, end=6.0)]), None
    loaded = SimpleNamespace(batched=SimpleNamespace(transcribe=lambda *a, **k: (iter(batched), None)),
                             model=SimpleNamespace(transcribe=sequential), choice=SimpleNamespace(batch_size=8))
    out = asr.transcribe(loaded, samples, windows, cfg)
    assert [(s.start_s, s.end_s, s.text) for s in out] == [(0.2, 4.8, "同学们好。"), (10.0, 16.0, "可以扫码关注我们的公众号。")]
    assert len(calls) == 1 and calls[0]["seconds"] == 6.0 and calls[0]["temperature"] == list(cfg.temperatures)
    assert len(cfg.temperatures) > 1
