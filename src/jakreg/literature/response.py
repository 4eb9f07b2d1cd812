"""The authors' words about response mapped to CR/PR/NR/unknown through an explicit, provisional table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from jakreg.errors import JakregError
from jakreg.rules.base import RuleInfo, RuleStatus

MAPPING_FILE = "data/response_mapping.yaml"


class ResponseMappingError(JakregError):
    """A response mapping table that cannot be used (bad file, unknown category, repeated words)."""


class ResponseCategory(StrEnum):
    """Coarse response as judged from the authors' words (not the founding study's definition)."""

    CR = "CR"
    PR = "PR"
    NR = "NR"
    unknown = "unknown"


@dataclass(frozen=True)
class PhraseRule:
    words: str
    category: ResponseCategory
    why: str


@dataclass(frozen=True)
class ResponseMapping:
    """The table from the authors' words to a category, with the rule's name, version and status."""

    info: RuleInfo
    phrases: tuple[PhraseRule, ...]

    def lookup(self, phrase: str) -> PhraseRule | None:
        return self._index.get(normalise_words(phrase))

    @property
    def _index(self) -> MappingProxyType[str, PhraseRule]:
        return _index_of(self.phrases)

    @classmethod
    def from_dict(cls, raw: Any) -> ResponseMapping:
        """A mapping from the YAML structure of data/response_mapping.yaml."""
        if not isinstance(raw, dict):
            raise ResponseMappingError("a response mapping must be a mapping with 'phrases'")
        try:
            info = RuleInfo(
                name=str(raw["name"]),
                version=str(raw["version"]),
                source=" ".join(str(raw["source"]).split()),
                status=RuleStatus(raw["status"]),
            )
            items = raw["phrases"]
        except KeyError as exc:
            raise ResponseMappingError(f"the response mapping lacks {exc.args[0]!r}") from None
        except ValueError:
            raise ResponseMappingError(
                f"unknown status {raw.get('status')!r}; use verified, provisional or configurable"
            ) from None
        if not isinstance(items, list):
            raise ResponseMappingError("'phrases' must be a list of {words, category, why}")
        phrases: list[PhraseRule] = []
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or "words" not in item or "category" not in item:
                raise ResponseMappingError(f"each phrase needs words and category, got {item!r}")
            try:
                category = ResponseCategory(str(item["category"]))
            except ValueError:
                raise ResponseMappingError(
                    f"unknown category {item['category']!r} for {item['words']!r}; "
                    "use CR, PR, NR or unknown"
                ) from None
            key = normalise_words(str(item["words"]))
            if key in seen:
                raise ResponseMappingError(f"the words {item['words']!r} are listed twice")
            seen.add(key)
            phrases.append(PhraseRule(str(item["words"]), category, str(item.get("why", ""))))
        return cls(info, tuple(phrases))

    @classmethod
    def from_yaml(cls, text: str) -> ResponseMapping:
        return cls.from_dict(yaml.safe_load(text))

    @classmethod
    def from_file(cls, path: str | Path) -> ResponseMapping:
        return cls.from_yaml(Path(path).read_text("utf-8"))


@cache
def _index_of(phrases: tuple[PhraseRule, ...]) -> MappingProxyType[str, PhraseRule]:
    return MappingProxyType({normalise_words(p.words): p for p in phrases})


@cache
def default_response_mapping() -> ResponseMapping:
    """The packaged table (data/response_mapping.yaml), status provisional."""
    text = resources.files("jakreg.literature").joinpath(MAPPING_FILE).read_text("utf-8")
    return ResponseMapping.from_yaml(text)


def normalise_words(text: str) -> str:
    """Case, surrounding quotes and repeated spaces do not matter; everything else does."""
    return " ".join(text.split()).strip("'\"‘’“” ").casefold()


def split_phrases(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(";") if p.strip())


@dataclass(frozen=True)
class PhraseMatch:
    words: str
    category: ResponseCategory | None  # None: not in the table
    why: str | None


@dataclass(frozen=True)
class ResponseJudgement:
    """A derived judgement, not a reported fact: the category, how it was reached and which table said so."""

    category: ResponseCategory
    words: str | None
    phrases: tuple[PhraseMatch, ...]
    unmapped: tuple[str, ...]
    reason: str
    info: RuleInfo
    kind: str = "derived judgement"

    @property
    def status(self) -> RuleStatus:
        return self.info.status

    @property
    def known(self) -> bool:
        return self.category is not ResponseCategory.unknown


def map_response(words: str | None, mapping: ResponseMapping) -> ResponseJudgement:
    """Map the authors' words to a category through ``mapping`` only (see data/response_mapping.yaml)."""
    unknown = ResponseCategory.unknown
    if words is None or not words.strip():
        return ResponseJudgement(unknown, None, (), (), "not reported", mapping.info)
    matches: list[PhraseMatch] = []
    for phrase in split_phrases(words):
        rule = mapping.lookup(phrase)
        matches.append(
            PhraseMatch(phrase, None, None)
            if rule is None
            else PhraseMatch(phrase, rule.category, rule.why)
        )
    unmapped = tuple(m.words for m in matches if m.category is None)
    if unmapped:
        shown = "; ".join(repr(u) for u in unmapped)
        return ResponseJudgement(
            unknown,
            words,
            tuple(matches),
            unmapped,
            f"not in the response mapping table: {shown}",
            mapping.info,
        )
    said = {m.category for m in matches if m.category not in (None, unknown)}
    if not said:
        reason = "the words state no clinical response"
        category = unknown
    elif said == {ResponseCategory.CR}:
        category, reason = ResponseCategory.CR, "every phrase maps to CR"
    elif said <= {ResponseCategory.CR, ResponseCategory.PR}:
        category, reason = ResponseCategory.PR, "phrases map to PR (or to CR and PR)"
    elif said == {ResponseCategory.NR}:
        category, reason = ResponseCategory.NR, "every phrase maps to NR"
    else:
        category = unknown
        reason = "conflicting phrases (NR together with CR or PR)"
    return ResponseJudgement(category, words, tuple(matches), (), reason, mapping.info)
