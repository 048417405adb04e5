"""Advertising rules over OCR text: URLs, phone numbers, WeChat/QQ IDs, 公众号, shop words.

The rules are data (config/text_ads.yaml); this module normalises OCR lines and matches.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from config import CONFIG_DIR
from pipelines.errors import ProfileError

_DIGIT_SLIPS = [(re.compile(r"(?<=\d)[Oo](?=\d)"), "0"), (re.compile(r"(?<=\d)[lI|](?=\d)"), "1")]


@dataclass(frozen=True)
class Rule:
    """One advertising pattern."""

    name: str
    label: str
    pattern: re.Pattern[str]
    compact: bool = False


@dataclass(frozen=True)
class Hit:
    """A rule matched on one line: which rule, what text, which line (index into the lines given)."""

    rule: str
    label: str
    text: str
    line: int


def rules_path(name: str) -> Path:
    """A rules file: absolute, or relative to config/."""
    path = Path(name)
    return path if path.is_absolute() else CONFIG_DIR / path


@functools.lru_cache(maxsize=8)
def load_rules(path: Path) -> tuple[Rule, ...]:
    """Rules from a YAML file (`rules: [{name, label, pattern, compact}]`), compiled once."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return tuple(_rule(item) for item in data["rules"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, re.error) as exc:
        raise ProfileError(f"{path}: bad advertising rules: {exc}") from None


def _rule(item: dict) -> Rule:
    return Rule(str(item["name"]), str(item.get("label", item["name"])), re.compile(item["pattern"]),
                bool(item.get("compact", False)))


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII) and repaired digit runs ("138O" -> "1380")."""
    text = unicodedata.normalize("NFKC", text)
    for pattern, digit in _DIGIT_SLIPS:
        text = pattern.sub(digit, text)
    return text


def find_ads(lines: list[str], rules: tuple[Rule, ...]) -> list[Hit]:
    """Distinct matches over `lines`, in line order. Where two matches on a line overlap
    (one's text inside the other's), only the earlier rule's is kept."""
    hits: list[Hit] = []
    for index, line in enumerate(lines):
        kept: list[Hit] = []
        for hit in _line_hits(line, index, rules):
            if not any(_squash(hit.text) in _squash(k.text) or _squash(k.text) in _squash(hit.text) for k in kept):
                kept.append(hit)
        hits += kept
    unique: dict[str, Hit] = {}
    for hit in hits:
        unique.setdefault(_squash(hit.text), hit)
    return list(unique.values())


def _squash(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)


def _line_hits(line: str, index: int, rules: tuple[Rule, ...]) -> list[Hit]:
    plain = normalise(line)
    compact = re.sub(r"\s+", "", plain)
    found: list[Hit] = []
    for rule in rules:
        for match in rule.pattern.finditer(compact if rule.compact else plain):
            if match.group(0).strip():
                found.append(Hit(rule.name, rule.label, match.group(0).strip(), index))
    return found
