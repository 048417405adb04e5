"""report.html for reviewers: one self-contained page (images embedded), every string escaped."""
from __future__ import annotations

import base64
import json
import mimetypes
import os
from html import escape
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from pipelines.originality.findings import CODES as MATCH_CODES
from pipelines.report.readable import china_time, cue_names, fields, matched_name, percent, spoken_sentence, zh

VERDICT_LABEL = {"pass": "通过", "review": "需人工复核", "fail": "不合格", "error": "无法检测"}
SEVERITY_LABEL = {"fail": "不合格", "review": "复核", "info": "提示"}
COLORS = {"pass": "#1a7f37", "review": "#b35900", "fail": "#c62828", "error": "#555", "info": "#555"}
STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:6px 8px;vertical-align:top;text-align:left;font-size:14px}
th{background:#f5f5f5;white-space:nowrap}.badge{display:inline-block;color:#fff;padding:4px 12px;border-radius:4px;font-weight:bold}
.sev{font-weight:bold;white-space:nowrap}.ev{font-size:12px;color:#444;white-space:pre-wrap;overflow-wrap:anywhere}
.ev dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:0 8px}.ev dt{color:#777}.ev dd{margin:0}
blockquote{margin:4px 0;padding:2px 8px;border-left:3px solid #c62828;background:#fff6f6}#video-fix{display:none}
img.thumb{max-width:320px;border:1px solid #ccc}img.thumb:hover{max-width:900px}a.ts{cursor:pointer;color:#0645ad;font-family:monospace}
.transcript p{margin:4px 0}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}
"""
SCRIPT = """
function seek(t){var v=document.getElementById('player');if(v){v.currentTime=t;v.play();}
var a=document.querySelectorAll('[data-t]');for(var i=0;i<a.length;i++){a[i].style.background='';}
var e=document.querySelector('[data-t="'+t+'"]');if(e){e.style.background='#fff3c4';}}
function useVideo(){var v=document.getElementById('player'),u=document.getElementById('video-url');
if(v&&u&&u.value){v.src=u.value;v.load();}}
document.addEventListener('DOMContentLoaded',function(){var v=document.getElementById('player');
if(v&&v.dataset.beside&&location.search){v.src=v.getAttribute('src')+location.search;}});
function videoFailed(){var f=document.getElementById('video-fix');if(f){f.style.display='block';}}
"""


def clock(seconds: float | None) -> str:
    """mm:ss (or h:mm:ss) for a time in seconds; '—' when untimed."""
    if seconds is None:
        return "—"
    s = int(seconds)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def render(doc: dict[str, Any], out_dir: Path, video_src: str | None = None) -> str:
    """The whole page for a report document; `video_src` names the player's video (relative to the page)."""
    parts = [_head(doc), _summary(doc), _lesson(doc), _package(doc), _player(doc, video_src), _media(doc),
             _findings(doc, out_dir), _matches(doc), _artifacts(doc, out_dir), _transcript(doc), _stages(doc), _metrics(doc),
             "</body></html>"]
    return "\n".join(p for p in parts if p)


def _head(doc: dict[str, Any]) -> str:
    title = escape(f"LessonQC 预审报告 — {Path(doc['source']).name}")
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>")


def _summary(doc: dict[str, Any]) -> str:
    verdict = doc["verdict"]
    counts: dict[str, int] = {}
    for f in doc["findings"]:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    tally = "，".join(f"{SEVERITY_LABEL[k]} {v} 项" for k, v in sorted(counts.items())) or "无问题"
    return (f"<h1>LessonQC 预审报告</h1>"
            f"<p><span class='badge' style='background:{COLORS[verdict]}'>{escape(VERDICT_LABEL[verdict])}</span> "
            f"{escape(tally)}</p>"
            f"<table><tr><th>文件</th><td>{escape(doc['source'])}</td></tr>"
            f"<tr><th>规范</th><td>{escape(doc['profile'])}</td></tr>"
            f"<tr><th>任务号</th><td>{escape(doc['job_id'])}</td></tr>"
            f"<tr><th>生成时间（北京时间）</th><td>{escape(china_time(doc['created_at'], fmt='%Y-%m-%d %H:%M:%S'))}</td></tr>"
            "</table>")


LESSON_LABELS = (("title", "课名"), ("teacher", "主讲教师"), ("school", "学校"), ("subject", "学科"), ("grade", "年级"),
                 ("category", "类别"))
NODE_LABELS = (("stage", "学段"), ("subject", "学科"), ("edition", "教材版本"), ("volume", "册次"), ("unit", "单元"),
               ("lesson", "课"))


def _lesson(doc: dict[str, Any]) -> str:
    """The submission's metadata and catalogue node (when it gave any)."""
    lesson = doc.get("lesson")
    if not lesson:
        return ""
    rows = [(label, lesson[key]) for key, label in LESSON_LABELS if lesson.get(key)]
    node = lesson.get("node")
    if node:
        rows.append(("目录节点", " / ".join(f"{label} {node[key]}" for key, label in NODE_LABELS)))
    body = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows)
    return f"<h2>申报信息</h2><table id='lesson'>{body}</table>"


STATUS_LABEL = {"ok": "已提交", "missing": "缺少", "unreadable": "无法打开", "unexpected": "不明文件"}
STAGE_STATUS = {"ok": "完成", "skipped": "跳过", "error": "出错", "timeout": "超时"}
PART_COLORS = {"ok": COLORS["pass"], "missing": COLORS["fail"], "unreadable": COLORS["fail"], "unexpected": COLORS["review"]}


def _package(doc: dict[str, Any]) -> str:
    """The parts of a submission package (package checks only)."""
    package = doc.get("package")
    if not package:
        return ""
    rows = "".join(f"<tr><td>{escape(p['role'] or '—')}</td><td>{escape(p['file'] or '—')}</td>"
                   f"<td>{escape(p['format'] or '—')}</td><td>{'—' if p['pages'] is None else p['pages']}</td>"
                   f"<td style='color:{PART_COLORS[p['status']]}'>{escape(STATUS_LABEL[p['status']])}</td></tr>"
                   for p in package["parts"])
    return (f"<h2>提交材料 — {escape(package['category'])}</h2><table><tr><th>材料</th>"
            f"<th>文件</th><th>格式</th><th>页数</th><th>状态</th></tr>{rows}</table>")


def _video_source(doc: dict[str, Any]) -> PurePath:
    """The checked video: the source itself, or a package folder's video part (by name: never looked up)."""
    source = PurePath(doc["source"])
    video = next((p["file"] for p in (doc.get("package") or {}).get("parts", [])
                  if p["file"] and p["pages"] is None and p["status"] == "ok"), None)
    return source / video if video and source.suffix.lower() != ".zip" else source


def _player(doc: dict[str, Any], video_src: str | None) -> str:
    """The player of `video_src` (relative to the page), else of the source as submitted: text, never resolved on
    this machine (an uploaded file's name such as /proc/self/cwd must not turn into this process's folder).
    When its video cannot be loaded, a field to name the video's address instead."""
    if not doc.get("media"):
        return ""
    source = _video_source(doc)
    src = video_src or (source.as_uri() if source.is_absolute() else str(source))
    beside = " data-beside='1'" if video_src else ""   # the page's own query (a console media ticket) goes along
    return (f"<p><video id='player' controls preload='metadata' width='480' src='{escape(src, quote=True)}'{beside} "
            "onerror='videoFailed()'></video><br><small>点击时间可跳转播放</small></p>"
            "<p id='video-fix'><label>视频无法播放，请填写视频地址（或本机文件路径 file:///…）："
            "<input id='video-url' size='50'></label> <button type='button' onclick='useVideo()'>载入</button></p>")


def relative_link(path: Path, out_dir: Path) -> str:
    """`path` as a percent-encoded link relative to the report's folder: the report plays its video
    wherever the two are copied together, and names no folder of the machine that wrote it."""
    return quote(Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix())


def _media(doc: dict[str, Any]) -> str:
    media = doc.get("media")
    if not media:
        return ""
    v, a = media["video"], media["audio"]
    rows = [("封装", media["container"]), ("时长", f"{clock(media['duration_s'])}（{media['duration_s']} 秒）"),
            ("大小", f"{media['size_bytes'] / 1e6:.1f} MB"), ("总码率", _kbps(media["bit_rate"])),
            ("视频", f"{v['codec']} {v['width']}×{v['height']} DAR {v['dar']} {v['fps']} fps"
                     f"{' VFR' if v['vfr'] else ''} {v['pix_fmt']} {v['scan']} {_kbps(v['bit_rate'])}"),
            ("音频", f"{a['codec']} {a['sample_rate']} Hz {a['channels']} 声道 {_kbps(a['bit_rate'])}" if a else "无")]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(val))}</td></tr>" for k, val in rows)
    return f"<h2>媒体信息</h2><table>{body}</table>"


