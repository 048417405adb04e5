"""Accuracy benchmark: lessons built independently of the tests' fixtures, with planted defects
and look-alike clean content; prints precision and recall per finding code on a tune part and a
held-out part (`python -m bench.accuracy`, `make accuracy`). See bench/accuracy/README.md."""
