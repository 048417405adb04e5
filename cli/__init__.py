"""The `lessonqc` command line: one module per command group, each a thin layer over the package doing the work.

Nothing in the project imports `cli`; it may import every package (tests/test_architecture.py).
"""
