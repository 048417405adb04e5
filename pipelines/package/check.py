"""The package check: unpack safely, tell each file's part, check the video in full and every
document with the same norms, report missing, unreadable and unexpected parts.

The video's findings are those of `pipelines.check` (the same stages, the same report); the
report gains the `package` section and the package.* and doc.* findings.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pipelines import check as video_check
from pipelines.domain import Finding, PackagePart, PackageSummary, StageRun
from pipelines.errors import LessonQCError
from pipelines.package import documents, roles
from pipelines.package.archive import PackageFile, PackageRefused, open_package
from pipelines.package.documents.model import Document, DocumentUnreadable
from pipelines.package.findings import DocChecker
from pipelines.profile import Profile
from pipelines.report import document as reports
from pipelines.report.document import Report

log = logging.getLogger(__name__)
STAGE = "package"


class UnknownCategory(LessonQCError):
    """A category that the profile's `package.categories` does not list."""


@dataclass
class Sorted:
    """The package's files by kind."""

    videos: list[PackageFile] = field(default_factory=list)
    documents: list[PackageFile] = field(default_factory=list)
    unexpected: list[tuple[PackageFile, str]] = field(default_factory=list)   # (file, why)


def category_of(name: str, profile: Profile) -> roles.Category:
    """The category's parts; UnknownCategory names the known ones."""
    known = list(profile.package.categories)
    if name not in known:
        raise UnknownCategory(f"unknown category '{name}' (known: {', '.join(known)})")
    return roles.Category(name, profile.package)


def check_package(source: Path, category: str, profile: Profile, out_dir: Path, job_id: str | None = None,
                  progress: video_check.ProgressFn | None = None, skip: frozenset[str] = frozenset(),
                  stages: video_check.Stages | None = None) -> Report:
    """Pre-screen one submission package and write report.json/report.html into `out_dir`.

    The video part gets the full check with `stages` (default: the registry's) less `skip`."""
    cat = category_of(category, profile)
    report = Report(job_id or reports.new_job_id(), str(source), profile.name)
    report.package = PackageSummary(category)
    with tempfile.TemporaryDirectory(prefix="lessonqc-package-") as tmp:
        try:
            PackageCheck(cat, profile, Path(tmp), report, progress, skip, stages).run(source)
        except PackageRefused as exc:
            report.findings.append(refused(exc))
        reports.write(report, out_dir)
    return report


def refused(exc: PackageRefused) -> Finding:
    """The one finding of a package refused whole (verdict error): unsafe or over the caps."""
    evidence = {"reason": exc.reason, **({"file": exc.member} if exc.member else {})}
    return Finding("input.unreadable", "fail", f"提交包被拒收 / package refused: {exc}", evidence=evidence)


