"""LessonQC analysis stages: plain functions from a video and a profile to findings.

Nothing here knows about queues; `workers/` wraps these functions in actors.
"""
