"""The reviewer console: multi-level review of pre-screened lessons in the browser (SPEC "Review workflow").

Server-rendered pages (Jinja2, autoescaped) with a little JS served from `static/`; users,
sessions, finding reviews and decisions live in the durable index next to jobs and lessons.
"""
