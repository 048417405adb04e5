"""Importing this module registers every optional analysis stage (one import per stage)."""
from . import onscreen  # noqa: F401