class PackageCheck:
    """One package: its files sorted, the video checked, the documents read and checked."""

    def __init__(self, category: roles.Category, profile: Profile, workdir: Path, report: Report,
                 progress: video_check.ProgressFn | None, skip: frozenset[str], stages: video_check.Stages | None = None):
        self.cat, self.profile, self.cfg = category, profile, profile.package
        self.workdir, self.report, self.progress, self.skip = workdir, report, progress, skip
        self.stages = stages
        self.severity = self.cfg.severity
        self.docs = DocChecker(profile, workdir / "evidence")
        self.parts: list[PackagePart] = []

    def run(self, source: Path) -> None:
        started = time.monotonic()
        files = self._sort(open_package(source, self.workdir, self.cfg))
        self.report.stages[STAGE] = StageRun("ok", 0.0)
        unpack_s = time.monotonic() - started
        self._video(files.videos)
        self._announce("documents")
        started = time.monotonic()
        for file in files.documents:
            self._document(file)
        for file, why in files.unexpected:
            self._unexpected(file, None, why)
        self._missing()
        self.report.package.parts = _ordered(self.parts, self.cat)
        self.report.metrics[STAGE] = {**self.docs.metrics, "files": len(self.parts)}
        self.report.stages[STAGE].seconds = unpack_s + time.monotonic() - started

    def _sort(self, files: list[PackageFile]) -> Sorted:
        out = Sorted()
        for file in files:
            if roles.is_ignored(file.name, self.cfg):
                continue
            if roles.is_executable(file.suffix, _head(file.path), self.cfg):
                out.unexpected.append((file, "可执行文件或脚本 / executable or script"))
            elif file.suffix in self.cfg.video_suffixes:
                out.videos.append(file)
            elif file.suffix in self.cfg.document_suffixes:
                out.documents.append(file)
            else:
                out.unexpected.append((file, "无法判断用途的文件 / a file whose part cannot be told"))
        return out

    # the video -------------------------------------------------------------------------------
    def _video(self, videos: list[PackageFile]) -> None:
        if not videos:
            return
        named = [v for v in videos if roles.by_name(PurePosixPath(v.name).stem, [self.cat.video], self.cat)]
        chosen = max(named or videos, key=lambda v: v.path.stat().st_size)
        for other in videos:
            if other is not chosen:
                self._unexpected(other, self.cat.video, "多余的视频（只检测一个）/ an extra video (one is checked)")
        self._announce(self.cat.video)
        workdir = self.workdir / "video"
        workdir.mkdir()
        video_check.analyse(chosen.path, self.profile, workdir, self.report, self.progress, self.skip,
                            video_check.stage_map(self.stages))
        bad = [f for f in self.report.findings if f.code == "input.unreadable"]
        for finding in bad:   # inside a package, a bad video is a part that cannot be opened
            self.report.findings.remove(finding)
            self.report.findings.append(self._unreadable(chosen, f"视频无法检测 / the video cannot be checked: "
                                                                 f"{finding.message}", self.cat.video))
        self.parts.append(_part(self.cat.video, chosen, None, "unreadable" if bad else "ok"))

    # documents -------------------------------------------------------------------------------
    def _document(self, file: PackageFile) -> None:
        try:
            doc = documents.read(file.path, file.suffix, self.cfg, self.workdir / "documents" / _slot(self.parts))
        except Exception as exc:  # noqa: BLE001 - a reader's own failure on a hostile file is still "cannot open"
            if not isinstance(exc, DocumentUnreadable):
                log.warning("reading %s failed", file.name, exc_info=True)
                exc = DocumentUnreadable(f"无法读取 / cannot read: {type(exc).__name__}: {exc}")
            role = roles.by_name(PurePosixPath(file.name).stem, self.cat.documents, self.cat)
            self.report.findings.append(self._unreadable(file, str(exc), role))
            self.parts.append(_part(role, file, None, "unreadable"))
            return
        role = roles.document_role(file.name, doc, self.cat)
        if role is None:
            self._unexpected(file, None, "无法判断是哪一部分材料 / cannot tell which part this document is", doc)
        else:
            self.parts.append(_part(role, file, doc, "ok"))
        self._check_document(file, doc)

    def _check_document(self, file: PackageFile, doc: Document) -> None:
        """doc.* findings; a reader bug on one document makes the stage an error, never a crash."""
        try:
            self.report.findings += self.docs.check(file.name, doc)
        except Exception as exc:  # noqa: BLE001 - isolation: one document's failure makes the verdict review
            log.warning("checking %s failed", file.name, exc_info=True)
            self.report.stages[STAGE] = StageRun("error", 0.0, f"{file.name}: {type(exc).__name__}: {exc}")

    # package findings ------------------------------------------------------------------------
    def _unreadable(self, file: PackageFile, why: str, role: str | None = None) -> Finding:
        evidence = {"file": file.name, "reason": why, **({"part": role} if role else {})}
        return Finding("package.unreadable", self.severity.unreadable, f"文件无法打开：{file.name} — {why}", evidence=evidence)

    def _unexpected(self, file: PackageFile, role: str | None, why: str, doc: Document | None = None) -> None:
        evidence = {"file": file.name, "reason": why}
        self.report.findings.append(Finding("package.unexpected", self.severity.unexpected,
                                            f"提交包中有不明文件：{file.name} — {why}", evidence=evidence))
        self.parts.append(_part(role, file, doc, "unexpected"))

    def _missing(self) -> None:
        present = {p.role for p in self.parts if p.status != "unexpected"}
        for role in self.cat.required:
            if role in present:
                continue
            evidence = {"part": role, "category": self.cat.name, "required": self.cat.required}
            message = f"缺少{role}（{self.cat.name}须提交）/ missing part {role}, required for {self.cat.name}"
            self.report.findings.append(Finding("package.missing", self.severity.missing, message, evidence=evidence))
            self.parts.append(PackagePart(role, None, None, None, "missing"))

    def _announce(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(stage, 0.0, 0.0)


def _part(role: str | None, file: PackageFile, doc: Document | None, status: str) -> PackagePart:
    pages = None if doc is None else doc.pages
    return PackagePart(role, file.name, file.suffix.lstrip(".") or None, pages, status)


def _ordered(parts: list[PackagePart], cat: roles.Category) -> list[PackagePart]:
    """The category's parts in their listed order, then anything else."""
    rank = {role: i for i, role in enumerate(cat.parts)}
    return sorted(parts, key=lambda p: (rank.get(p.role, len(rank)), p.file or ""))


def _slot(parts: list[Any]) -> str:
    return f"{len(parts):03d}"


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)

