"""Advertising rules (config/text_ads.yaml) and title-card fields on OCR-like lines: no media needed."""
from __future__ import annotations

import pytest

from pipelines import profile
from pipelines.onscreen.ad_rules import find_ads, load_rules, normalise, rules_path
from pipelines.ocr.lines import OcrLine
from pipelines.onscreen.titlecard import FIELDS, heading_of, judge, pairs

RULES = load_rules(rules_path("text_ads.yaml"))

ADS = [
    ("更多课程请访问 www.jiaoyu-abc.com", "url", "www.jiaoyu-abc.com"),
    ("https://b23.tv/abc", "url", "https://b23.tv/abc"),
    ("国家平台 basic.smartedu.cn", "domain", "basic.smartedu.cn"),
    ("ｗｗｗ．ａｂｃ．ｃｏｍ", "url", "www.abc.com"),
    ("咨询电话：13812345678", "mobile", "13812345678"),
    ("138 1234 5678", "mobile", "138 1234 5678"),
    ("手机 159-0000-1111", "mobile", "159-0000-1111"),
    ("热线 400-800-1234", "hotline", "400-800-1234"),
    ("电话：010-12345678", "landline", "010-12345678"),
    ("(0571) 88886666", "landline", "(0571) 88886666"),
    ("联系 tel:021 5555 6666", "phone_label", "tel:02155556666"),
    ("加微信xueba2024领取资料", "wechat_id", "微信xueba2024"),
    ("微信：abc_123x", "wechat_id", "微信:abc_123x"),
    ("QQ群：123456789", "qq", "QQ群:123456789"),
    ("关注微信公众号：学霸课堂", "official_account", "公众号"),
    ("抖音搜索：数学王老师", "platform", "抖音搜索"),
    ("淘宝店：学霸文具", "platform", "淘宝店"),
    ("扫码关注领取", "promotion", "扫码关注"),
    ("官方旗舰店 限时优惠", "shop", "旗舰店"),
    ("咨询电话 138O1234567", "mobile", "13801234567"),
]

LESSON_TEXT = [
    "例题：3/4 + 1/4 = 1，2024年9月1日 第12页",
    "小明购买了3支铅笔，每支1.5元，一共花了多少钱？",
    "3.1415926535", "2024-09-01", "面积 = 12 × 8 = 96 平方厘米", "第1课 分数的初步认识",
    "x² + 2x + 1 = 0", "12345678910", "0.1234567", "1/2 1/3 1/4 1/5", "图1.png", "P.12",
    "e.g. Mr. Wang", "商店打八折优惠，原价120元", "2023年10月15日 星期日", "比例尺 1:5000000",
    "页码 13/45", "3.14×20=62.8", "我们一起来认识 微信 这个词", "Unit 3 My School Day",
    "观察表格：1号 23.5℃ 2号 24.1℃", "电话的发明改变了人们的生活", "公元前221年 秦统一六国",
]


@pytest.mark.parametrize("line,rule,text", ADS)
def test_advertising_is_found(line: str, rule: str, text: str) -> None:
    hits = find_ads([line], RULES)
    assert (rule, text) in [(h.rule, h.text) for h in hits]


@pytest.mark.parametrize("line", LESSON_TEXT)
def test_ordinary_lesson_text_is_not_advertising(line: str) -> None:
    assert find_ads([line], RULES) == []


def test_overlapping_matches_keep_the_first_rule() -> None:
    hits = find_ads(["访问 www.abc.com", "咨询电话: 138 1234 5678"], RULES)
    assert [(h.rule, h.line) for h in hits] == [("url", 0), ("mobile", 1)]


def test_normalise_repairs_digit_runs_only() -> None:
    assert normalise("１３８O１２３４") == "13801234" and normalise("Office 3O") == "Office 3O"


FIELDS_CFG = profile.load("micro-primary").onscreen.title_card.fields


def test_title_card_with_labels_and_synonyms() -> None:
    card = judge(["版本：北师大版", "科目：数学", "年级：三年级下册", "课题：分数的初步认识", "执教：李明"], 6.0, FIELDS_CFG)
    assert card.missing == () and card.present == FIELDS


def test_title_card_from_values_without_labels() -> None:
    card = judge(["人教版  数学  三年级上册", "《长方体和正方体》"], 6.0, FIELDS_CFG)
    assert card.missing == ("主讲教师",)


def test_title_card_label_without_value_is_missing() -> None:
    card = judge(["教材版本：人教版", "学科：语文", "年级：七年级", "课名：春", "主讲教师："], 6.0, FIELDS_CFG)
    assert card.missing == ("主讲教师",)


def test_special_education_category_counts_as_subject() -> None:
    card = judge(["特殊教育类别：培智", "主讲：王丽"], 6.0, FIELDS_CFG)
    assert "学科" in card.present and "主讲教师" in card.present


def test_no_text_misses_every_field() -> None:
    assert judge([], 0.0, FIELDS_CFG).missing == FIELDS


TITLE_CFG = profile.load("micro-primary").onscreen.title_card


def _line(text: str, box: tuple[int, int, int, int], vertical: bool = False) -> OcrLine:
    return OcrLine(text, 99.0, box, vertical)


def _card(lines: list[OcrLine]) -> tuple[str, ...]:
    texts = [ln.text for ln in lines] + pairs(lines, TITLE_CFG.fields, TITLE_CFG.pair_reach, TITLE_CFG.pair_below)
    return judge(texts, 6.0, TITLE_CFG.fields, heading_of(lines, TITLE_CFG.heading_ratio, TITLE_CFG.fields)).missing


def test_table_cells_pair_with_their_right_hand_neighbour() -> None:
    rows = [("教材版本", "北师大版"), ("学科", "语文"), ("年级", "五年级"), ("课名", "草船借箭"), ("主讲教师", "")]
    lines = [_line(k, (100, 100 + 80 * i, 100 + 40 * len(k), 140 + 80 * i)) for i, (k, _) in enumerate(rows)]
    lines += [_line(v, (700, 100 + 80 * i, 700 + 40 * len(v), 140 + 80 * i)) for i, (_, v) in enumerate(rows) if v]
    assert _card(lines) == ("主讲教师",)


def test_labels_above_values_pair_downwards_and_a_label_is_no_value() -> None:
    labels = ["教材版本", "学科", "年级", "课名", "主讲教师"]
    values = {"教材版本": "人教版", "年级": "三年级", "课名": "认识水果", "主讲教师": "王丽"}
    lines = [_line(k, (60 + 300 * i, 250, 60 + 300 * i + 30 * len(k), 282)) for i, k in enumerate(labels)]
    lines += [_line(values[k], (60 + 300 * i, 300, 60 + 300 * i + 40 * len(values[k]), 340))
              for i, k in enumerate(labels) if k in values]
    assert _card(lines) == ("学科",)  # 学科's right-hand neighbour is the label 年级, and nothing lies below it


def test_a_vertical_unlabelled_line_is_the_course_name() -> None:
    lines = [_line("分数的初步认识", (1080, 100, 1150, 620), vertical=True), _line("学科 数学", (150, 190, 330, 240)),
             _line("年级 三年级上册", (150, 290, 440, 340)), _line("主讲教师 王丽", (150, 390, 400, 440))]
    assert _card(lines) == ("教材版本",)
