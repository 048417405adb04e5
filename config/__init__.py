"""Data package: default thresholds (defaults/*.yaml), profiles (profiles/*.yaml) and rule lists."""
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
