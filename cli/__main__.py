"""`python -m cli ...`: the same as the `lessonqc` command."""
import sys

from .main import main

sys.exit(main())
