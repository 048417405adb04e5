"""The durable index: jobs, lesson metadata, findings and API tokens in a relational database.

SQLAlchemy 2 typed ORM models (models.py), the engine/session factory (db.py), Alembic
migrations (migrations/, applied programmatically: the schema is never created by hand)
and the repository functions that read and write it (repository.py, tokens.py).
A SQLite file by default; PostgreSQL when LESSONQC_DATABASE_URL names one. This package
imports nothing of LessonQC's: workers and service call it.
"""
