"""Documented exit codes of the `lessonqc` CLI (README lists them)."""
PASS = 0
REVIEW = 1
FAIL = 2
ERROR = 3      # at least one input could not be checked (verdict error: unreadable, missing, over limits)
USAGE = 4      # bad command line, unknown/invalid profile, missing tool or model, refused path
INTERNAL = 5   # an unexpected fault in LessonQC itself (a bug: please report)

BY_VERDICT = {"pass": PASS, "review": REVIEW, "fail": FAIL, "error": ERROR}
