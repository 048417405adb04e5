"""Importing this module registers every optional analysis stage (one import per stage)."""
from . import speech  # noqa: F401
from . import lab  # noqa: F401
from . import onscreen  # noqa: F401
