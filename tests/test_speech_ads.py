"""speech.ad beyond a phrase list: a call to action near a channel or a contact-like number, on text and sound.

Pure rule tests on transcript text (no model), and one lesson through whisper base (marked `model`):
look-alike maths lines, then a hotline read aloud right after a lesson sentence, which the model
writes with homophones (播打, 资讯) and a wrong digit count.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import profile as profiles
from pipelines.domain import TranscriptSegment
from pipelines.speech import ads as spoken_ads
from pipelines.speech.stage import SpeechStage
from testmedia import speech as sm
from testmedia.speech import Piece
from tests.test_speech import codes, context

ISSUE_HEARD = "请播打资讯热线了。408886666我们的老师会为您一对一服务"  # whisper base, issue 10: one digit lost

PROMOTIONS = [  # phrased unlike the phrase list; homophones as a small model writes them
    ISSUE_HEARD,
    "想了解课程的家长可以拨打热线，四零零八八八六六六。",           # a spoken 400 number, a digit lost
    "请播打我们的电话1390012345",                                 # mobile number, a digit lost, 播打 ~ 拨打
    "需要资料的同学请添加老师的微信",
    "欢迎关注我们的视频号和抖音",
    "点击屏幕下方的链接就能报名",
    "今晚八点进入直播间，老师在评论区等你",
    "想要这套练习册，可以在我们的店铺直接购买",
    "长按识别二维码，加入家长交流群",
    "私信老师领取免费的复习提纲",
    "资讯电话零二一六四八八八九九九",                             # 资讯 ~ 咨询, landline
]
LOOK_ALIKES = [  # lesson lines: shopping, discounts, π, years, pages, counting, big numbers, ordinary senses
    "小明去商店购买了三支铅笔，每支两元，一共花了多少钱？",
    "这件衣服原价一百元，打八折以后，购买它要花多少钱？商店的优惠价格是多少？",
    "圆周率是3.1415926535，我们通常取3.14。",
    "圆周率约等于三点一四一五九二六五三五。",
    "把七分之一化成小数是0.142857142857。",
    "一九四九年十月一日，中华人民共和国成立，今年是2024年。",
    "请大家翻到课本第一百二十三页，看第二题。",
    "我们一起来数一数：123456789，一共九个数。",
    "计算九八七六五四三加一二三四五六七等于多少？",
    "这个数是1357924680，最高位是十亿位。",
    "地球到太阳的距离约是149600000千米。",
    "请同学们联系上下文，想一想这个词的意思。",
    "做题时先扫一眼题目中的单位。",
    "证明的时候要关注细节，每一步都要有理由。",
    "爸爸用手机扫码支付了十二元，买了两个面包。",
    "一群母鸡每天下蛋，一共下了三十个蛋。",
    "请大家看这段视频，好，我们来说一说看到了什么。",                 # 视频，好 is not 视频号
    "添加一条辅助线，连接AC，再证明两个三角形全等。",                 # 连接 is not 链接
    "二维码是由黑白小方块组成的图形，它是二维的吗？",
    "请同学们添加一条辅助线，再点击鼠标选中这个图形。",
    "小明给奶奶打电话，通话十二分钟，每分钟零点一元。",
    "电话手表的价格是三百九十九元，打九折后是多少元？",
]


def seg(start: float, end: float, text: str) -> TranscriptSegment:
    return TranscriptSegment(start, end, text, "zh")


@pytest.fixture(scope="module")
def cues() -> spoken_ads.AdMatcher:
    return spoken_ads.matcher(profiles.load("micro-primary").speech.ads.rules_file)


@pytest.mark.parametrize("text", PROMOTIONS)
def test_calls_to_action_fail_in_other_words(cues, text: str) -> None:
    found = spoken_ads.ad_findings([seg(0.0, 8.0, text)], cues, 20.0, 3.0)
    assert [(f.code, f.severity) for f in found] == [("speech.ad", "fail")], text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_lesson_lines_stay_clean(cues, text: str) -> None:
    assert spoken_ads.ad_findings([seg(0.0, 8.0, text)], cues, 20.0, 3.0) == []


def test_issue_hotline_matches_by_sound_and_by_its_number(cues) -> None:
    found = {(m.rule, m.heard, m.how) for m in cues.find(ISSUE_HEARD)}
    assert ("action+channel", "播打资讯热线", "sound") in found
    assert ("channel+number", "热线了。408886666", "text") in found


def test_a_digit_run_pairs_only_outside_decimals_and_counting(cues) -> None:
    assert [m.rule for m in cues.find("热线408886666")] == ["channel+number"]
    assert cues.find("热线3.408886666") == [] and cues.find("热线123456789") == []
    assert cues.find("热线4088866") != [] and cues.find("热线408886") == []   # 7 digits and more
    assert [m.rule for m in cues.find("408886666是我们的热线")] == ["channel+number"]


def test_words_in_their_ordinary_sense_are_no_cue(cues) -> None:
    assert cues.find("请同学们联系上下文找出电话号码") == []
    assert [m.rule for m in cues.find("请联系我们的客服")] == ["action+channel"]


def test_a_promotion_after_a_lesson_sentence_starts_where_it_is_said(cues) -> None:
    text = "好，今天的新课就学到这里。请拨打热线四零零八八八六六六六报名。"   # 11 + 17 spoken characters
    [found] = spoken_ads.ad_findings([seg(10.0, 39.0, text)], cues, 20.0, 3.0)
    assert (found.start_s, found.end_s) == (21.39, 39.0)   # 10 + 29 * 11 / 28


def test_an_audience_sentence_before_it_opens_the_promotion(cues) -> None:
    transcript = [seg(0.0, 6.0, "今天就学到这里。向了解更多课程的家长。"), seg(6.2, 12.0, "请播打资讯热线")]
    [found] = spoken_ads.ad_findings(transcript, cues, 20.0, 3.0)
    assert (found.start_s, found.end_s) == (2.47, 12.0)   # 7 of 17 spoken characters into the first segment


def test_neighbouring_sentences_that_mention_a_channel_belong_to_the_promotion(cues) -> None:
    transcript = [seg(0.0, 4.0, "好，我们来看下一题。"), seg(4.2, 8.0, "我们的学习群已经开放了。"),
                  seg(8.1, 12.0, "想进群的同学请私信我。"), seg(12.1, 16.0, "关注公众号也能找到老师。"),
                  seg(16.1, 20.0, "下面我们来做一个小练习。")]
    found = spoken_ads.ad_findings(transcript, cues, 20.0, 3.0)
    assert [(f.start_s, f.end_s) for f in found] == [(4.2, 16.0)]


def test_a_weak_cue_is_not_confirmed_by_a_promotion_it_is_not_part_of(cues) -> None:
    transcript = [seg(0.0, 6.0, "小明购买一个书包要花多少钱"), seg(15.0, 20.0, "请拨打咨询热线4008886666")]
    found = spoken_ads.ad_findings(transcript, cues, 20.0, 3.0)
    assert [(f.start_s, f.severity) for f in found] == [(15.0, "fail")]


# ---------- through the model ----------

@pytest.mark.model
def test_misheard_hotline_after_look_alikes_is_one_fail_in_its_time_range(media_cache: Path, tmp_path: Path) -> None:
    """Look-alike maths (打八折, 购买, 联系上下文, π), a lesson sentence, the hotline 0.35 s after it (one VAD
    chunk), a lesson clip: exactly one speech.ad, fail, covering the hotline +-0.5 s."""
    pieces = [Piece("tts/lookalike_shop.flac"), Piece("silence", 1.5), Piece("tts/lesson_end.flac"),
              Piece("silence", 0.35), Piece("tts/hotline_400.flac"), Piece("silence", 1.0),
              Piece("zh_lesson_fraction_3.flac")]
    wav, bounds = sm.track(media_cache / "speech", "hotline.wav", pieces)
    out = SpeechStage().analyse(wav, context(wav, tmp_path, profiles.load("micro-primary")))
    ads = codes(out, "speech.ad")
    assert [(f.severity, f.code) for f in ads] == [("fail", "speech.ad")], ads
    start, end = bounds[4]
    assert abs(ads[0].start_s - start) <= 0.5 and abs(ads[0].end_s - end) <= 0.5, (ads[0], start, end)
    assert "热线" in ads[0].evidence["transcript"]
