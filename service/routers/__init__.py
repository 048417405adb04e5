"""One router per resource: jobs (create, list, read) and a job's outputs (report, artifacts, video)."""