def _kbps(rate: int | None) -> str:
    return "—" if rate is None else f"{rate / 1000:.0f} kbps"


def _findings(doc: dict[str, Any], out_dir: Path) -> str:
    if not doc["findings"]:
        return "<h2>问题</h2><p>未发现问题。</p>"
    head = "<tr><th>级别</th><th>代码</th><th>时间</th><th>说明</th><th>证据</th><th>截图</th></tr>"
    rows = "".join(_finding_row(f, out_dir) for f in doc["findings"])
    return f"<h2>问题（{len(doc['findings'])} 项）</h2><table>{head}{rows}</table>"


def _finding_row(f: dict[str, Any], out_dir: Path) -> str:
    sev = f["severity"]
    when = _time_link(f["start_s"], f["end_s"]) if f["start_s"] is not None else _place(f["evidence"])
    thumb = _img(out_dir, f["evidence"].get("thumbnail"), "thumb")
    return (f"<tr><td class='sev' style='color:{COLORS[sev]}'>{escape(SEVERITY_LABEL[sev])}</td>"
            f"<td><code>{escape(f['code'])}</code></td><td>{when}</td><td>{escape(zh(f['message']))}</td>"
            f"<td class='ev'>{_evidence(f['evidence'])}</td><td>{thumb}</td></tr>")


