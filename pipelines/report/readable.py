"""Findings for Chinese readers: messages without their English tail, evidence as labelled fields,
spoken-promotion cue kinds by name, times in China time. Shared by report.html and the console."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
# The farm's report.html names its video `video`, relative to the page: through the API
# (/jobs/{id}/report.html) the job's range-request video, through the console (files/video) the job's media.
VIDEO_BESIDE = "video"
HIDDEN = frozenset({"thumbnail", "key", "box", "boxes", "transcript", "heard", "rules", "how", "node_part", "level"})
LABELS = {
    "value": "测得", "limit": "要求", "limit_s": "上限（秒）", "duration_s": "持续（秒）", "still_share": "静止占比",
    "text": "识别文字", "matches": "命中", "frame_s": "画面时刻（秒）", "codes": "二维码 / 条码", "payload": "内容",
    "chars": "字符", "traditional": "繁体", "simplified": "简体", "file": "文件", "page": "页", "slide": "幻灯片",
    "missing": "缺少", "text_s": "文字显示（秒）", "window_s": "检查范围（秒）", "language": "语言",
    "loudness_lufs": "响度（LUFS）", "true_peak_dbtp": "真峰值（dBTP）", "silence_s": "静音（秒）",
    "black_s": "黑场（秒）", "frozen_s": "定格（秒）", "speech_ratio": "讲解占比", "moving_s": "机位移动（秒）",
    "shots": "镜头数", "shot_count": "镜头数", "sharpness_median": "清晰度中位数", "count": "次数",
    "present_share": "出现占比", "scenes": "场景", "rule": "规则", "label": "类别", "reason": "原因",
    "sources": "来源", "start_s": "开始（秒）", "end_s": "结束（秒）", "kind": "类型", "longest_gap_s": "最长间隔（秒）",
    "chars_per_minute": "每分钟字数", "interlaced_share": "隔行占比", "decode_errors": "解码错误",
    "other_job_id": "另一节课任务号", "other_title": "另一节课课名", "other_teacher": "另一节课教师",
    "other_school": "另一节课学校", "other_region": "另一节课地区", "other_year": "另一节课年份",
    "other_start_s": "另一节课开始（秒）", "other_end_s": "另一节课结束（秒）", "matched": "相同的内容",
    "similarity": "相似度", "mirrored": "镜像", "share": "占本课",
    # selection rules (pipelines/selection, index/selection.py)
    "field": "字段", "card": "片头", "metadata": "申报信息", "node": "目录节点", "part_name": "未找到的部分",
    "declared": "申报", "choices": "目录中有", "catalogue": "目录文件", "level_name": "层级", "stage": "学段",
    "subject": "学科", "edition": "教材版本", "volume": "册次", "unit": "单元", "lesson": "课",
}
CUE_NAMES = {
    "scan_code": "扫码", "follow_account": "关注公众号", "official_account": "公众号", "follow": "关注",
    "wechat": "微信", "qq": "QQ", "qq_number": "QQ 号", "link": "链接", "url": "网址", "website": "网站",
    "hotline": "咨询电话", "phone_landline": "座机号", "phone_mobile": "手机号", "phone_service": "客服号码",
    "shop": "网店 / 小程序", "course_sale": "课程推销", "consult": "咨询", "contact": "联系方式", "buy": "购买",
    "discount": "优惠", "price": "价格", "signup": "报名", "action": "行动号召", "channel": "联系渠道",
}
MATCHED_NAMES = {"picture": "画面", "sound": "声音", "both": "画面和声音"}   # originality: what matched
MATCH_LABELS = {"this": "本课使用了另一节课的片段", "other": "另一节课使用了本课的片段"}
# " / on-screen advertising", "网址 / URL": an English gloss after a slash, to the end
ENGLISH_TAIL = re.compile(r"\s*/\s*[A-Za-z][\x20-\x7e]*$")


@dataclass(frozen=True)
class Field:
    label: str
    value: str


def zh(text: str) -> str:
    """A bilingual message's Chinese part: '广告 / advertising' -> '广告' (an ASCII-only text stays)."""
    stripped = ENGLISH_TAIL.sub("", text).strip()
    return stripped or text


def cue_names(rules: list[Any]) -> list[str]:
    """Cue kinds of a speech.ad finding by name ('action+channel' -> '行动号召＋联系渠道'), unique, in order."""
    out: list[str] = []
    for rule in rules:
        name = "＋".join(CUE_NAMES.get(part, part) for part in str(rule).split("+"))
        if name not in out:
            out.append(name)
    return out


def spoken_sentence(evidence: dict[str, Any]) -> str | None:
    """The transcribed sentence a speech.ad finding was heard in (its evidence), if any."""
    sentence = evidence.get("transcript")
    return sentence.strip() if isinstance(sentence, str) and sentence.strip() else None


def fields(evidence: dict[str, Any]) -> list[Field]:
    """Evidence as labelled, readable fields (geometry, keys and thumbnails left out)."""
    return [Field(LABELS.get(k, k), _readable(v)) for k, v in evidence.items() if k not in HIDDEN and v not in (None, "", [])]


def matched_name(value: str | None) -> str:
    """What matched, by name: 'both' -> '画面和声音'."""
    return MATCHED_NAMES.get(value or "", value or "—")


def percent(value: float | None) -> str:
    """0.995 -> '99.5%' ('—' when missing)."""
    return "—" if value is None else f"{100 * float(value):.1f}%"


def media_fragment(start: float, end: float) -> str:
    """A media fragment that opens a video at `start` and stops it at `end`: '#t=20,50.5'."""
    return f"#t={_seconds(start)},{_seconds(end)}"


def _seconds(value: float) -> str:
    return f"{max(0.0, float(value)):.2f}".rstrip("0").rstrip(".")


def _readable(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            return f"{value[0]:g}–{value[1]:g}"
        return "、".join(_readable(v) for v in value)
    if isinstance(value, dict):
        return _item(value)
    return zh(str(value))


def _item(value: dict[str, Any]) -> str:
    """One evidence entry ({'label': '网址 / URL', 'text': 'www…'} -> '网址：www…')."""
    label = value.get("label") or value.get("kind")
    text = value.get("text") or value.get("payload")
    if label and text:
        return f"{zh(str(label))}：{text}"
    return "，".join(f"{LABELS.get(k, k)}：{_readable(v)}" for k, v in value.items()
                    if k not in HIDDEN and not isinstance(v, (dict, list))) or json.dumps(value, ensure_ascii=False)


def china_time(value: str | datetime | None, zone: tzinfo = CHINA, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time (ISO text or datetime) in China time ('—' when missing or unreadable)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone).strftime(fmt)
