"""The platform HTTP API (`lessonqc serve`): FastAPI routers per resource over workers/ and the index."""
