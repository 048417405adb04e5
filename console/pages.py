"""Rendering: the Jinja2 environment (autoescape on), display filters, security headers."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipelines.report import readable

from .levels import ACTION_NAMES, LEVEL_NAMES

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

VERDICT_NAMES = {"pass": "通过", "review": "需复核", "fail": "不合格", "error": "无法检测"}
SEVERITY_NAMES = {"fail": "不合格", "review": "需复核", "info": "提示"}
FINDING_STATUS_NAMES = {"confirmed": "已确认", "dismissed": "已排除"}

# No inline script or style, nothing from another origin: the pages load only /console/static.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
                               "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


# Reviewers' files (report.html, report.json, thumbnails, contact sheets, artifacts), wherever served: a
# sandbox (an opaque origin: its inline seek script runs, but it can reach no cookie, page or API of this
# server), nothing loaded from anywhere, never cached (they stay private after logout).
REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts; default-src 'none'; img-src 'self' data:; media-src 'self'; "
                               "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def clock(seconds: float | None) -> str:
    """12.5 -> '00:12', 3725 -> '1:02:05'; None -> '—'."""
    if seconds is None:
        return "—"
    total = int(max(0.0, float(seconds)))
    h, rest = divmod(total, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


@lru_cache(maxsize=4)
def environment(timezone: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    zone = ZoneInfo(timezone)
    env.filters.update(clock=clock, local=lambda dt, fmt="%Y-%m-%d %H:%M": _local(dt, zone, fmt),
                       level_name=lambda v: LEVEL_NAMES.get(v, v), action_name=lambda v: ACTION_NAMES.get(v, v),
                       verdict_name=lambda v: VERDICT_NAMES.get(v or "", v or "—"),
                       severity_name=lambda v: SEVERITY_NAMES.get(v, v),
                       status_name=lambda v: FINDING_STATUS_NAMES.get(v, v), zh=readable.zh,
                       fields=lambda e: readable.fields(e or {}), cue_names=readable.cue_names,
                       spoken=lambda e: readable.spoken_sentence(e or {}), matched_name=readable.matched_name,
                       percent=readable.percent, fragment=readable.media_fragment)
    env.globals.update(LEVEL_NAMES=LEVEL_NAMES, ACTION_NAMES=ACTION_NAMES, VERDICT_NAMES=VERDICT_NAMES,
                       MATCH_LABELS=readable.MATCH_LABELS)
    return env


def _local(value: datetime | None, zone: ZoneInfo, fmt: str) -> str:
    return value.astimezone(zone).strftime(fmt) if value else "—"


def render(timezone: str, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment(timezone).get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
