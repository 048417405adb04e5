"""Citations of official sources on screen (`text.citation`): told apart from advertising.

A URL or domain matched by an advertising rule is a citation when its host belongs to an
official source (config/citations.yaml); a line naming an official source after a citation
label ("资料来源：人民教育出版社") is one too. Everything else an ad rule matched stays an ad.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.errors import ProfileError
from pipelines.onscreen.ad_rules import Hit

LINK_RULES = frozenset({"url", "domain"})
_HOST = re.compile(r"(?i)^(?:https?://)?([a-z0-9.\-]+)")


@dataclass(frozen=True)
class Sources:
    """The official list: domains, citation labels and source names."""

    domains: tuple[str, ...]
    labels: tuple[str, ...]
    names: tuple[str, ...]

    def official_link(self, text: str) -> bool:
        match = _HOST.match(text.strip())
        host = match.group(1).lower().rstrip(".") if match else ""
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def cites(self, line: str) -> str | None:
        """The official name a labelled citation line gives, if any."""
        flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", line))
        if not any(label in flat for label in self.labels):
            return None
        return next((name for name in self.names if name in flat), None)


@functools.lru_cache(maxsize=4)
def load_sources(path: Path) -> Sources:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Sources(tuple(str(d).lower() for d in data["domains"]), tuple(map(str, data["labels"])),
                       tuple(sorted(map(str, data["names"]), key=len, reverse=True)))
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ProfileError(f"{path}: bad citation list: {exc}") from None


def separate(hits: list[Hit], lines: list[str], sources: Sources) -> tuple[list[Hit], list[Hit]]:
    """(ads, citations): official links leave the ads; lines citing an official source by name are citations."""
    ads = [h for h in hits if not (h.rule in LINK_RULES and sources.official_link(h.text))]
    cited = [h for h in hits if h not in ads]
    linked = {h.line for h in cited}
    for index, line in enumerate(lines):
        name = sources.cites(line)
        if name and index not in linked:
            cited.append(Hit("citation", "引用来源 / citation", name, index))
    return ads, cited
