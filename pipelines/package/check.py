"""The package check in three steps that the embedded check and the farm share:

1. `prepare`: unpack safely and sort the files (the video, documents, unexpected files);
2. `check_document`: read one document, tell its part, judge it with the video's on-screen
   norms (the farm runs one per document on the ocr queue);
3. `finish`: the package section, unexpected and missing parts, into the report.

The video gets the full check in between (`pipelines.check.analyse`, or the farm's tasks),
so its findings are exactly those of a video-only check.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pipelines import check as video_check
from pipelines.domain import Finding, PackagePart, PackageSummary, StageOutput, StageRun, to_jsonable
from pipelines.errors import ProfileError
from pipelines.package import documents, roles
from pipelines.package.archive import PackageFile, PackageRefused, open_package
from pipelines.package.documents.model import Document, DocumentUnreadable
from pipelines.package.findings import DocChecker
from pipelines.profile import Profile
from pipelines.report import document as reports
from pipelines.report.document import Report
from pipelines.selection.metadata import LessonMeta

log = logging.getLogger(__name__)
STAGE = "package"


class UnknownCategory(ProfileError):
    """A category that the profile's `package.categories` does not list (a usage error, like a bad profile)."""


@dataclass
class Manifest:
    """A prepared package (JSON-safe through `to_dict`): which file is the video, which are documents."""

    category: str
    video: PackageFile | None = None
    documents: list[PackageFile] = field(default_factory=list)
    unexpected: list[tuple[PackageFile, str | None, str]] = field(default_factory=list)  # (file, role, why)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "video": _file_dict(self.video),
                "documents": [_file_dict(d) for d in self.documents],
                "unexpected": [[_file_dict(f), role, why] for f, role, why in self.unexpected], "seconds": self.seconds}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Manifest:
        return cls(doc["category"], _file(doc["video"]), [_file(d) for d in doc["documents"]],
                   [(_file(f), role, why) for f, role, why in doc["unexpected"]], float(doc.get("seconds", 0.0)))


def category_of(name: str, profile: Profile) -> roles.Category:
    """The category's parts; UnknownCategory names the known ones."""
    known = list(profile.package.categories)
    if name not in known:
        raise UnknownCategory(f"unknown category '{name}' (known: {', '.join(known)})")
    return roles.Category(name, profile.package)


# ---- the embedded check ----

def check_package(source: Path, category: str, profile: Profile, out_dir: Path, job_id: str | None = None,
                  progress: video_check.ProgressFn | None = None, skip: frozenset[str] = frozenset(),
                  stages: video_check.Stages | None = None, lesson: LessonMeta | None = None) -> Report:
    """Pre-screen one submission package and write report.json/report.html into `out_dir`.

    The video part gets the full check with `stages` (default: the registry's) less `skip`, and the
    selection rules on `lesson` (the submission's metadata)."""
    category_of(category, profile)
    report = Report(job_id or reports.new_job_id(), str(source), profile.name, lesson=lesson)
    report.package = PackageSummary(category)
    with tempfile.TemporaryDirectory(prefix="lessonqc-package-") as tmp:
        workdir = Path(tmp)
        try:
            manifest = prepare(source, category, profile, workdir)
        except PackageRefused as exc:
            report.findings.append(refused(exc))
        else:
            if manifest.video is not None:
                _announce(progress, manifest.video.name)
                video_check.analyse(manifest.video.path, profile, _fresh(workdir / "video"), report, progress, skip,
                                    video_check.stage_map(stages))
            _announce(progress, "documents")
            outputs = [check_document(doc, category, profile, workdir / f"doc-{i:03d}")
                       for i, doc in enumerate(manifest.documents)]
            finish(report, manifest, outputs, profile)
        reports.write(report, out_dir)
    return report