def _matches(doc: dict[str, Any]) -> str:
    """The other lessons this one re-uses (its originality findings): both ranges, the other lesson, what matched."""
    found = [f for f in doc["findings"] if f["code"] in MATCH_CODES]
    if not found:
        return ""
    head = ("<tr><th>代码</th><th>本课</th><th>另一节课</th><th>另一节课的时间</th><th>相同的内容</th>"
            "<th>相似度 / 占本课</th></tr>")
    rows = "".join(_match_row(f) for f in found)
    return f"<h2 id='matches'>与其他课程相同的片段（{len(found)} 处）</h2><table>{head}{rows}</table>"


def _match_row(f: dict[str, Any]) -> str:
    ev = f["evidence"]
    other = "<br>".join(escape(str(v)) for v in (ev.get("other_title"), ev.get("other_teacher"), ev.get("other_school"),
                                                 ev.get("other_region"), ev.get("other_year")) if v not in (None, ""))
    there = (f"{clock(ev['other_start_s'])}–{clock(ev['other_end_s'])}"
             if ev.get("other_start_s") is not None and ev.get("other_end_s") is not None else "—")
    measure = percent(ev["similarity"]) if ev.get("similarity") is not None else \
        (f"占本课 {percent(ev['share'])}" if ev.get("share") is not None else "—")
    mirrored = "（画面左右镜像）" if ev.get("mirrored") else ""
    return (f"<tr class='match'><td><code>{escape(f['code'])}</code></td><td>{_time_link(f['start_s'], f['end_s'])}</td>"
            f"<td>{other or '—'}<br><small>任务号 {escape(str(ev.get('other_job_id') or '—'))}</small></td>"
            f"<td>{escape(there)}</td><td>{escape(matched_name(ev.get('matched')) + mirrored)}</td>"
            f"<td>{escape(measure)}</td></tr>")


def _evidence(evidence: dict[str, Any]) -> str:
    """Evidence as labelled fields; a spoken promotion quotes its sentence and names its cue kinds."""
    quote = spoken_sentence(evidence)
    rows = [("提示类型", "、".join(cue_names(evidence.get("rules") or [])))] if quote else []
    rows += [(f.label, f.value) for f in fields(evidence)]
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows if v)
    said = f"<blockquote>“{escape(quote)}”</blockquote>" if quote else ""
    return f"{said}<dl>{body}</dl>" if body else said


def _place(evidence: dict[str, Any]) -> str:
    """A document finding's place: file, then page or slide (— when it has no file)."""
    if "file" not in evidence:
        return "—"
    label = {"page": "第 {} 页", "slide": "第 {} 张幻灯片"}
    unit = next((u for u in label if u in evidence), None)
    where = f"<br>{escape(label[unit].format(evidence[unit]))}" if unit else ""
    return f"{escape(str(evidence['file']))}{where}"


def _time_link(start: float | None, end: float | None) -> str:
    if start is None:
        return "—"
    label = clock(start) if end is None else f"{clock(start)}–{clock(end)}"
    return f"<a class='ts' data-t='{start}' onclick='seek({float(start)})'>{escape(label)}</a>"


def _img(out_dir: Path, rel: str | None, css: str) -> str:
    """An <img> with the file embedded as a data URI (self-contained page)."""
    if not rel:
        return ""
    path = out_dir / rel
    if not path.is_file():
        return ""
    mime = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img class='{css}' alt='{escape(rel, quote=True)}' src='data:{mime};base64,{data}'>"


def _artifacts(doc: dict[str, Any], out_dir: Path) -> str:
    images = {k: v for k, v in (doc["metrics"].get("artifacts") or {}).items()
              if str(v).lower().endswith((".jpg", ".jpeg", ".png"))}
    if not images:
        return ""
    body = "".join(f"<h3>{escape(k)}</h3><p>{_img(out_dir, v, 'sheet')}</p>" for k, v in images.items())
    return f"<h2>画面概览</h2><style>img.sheet{{max-width:100%}}</style>{body}"


def _transcript(doc: dict[str, Any]) -> str:
    if not doc["transcript"]:
        return ""
    lines = "".join(f"<p>{_time_link(s['start_s'], None)} <small>[{escape(s['lang'])}]</small> {escape(s['text'])}</p>"
                    for s in doc["transcript"])
    return f"<h2>语音转写</h2><div class='transcript'>{lines}</div>"


def _stages(doc: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{escape(STAGE_STATUS.get(s['status'], s['status']))}</td><td>{s['seconds']:.2f}</td>"
                   f"<td>{escape(s['error'] or '')}</td></tr>" for name, s in doc["stages"].items())
    return (f"<h2>处理阶段</h2><table><tr><th>阶段</th><th>状态</th><th>秒</th>"
            f"<th>错误</th></tr>{rows}</table>")


def _metrics(doc: dict[str, Any]) -> str:
    text = json.dumps(doc["metrics"], ensure_ascii=False, indent=1)
    return f"<h2>测量值</h2><details><summary>展开</summary><pre>{escape(text)}</pre></details>"
