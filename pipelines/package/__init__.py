"""Submission packages: a folder or zip of video + documents, each part told and checked.

archive (safe unpack) -> roles (which part each file is) -> documents (text and pictures per
page) -> findings (doc.* on the same rules as video frames) -> check (the whole package report).
"""