def refused(exc: PackageRefused) -> Finding:
    """The one finding of a package refused whole (verdict error): unsafe or over the caps."""
    evidence = {"reason": exc.reason, **({"file": exc.member} if exc.member else {})}
    return Finding("input.unreadable", "fail", f"提交包被拒收 / package refused: {exc}", evidence=evidence)


# ---- step 1: prepare ----

def prepare(source: Path, category: str, profile: Profile, workdir: Path) -> Manifest:
    """Unpack (PackageRefused when unsafe) and sort the files; the video part is chosen here."""
    started = time.monotonic()
    cat, cfg = category_of(category, profile), profile.package
    manifest = Manifest(category)
    videos: list[PackageFile] = []
    for file in open_package(source, workdir, cfg):
        if roles.is_ignored(file.name, cfg):
            continue
        if roles.is_executable(file.suffix, _head(file.path), cfg):
            manifest.unexpected.append((file, None, "可执行文件或脚本 / executable or script"))
        elif file.suffix in cfg.video_suffixes:
            videos.append(file)
        elif file.suffix in cfg.document_suffixes:
            manifest.documents.append(file)
        else:
            manifest.unexpected.append((file, None, "无法判断用途的文件 / a file whose part cannot be told"))
    _choose_video(manifest, videos, cat)
    manifest.seconds = time.monotonic() - started
    return manifest


def _choose_video(manifest: Manifest, videos: list[PackageFile], cat: roles.Category) -> None:
    """The video named as the category's video part (else the largest); any other is unexpected."""
    if not videos:
        return
    named = [v for v in videos if roles.by_name(PurePosixPath(v.name).stem, [cat.video], cat)]
    manifest.video = max(named or videos, key=lambda v: v.path.stat().st_size)
    for other in videos:
        if other is not manifest.video:
            manifest.unexpected.append((other, cat.video, "多余的视频（只检测一个）/ an extra video (one is checked)"))


# ---- step 2: one document ----

def check_document(file: PackageFile, category: str, profile: Profile, workdir: Path) -> StageOutput:
    """Read, tell and judge one document: its findings, and `metrics["part"]` (the PackagePart)."""
    started = time.monotonic()
    cat, cfg = category_of(category, profile), profile.package
    try:
        doc = documents.read(file.path, file.suffix, cfg, workdir)
    except Exception as exc:  # noqa: BLE001 - a reader's own failure on a hostile file is still "cannot open"
        if not isinstance(exc, DocumentUnreadable):
            log.warning("reading %s failed", file.name, exc_info=True)
        why = str(exc) if isinstance(exc, DocumentUnreadable) else f"无法读取 / cannot read: {type(exc).__name__}: {exc}"
        role = roles.by_name(PurePosixPath(file.name).stem, cat.documents, cat)
        return _output([unreadable(file.name, why, cfg, role)], _part(role, file, None, "unreadable"), started)
    role = roles.document_role(file.name, doc, cat)
    findings = [] if role else [unexpected(file.name, "无法判断是哪一部分材料 / cannot tell which part this document is", cfg)]
    checker = DocChecker(profile, workdir / "evidence", prefix=workdir.name)
    findings += checker.check(file.name, doc)
    output = _output(findings, _part(role, file, doc, "ok" if role else "unexpected"), started)
    output.metrics.update(checker.metrics)
    return output


def _output(findings: list[Finding], part: PackagePart, started: float) -> StageOutput:
    return StageOutput(findings=findings, metrics={"part": to_jsonable(part), "seconds": time.monotonic() - started})


# ---- step 3: finish ----

