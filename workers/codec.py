"""JSON-safe forms of the pipeline's dataclasses, for messages and job state (and back)."""
from __future__ import annotations

from typing import Any

from pipelines.domain import AudioInfo, Finding, Media, StageOutput, StageRun, TranscriptSegment, VideoInfo, to_jsonable
from pipelines.media.probe import ProbeResult
from pipelines.plan import Part


def media_from_dict(doc: dict[str, Any]) -> Media:
    """Rebuild Media from its to_jsonable form (report.json's `media`)."""
    audio = doc.get("audio")
    return Media(doc["container"], float(doc["duration_s"]), int(doc["size_bytes"]), doc.get("bit_rate"),
                 VideoInfo(**doc["video"]), AudioInfo(**audio) if audio else None)


def finding_from_dict(doc: dict[str, Any]) -> Finding:
    return Finding(doc["code"], doc["severity"], doc["message"], doc.get("start_s"), doc.get("end_s"),
                   dict(doc.get("evidence") or {}))


def run_from_dict(doc: dict[str, Any]) -> StageRun:
    return StageRun(doc["status"], float(doc["seconds"]), doc.get("error"))


def output_from_dict(doc: dict[str, Any]) -> StageOutput:
    """Rebuild a StageOutput (findings, metrics, transcript, artifacts)."""
    return StageOutput(findings=[finding_from_dict(f) for f in doc.get("findings", [])],
                       metrics=dict(doc.get("metrics") or {}),
                       transcript=[TranscriptSegment(**t) for t in doc.get("transcript", [])],
                       artifacts=dict(doc.get("artifacts") or {}))


def probe_to_dict(result: ProbeResult, run: StageRun) -> dict[str, Any]:
    return {"media": to_jsonable(result.media), "findings": to_jsonable(result.findings),
            "metrics": to_jsonable(result.metrics), "run": to_jsonable(run)}


def probe_from_dict(doc: dict[str, Any]) -> tuple[ProbeResult, StageRun]:
    result = ProbeResult(media_from_dict(doc["media"]), [finding_from_dict(f) for f in doc["findings"]],
                         dict(doc["metrics"]))
    return result, run_from_dict(doc["run"])


def part_to_dict(part: Part) -> dict[str, Any]:
    """A task's part (stage runs and outputs) for the job state."""
    return {"runs": to_jsonable(part.runs), "outputs": to_jsonable(part.outputs)}


def part_from_dict(doc: dict[str, Any]) -> Part:
    return Part({k: run_from_dict(v) for k, v in doc["runs"].items()},
                {k: output_from_dict(v) for k, v in doc["outputs"].items()})
