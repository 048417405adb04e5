"""Submission packages, generated at test time: parts per category, document norms, zip safety."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipelines import profile as profiles
from pipelines.package.check import check_package
from pipelines.report.document import Report, to_dict
from testmedia import package as gen

FAST = frozenset({"speech", "onscreen", "lab"})   # these tests are about the documents
ROOT = Path(__file__).resolve().parent.parent
OFFICE = shutil.which("soffice") is not None or bool(os.environ.get("CI"))   # CI installs LibreOffice (Makefile)


@pytest.fixture(scope="session")
def profile() -> profiles.Profile:
    return profiles.load("micro-primary")


@pytest.fixture(scope="session")
def clip(media_cache: Path) -> Path:
    return gen.video(media_cache)


def run(folder: Path, category: str, profile: profiles.Profile, out: Path) -> Report:
    report = check_package(folder, category, profile, out, skip=FAST)
    to_dict(report)   # valid against the schema
    return report


def package_findings(report: Report) -> list:
    return [f for f in report.findings if f.code.startswith(("package.", "doc.", "input."))]


def codes(report: Report) -> list[str]:
    return sorted(f.code for f in package_findings(report))


# complete and incomplete packages per category ------------------------------------------------
@pytest.mark.parametrize("category", list(gen.PARTS))
def test_complete_clean_package_has_no_package_or_document_finding(category, profile, clip, tmp_path):
    report = run(gen.package(tmp_path / "pkg", category, clip), category, profile, tmp_path / "out")
    assert package_findings(report) == []
    assert report.package.category == category
    assert {p.role: p.status for p in report.package.parts} == {role: "ok" for role in gen.PARTS[category]}
    assert report.stages["package"].status == "ok"
    assert report.media is not None   # the video inside was checked


MISSING = [(category, role) for category, required in gen.REQUIRED.items() for role in required]


@pytest.mark.parametrize("category,role", MISSING, ids=[f"{c}-{r}" for c, r in MISSING])
def test_each_missing_part_is_reported_for_its_category(category, role, profile, clip, tmp_path):
    report = run(gen.package(tmp_path / "pkg", category, clip, leave_out=(role,)), category, profile, tmp_path / "out")
    assert codes(report) == ["package.missing"]
    finding = package_findings(report)[0]
    assert (finding.severity, finding.evidence["part"], finding.evidence["category"]) == ("fail", role, category)
    assert [p for p in report.package.parts if p.status == "missing"][0].role == role


@pytest.mark.parametrize("category", ["特殊教育", "阅读课"])
def test_homework_is_optional_for_special_education_and_reading(category, profile, clip, tmp_path):
    report = run(gen.package(tmp_path / "pkg", category, clip, leave_out=("作业练习",)), category, profile, tmp_path / "out")
    assert package_findings(report) == []
    assert report.verdict != "error"


def test_parts_are_told_by_content_when_names_say_nothing(profile, clip, tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    shutil.copyfile(clip, folder / "lesson.mp4")
    gen.word_doc(folder / "附件1.docx", "分数的初步认识", gen.DESIGN_HEADINGS)
    gen.word_doc(folder / "附件2.docx", "分数的初步认识", gen.TASK_HEADINGS)
    gen.slides(folder / "附件3.pptx", ["分数", "小结"])
    gen.text_pdf(folder / "附件4.pdf", gen.HOMEWORK_LINES)
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert package_findings(report) == []
    assert {p.file: p.role for p in report.package.parts} == {
        "lesson.mp4": "微课视频", "附件1.docx": "教学设计", "附件2.docx": "学习任务单", "附件3.pptx": "课件", "附件4.pdf": "作业练习"}


# the same norms in documents --------------------------------------------------------------------
def test_ad_url_in_a_task_sheet_footer(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.word_doc(folder / "学习任务单.docx", "学习任务单", gen.TASK_HEADINGS, footer="更多资料请访问 www.youke-shop.com")
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert codes(report) == ["doc.ad"]
    ev = package_findings(report)[0].evidence
    assert (ev["file"], ev["page"], ev["part"]) == ("学习任务单.docx", 1, ["footer"])
    assert ev["matches"][0]["text"] == "www.youke-shop.com"
    assert report.verdict == "fail"
    if OFFICE:   # the laid-out page with the box, at the bottom of the page (the footer)
        assert (tmp_path / "out" / ev["thumbnail"]).is_file() and ev["box"][1] > 1200


def test_a_cited_official_source_in_a_footer_is_not_an_ad(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.word_doc(folder / "学习任务单.docx", "学习任务单", gen.TASK_HEADINGS,
                 footer="资料来源：国家中小学智慧教育平台 https://basic.smartedu.cn")
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert package_findings(report) == []
    assert report.metrics["package"]["citations"] >= 1


def test_qr_code_picture_on_a_slide(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.slides(folder / "课件.pptx", ["分数", "平均分", "小结"], pictures={2: gen.qr_picture("https://weixin.qq.com/r/abc123")})
    out = tmp_path / "out"
    report = run(folder, "学科课程", profile, out)
    assert codes(report) == ["doc.qr_code"]
    ev = package_findings(report)[0].evidence
    assert (ev["file"], ev["slide"], ev["codes"][0]["payload"]) == ("课件.pptx", 2, "https://weixin.qq.com/r/abc123")
    assert (out / ev["thumbnail"]).is_file()
    assert "data:image/jpeg;base64" in (out / "report.html").read_text(encoding="utf-8")


def test_wechat_id_in_slide_notes(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.slides(folder / "课件.pptx", ["分数", "平均分", "小结"], notes={3: "课后答疑请加微信号：mathwang2024"})
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert codes(report) == ["doc.ad"]
    ev = package_findings(report)[0].evidence
    assert (ev["file"], ev["slide"], ev["part"], ev["matches"][0]["rule"]) == ("课件.pptx", 3, ["notes"], "wechat_id")


def _text_box(paragraph, text: str) -> None:
    """A Word text box as Word writes it: mc:AlternateContent with a DrawingML choice and a VML fallback."""
    from docx.oxml import parse_xml
    box = (f'<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:r><w:t>{text}</w:t></w:r></w:p>')
    xml = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
           'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
           'xmlns:v="urn:schemas-microsoft-com:vml">'
           f'<mc:Choice Requires="wps"><wps:txbx><w:txbxContent>{box}</w:txbxContent></wps:txbx></mc:Choice>'
           f'<mc:Fallback><v:textbox><w:txbxContent>{box}</w:txbxContent></v:textbox></mc:Fallback></mc:AlternateContent>')
    run = paragraph.add_run()
    run._r.append(parse_xml(xml))


def test_text_box_is_read_once(profile, tmp_path):
    import docx
    from pipelines.package.documents import word
    document = docx.Document()
    _text_box(document.add_paragraph("正文"), "扫码关注公众号：数学加油站")
    document.save(tmp_path / "a.docx")
    doc = word.read(tmp_path / "a.docx", profile.package.documents)
    assert [(b.text, b.part) for b in doc.blocks] == [("正文", "body"), ("扫码关注公众号：数学加油站", "textbox")]


def test_traditional_characters_in_a_lesson_design_table(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.word_doc(folder / "教学设计.docx", "教学设计", gen.DESIGN_HEADINGS, page_break=True,
                 table=[["环节", "内容"], ["導入", "複習舊知識，認識分數"]])
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert codes(report) == ["doc.traditional"]
    finding = package_findings(report)[0]
    assert finding.severity == "review"
    assert (finding.evidence["page"], finding.evidence["part"]) == (2, ["table"])
    assert {"導", "複", "舊", "識", "認", "數"} <= set(finding.evidence["chars"])
    assert "环" not in finding.evidence["chars"]
    if OFFICE:
        assert (tmp_path / "out" / finding.evidence["thumbnail"]).is_file()


def test_phone_number_on_a_scanned_pdf_page(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.scanned_pdf(folder / "作业练习.pdf", [gen.HOMEWORK_LINES, ["课后辅导请联系王老师", "电话 13812345678"]])
    out = tmp_path / "out"
    report = run(folder, "学科课程", profile, out)
    assert codes(report) == ["doc.ad"]
    ev = package_findings(report)[0].evidence
    assert (ev["file"], ev["page"], ev["matches"][0]["rule"]) == ("作业练习.pdf", 2, "mobile")
    assert "13812345678" in ev["matches"][0]["text"]
    assert (out / ev["thumbnail"]).is_file()
    assert report.metrics["package"]["scanned_pages"] == 2
    assert {p.role: p.pages for p in report.package.parts}["作业练习"] == 2


# unreadable and unexpected files ----------------------------------------------------------------
def test_encrypted_pdf_corrupt_docx_and_executable(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    gen.text_pdf(folder / "作业练习.pdf", gen.HOMEWORK_LINES, password="secret")
    data = (folder / "教学设计.docx").read_bytes()
    (folder / "教学设计.docx").write_bytes(data[: len(data) // 2])
    (folder / "setup.exe").write_bytes(b"MZ" + b"\0" * 100)
    (folder / "<img src=x onerror=alert(1)>.txt").write_text("hello", encoding="utf-8")
    report = run(folder, "学科课程", profile, tmp_path / "out")
    found = {(f.code, f.evidence["file"]) for f in package_findings(report)}
    assert found == {("package.unreadable", "作业练习.pdf"), ("package.unreadable", "教学设计.docx"),
                     ("package.unexpected", "setup.exe"), ("package.unexpected", "<img src=x onerror=alert(1)>.txt")}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    pdf = next(f for f in report.findings if f.evidence.get("file") == "作业练习.pdf")
    assert "encrypted" in pdf.message
    assert {f.severity for f in report.findings if f.code == "package.unexpected"} == {"review"}


@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CI"), reason="LibreOffice not installed")
def test_legacy_doc_is_converted_with_libreoffice(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    source = gen.word_doc(tmp_path / "教学设计.docx", "教学设计", gen.DESIGN_HEADINGS, footer="咨询电话 13812345678")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--convert-to", "doc",
                    "--outdir", str(tmp_path / "legacy"), str(source)], check=True, capture_output=True, timeout=180)
    (folder / "教学设计.docx").unlink()
    shutil.copyfile(tmp_path / "legacy" / "教学设计.doc", folder / "教学设计.doc")
    (folder / "学习任务单.ppt").write_bytes(b"not really a presentation")
    report = run(folder, "学科课程", profile, tmp_path / "out")
    parts = {p.file: (p.role, p.format, p.status) for p in report.package.parts}
    assert parts["教学设计.doc"] == ("教学设计", "doc", "ok")
    assert parts["学习任务单.ppt"] == ("学习任务单", "ppt", "unreadable")
    assert codes(report) == ["doc.ad", "package.unreadable"]


# archives --------------------------------------------------------------------------------------
def test_gbk_named_zip_from_chinese_windows(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "实验教学", clip)
    archive = gen.zip_folder(folder, tmp_path / "提交包.zip", encoding="gbk")
    assert not zipfile.ZipFile(archive).infolist()[0].flag_bits & 0x800
    report = run(archive, "实验教学", profile, tmp_path / "out")
    assert package_findings(report) == []
    assert sorted(p.file for p in report.package.parts) == sorted(
        ["实验教学视频.mp4", "实验教学设计.docx", "导学案.docx", "课件.pptx"])


def test_zip_names_in_the_info_zip_unicode_path_field_win_over_a_garbled_legacy_name(profile, tmp_path):
    import struct
    import zlib
    from pipelines.package.archive import decode_name
    raw = "ΦΦ.docx".encode("cp437", "replace")       # what an old tool put in the plain name field
    utf8 = "教学设计.docx".encode("utf-8")
    info = zipfile.ZipInfo(raw.decode("cp437"))
    info.extra = struct.pack("<HHB", 0x7075, 5 + len(utf8), 1) + struct.pack("<I", zlib.crc32(raw)) + utf8
    assert decode_name(info) == "教学设计.docx"
    gbk = zipfile.ZipInfo("课件.pptx".encode("gbk").decode("cp437"))
    assert decode_name(gbk) == "课件.pptx"


def _hostile_zip(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("教学设计.docx", b"x")
        archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("name,data,reason", [
    ("../../escaped.txt", b"owned", "zip_slip"),
    ("/tmp/lessonqc-absolute-escape.txt", b"owned", "absolute_path"),
    ("bomb.bin", b"\0" * 50_000_000, "zip_bomb"),
    ("inner.zip", b"PK\x05\x06" + b"\0" * 18, "nested_archive"),
])
def test_unsafe_zip_is_refused_and_nothing_is_written_outside(name, data, reason, profile, tmp_path):
    work = tmp_path / "deep" / "inside"
    work.mkdir(parents=True)
    archive = _hostile_zip(work / "pkg.zip", name, data)
    before = set(tmp_path.rglob("*"))
    report = run(archive, "学科课程", profile, work / "out")
    assert codes(report) == ["input.unreadable"]
    assert report.findings[0].evidence["reason"] == reason
    assert report.verdict == "error"
    written = {p for p in set(tmp_path.rglob("*")) - before if not p.is_relative_to(work / "out")}
    assert written == set()
    assert not Path("/tmp/lessonqc-absolute-escape.txt").exists()


def test_symlink_in_a_zip_or_folder_is_refused(profile, clip, tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("课件.pptx")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    assert run(archive, "学科课程", profile, tmp_path / "o1").findings[0].evidence["reason"] == "symlink"
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    (folder / "课件2.pptx").symlink_to("/etc/passwd")
    assert run(folder, "学科课程", profile, tmp_path / "o2").findings[0].evidence["reason"] == "symlink"


def test_too_many_files_are_refused(profile, tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(profile.package.limits.max_files + 1):
            zf.writestr(f"f{i}.txt", b"x")
    assert run(archive, "学科课程", profile, tmp_path / "out").findings[0].evidence["reason"] == "too_many_files"


# the command line ------------------------------------------------------------------------------
def test_cli_checks_a_zip_package_with_the_full_video_check(clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "特殊教育", clip, leave_out=("作业练习",))
    archive = gen.zip_folder(folder, tmp_path / "pkg.zip")
    lessonqc = [sys.executable, "-m", "cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    usage = subprocess.run([*lessonqc, "check", str(archive)], capture_output=True, text=True, env=env, timeout=120)
    assert usage.returncode == 4 and "--category" in usage.stderr
    unknown = subprocess.run([*lessonqc, "check", str(archive), "--category", "美术课"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert unknown.returncode == 4 and "unknown category" in unknown.stderr
    done = subprocess.run([*lessonqc, "check", str(archive), "--category", "特殊教育", "--out", str(tmp_path / "out"),
                           "--skip-stage", "speech"], capture_output=True, text=True, env=env, timeout=300)
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert done.returncode == 2, done.stderr    # the 3-second 320x180 clip breaks the video rules
    assert doc["package"]["category"] == "特殊教育" and len(doc["package"]["parts"]) == 4
    assert {"tech.resolution", "tech.duration"} <= {f["code"] for f in doc["findings"]}
    assert doc["stages"]["onscreen"]["status"] == "ok"
    assert not [f for f in doc["findings"] if f["code"].startswith(("package.", "doc."))]


def test_a_broken_video_is_an_unreadable_part_not_a_broken_package(profile, clip, tmp_path):
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    (folder / "微课视频.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"\x01" * 5000)
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert codes(report) == ["package.unreadable"]
    assert package_findings(report)[0].evidence["file"] == "微课视频.mp4"
    assert {p.role: p.status for p in report.package.parts}["微课视频"] == "unreadable"
    assert report.verdict == "fail"


def test_an_office_file_that_unpacks_to_too_much_is_unreadable(clip, tmp_path):
    rules = tmp_path / "small-cap.yaml"
    rules.write_text("package:\n  documents:\n    max_unpacked_bytes: 2000000\n", encoding="utf-8")
    profile = profiles.load(rules)
    folder = gen.package(tmp_path / "pkg", "学科课程", clip)
    with zipfile.ZipFile(folder / "课件.pptx", "a", zipfile.ZIP_DEFLATED) as pptx:
        pptx.writestr("ppt/media/huge.bin", b"\0" * 3_000_000)
    report = run(folder, "学科课程", profile, tmp_path / "out")
    assert codes(report) == ["package.unreadable"]
    assert "zip bomb" in package_findings(report)[0].message