def finish(report: Report, manifest: Manifest, outputs: list[StageOutput | None], profile: Profile) -> None:
    """The package section and package.* findings; `outputs` per document (None: its task failed)."""
    cat, cfg = category_of(manifest.category, profile), profile.package
    report.package = PackageSummary(manifest.category)
    parts = [_video_part(report, manifest, cfg)] if manifest.video is not None else []
    errors = []
    for file, output in zip(manifest.documents, outputs):
        if output is None:
            errors.append(file.name)
            parts.append(_part(None, file, None, "unreadable"))
            continue
        report.findings += output.findings
        parts.append(PackagePart(**output.metrics["part"]))
    for file, role, why in manifest.unexpected:
        report.findings.append(unexpected(file.name, why, cfg))
        parts.append(_part(role, file, None, "unexpected"))
    parts += _missing(report, parts, cat, cfg)
    report.package.parts = _ordered(parts, cat)
    report.metrics[STAGE] = _metrics(outputs, len(parts))
    seconds = manifest.seconds + sum(o.metrics.get("seconds", 0.0) for o in outputs if o is not None)
    report.stages[STAGE] = StageRun("error", seconds, f"documents not checked: {', '.join(errors)}") if errors \
        else StageRun("ok", seconds)


def _video_part(report: Report, manifest: Manifest, cfg: Any) -> PackagePart:
    """The video's part; its input.unreadable becomes package.unreadable (the documents still count)."""
    video = manifest.video
    cat_video = cfg.categories[manifest.category].video
    bad = [f for f in report.findings if f.code == "input.unreadable"]
    for finding in bad:
        report.findings.remove(finding)
        report.findings.append(unreadable(video.name, f"视频无法检测 / the video cannot be checked: {finding.message}",
                                          cfg, cat_video))
    return _part(cat_video, video, None, "unreadable" if bad else "ok")


def _missing(report: Report, parts: list[PackagePart], cat: roles.Category, cfg: Any) -> list[PackagePart]:
    present = {p.role for p in parts if p.status != "unexpected"}
    missing = []
    for role in (r for r in cat.required if r not in present):
        evidence = {"part": role, "category": cat.name, "required": cat.required}
        message = f"缺少{role}（{cat.name}须提交）/ missing part {role}, required for {cat.name}"
        report.findings.append(Finding("package.missing", cfg.severity.missing, message, evidence=evidence))
        missing.append(PackagePart(role, None, None, None, "missing"))
    return missing


def unreadable(name: str, why: str, cfg: Any, role: str | None = None) -> Finding:
    evidence = {"file": name, "reason": why, **({"part": role} if role else {})}
    return Finding("package.unreadable", cfg.severity.unreadable, f"文件无法打开：{name} — {why}", evidence=evidence)


def unexpected(name: str, why: str, cfg: Any) -> Finding:
    return Finding("package.unexpected", cfg.severity.unexpected, f"提交包中有不明文件：{name} — {why}",
                   evidence={"file": name, "reason": why})


def _metrics(outputs: list[StageOutput | None], files: int) -> dict[str, Any]:
    """Document counters summed over documents."""
    total: dict[str, Any] = {"files": files, "documents": len(outputs)}
    for output in (o for o in outputs if o is not None):
        for key, value in output.metrics.items():
            if isinstance(value, (int, float)) and key != "seconds":
                total[key] = round(total.get(key, 0) + value, 4)
    return total


def _part(role: str | None, file: PackageFile, doc: Document | None, status: str) -> PackagePart:
    pages = None if doc is None else doc.pages
    return PackagePart(role, file.name, file.suffix.lstrip(".") or None, pages, status)


def _ordered(parts: list[PackagePart], cat: roles.Category) -> list[PackagePart]:
    """The category's parts in their listed order, then anything else."""
    rank = {role: i for i, role in enumerate(cat.parts)}
    return sorted(parts, key=lambda p: (rank.get(p.role, len(rank)), p.file or ""))


def _file_dict(file: PackageFile | None) -> dict[str, str] | None:
    return None if file is None else {"path": str(file.path), "name": file.name}


def _file(doc: dict[str, str] | None) -> PackageFile | None:
    return None if doc is None else PackageFile(Path(doc["path"]), doc["name"])


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def _announce(progress: video_check.ProgressFn | None, stage: str) -> None:
    if progress is not None:
        progress(stage, 0.0, 0.0)
