"""The queue side of LessonQC: Dramatiq broker, thin actors, job state and the CLI."""
