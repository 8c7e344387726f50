"""Typed, problem-collecting access to composed PyYAML nodes.

This module owns the low level of definition loading: turning YAML nodes into
plain values, remembering for every dotted path (``transitions[3].dest``) the
1-based line it came from, and collecting problems instead of stopping at the
first one. It knows nothing about workflows: ``loader``, ``actions`` and
``sheet`` give the keys their meaning.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from planflow.core.definitions.spec import LANGUAGES, Duration, Label
from planflow.errors import DefinitionProblem

T = TypeVar("T")

#: Shown instead of an empty path for problems about the whole document.
DOCUMENT = "(document)"
#: How long a value quoted in a message may be, and a message itself.
QUOTE_LIMIT = 60
MESSAGE_LIMIT = 500
#: Checking a file stops after this many problems (a file can hold far more).
MAX_PROBLEMS = 1000
#: Close matches are looked for only among this many names, for words this long.
_SUGGEST_LIMIT = 1000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
DURATION_UNITS = ("days", "working_days", "hours")
#: About ten years in each unit: a longer delay is a mistake, and dates overflow.
DURATION_MAX = {"days": 3660, "working_days": 2610, "hours": 87840}

# Names end up in URLs, logs and the state machine's events: keep them plain.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")
_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[\d+\])\Z")


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for a message, a long value cut short: a file's content is not echoed."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "…")
    return clip(repr(value), limit)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = clip(key, QUOTE_LIMIT)
    return f"{path}.{key}" if path else key


def is_name(value: str) -> bool:
    return bool(_IDENTIFIER.match(value))


def suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close match, else ``""``."""
    names = list(candidates)
    if len(names) > _SUGGEST_LIMIT or len(word) > _SUGGEST_LIMIT:
        return ""  # not a typo, and comparing would take long
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f" (did you mean {quote(close[0])}?)" if close else ""


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def column_of(node: Node) -> int:
    return int(node.start_mark.column) + 1


class TooManyProblems(Exception):
    """``Problems`` holds ``MAX_PROBLEMS``: checking stops there."""


class Problems:
    """Every problem found so far, plus the line each visited path came from."""

    def __init__(self) -> None:
        self.items: list[DefinitionProblem] = []
        self.lines: dict[str, int] = {}
        #: The column of the few paths that name one value in a line of several
        #: (a state in ``return_to: [draft, submitted]``).
        self.columns: dict[str, int] = {}

    def add(self, path: str, message: str, line: int | None = None) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            raise TooManyProblems
        column = self.columns.get(path)
        if line is None:
            line = self.line_of(path)
        self.items.append(DefinitionProblem(path or DOCUMENT, line, clip(message), column))

    def line_of(self, path: str) -> int | None:
        # A path that was never read (a missing key) takes its parent's line.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = _LAST_STEP.sub("", path) if _LAST_STEP.search(path) else ""

    def sorted(self) -> list[DefinitionProblem]:
        return sorted(self.items, key=lambda p: p.line or 0)


class Reader:
    """Reads values out of nodes; on a bad value it reports and returns None."""

    def __init__(self, loader: SafeConstructor, problems: Problems) -> None:
        self._loader = loader
        self.problems = problems

    def fail(self, path: str, node: Node, message: str) -> None:
        self.problems.add(path, message, line_of(node))

    def record(self, path: str, node: Node) -> None:
        self.problems.lines.setdefault(path, line_of(node))

    def value(self, node: Node) -> object:
        """The plain Python value of a scalar (``None`` for mappings and lists)."""
        if not isinstance(node, ScalarNode):
            return None
        try:
            return self._loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            # An unknown ``!tag``, a date like 2027-13-45, an integer with more
            # digits than Python converts: keep the raw text.
            return node.value

    def describe(self, node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        value = self.value(node)
        if isinstance(value, bool):
            return "true" if value else "false"  # as written in YAML, not Python's True
        return "nothing" if value is None else quote(value)

    def mapping(
        self,
        node: Node,
        path: str,
        required: Sequence[str] = (),
        optional: Sequence[str] = (),
        *,
        any_keys: bool = False,
        what: str = "key",
    ) -> dict[str, Node] | None:
        """Key -> value node; checks types of keys, duplicates, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            self.fail(path, node, f"must be a mapping, not {self.describe(node)}")
            return None
        entries = self._merged(node, path)
        if entries is None:
            return None
        allowed = (*required, *optional)
        found: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        suggested: set[str] = set()
        for key_node, value_node in entries:
            key = self.value(key_node)
            if not isinstance(key, str):
                self.fail(path, key_node, f"{what} names must be text, not {quote(key)}")
                continue
            key_path = join(path, key)
            if key in key_lines:
                first = key_lines[key]
                message = f"duplicate {what} {quote(key)} (first on line {first})"
                self.fail(key_path, key_node, message)
                continue
            key_lines[key] = line_of(key_node)
            self.record(key_path, key_node)
            if not any_keys and key not in allowed:
                hint = suggest(key, allowed)
                if hint:
                    suggested.update(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6))
                    message = f"unknown {what} {quote(key)}{hint}"
                else:
                    message = f"unknown {what} {quote(key)}; expected one of: {', '.join(allowed)}"
                self.fail(key_path, key_node, message)
                continue
            found[key] = value_node
        for key in required:
            # A misspelt key was already reported as "did you mean"; once is enough.
            if key not in found and key not in suggested and key not in key_lines:
                self.fail(join(path, key), node, f"missing required key {quote(key)}")
        return found

    def _merged(self, node: MappingNode, path: str) -> list[tuple[Node, Node]] | None:
        """The entries of ``node`` with ``<<: *anchor`` merges resolved.

        A key written in the mapping itself overrides a merged one (that is what
        merge keys are for), so only the mapping's own keys count as duplicates.
        """
        own_count = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        try:
            self._loader.flatten_mapping(node)  # merged entries first, then own
        except yaml.YAMLError as exc:
            self.fail(path, node, f"bad merge key: {exc}")
            return None
        split = len(node.value) - own_count
        merged, own = node.value[:split], node.value[split:]
        own_keys = {self.value(key) for key, _ in own}
        last: dict[object, tuple[Node, Node]] = {}
        for key, value in merged:  # among merged entries the last one wins
            if self.value(key) not in own_keys:
                last[self.value(key)] = (key, value)
        return [*last.values(), *own]

    def get(
        self, fields: dict[str, Node], path: str, key: str, read: Callable[[Node, str], T | None]
    ) -> T | None:
        """``read`` applied to ``fields[key]`` at ``path.key``; None when the key is absent."""
        node = fields.get(key)
        return None if node is None else read(node, join(path, key))

    def items(self, node: Node, path: str, *, allow_empty: bool = True) -> list[tuple[str, Node]]:
        """The entries of a list, each with its path ``path[i]``."""
        if not isinstance(node, SequenceNode):
            self.fail(path, node, f"must be a list, not {self.describe(node)}")
            return []
        if not node.value and not allow_empty:
            self.fail(path, node, "must not be empty")
        entries = []
        for index, item in enumerate(node.value):
            item_path = join(path, index)
            self.record(item_path, item)
            entries.append((item_path, item))
        return entries

    def text(self, node: Node, path: str) -> str | None:
        value = self.value(node)
        if not isinstance(value, str):
            self.fail(path, node, f"must be text, not {self.describe(node)}")
            return None
        if not value.strip():
            self.fail(path, node, "must not be empty")
            return None
        return value

    def name(self, node: Node, path: str) -> str | None:
        value = self.text(node, path)
        if value is not None and not is_name(value):
            self.fail(path, node, f"{quote(value)} must be lower-case letters, digits and _")
            return None
        return value

    def integer(
        self,
        node: Node,
        path: str,
        low: int | None = None,
        high: int | None = None,
        *,
        cap: int | None = None,
    ) -> int | None:
        """A whole number; ``low``..``high`` is its range, ``cap`` a sanity limit above it."""
        value = self.value(node)
        top = high if high is not None else cap
        if isinstance(value, str) and node.tag == _INT_TAG:  # too many digits to convert
            bound = f"at most {top}" if top is not None else "a sensible number"
            self.fail(path, node, f"must be {bound}, not a number of {len(value)} digits")
            return None
        # bool is an int in Python, but ``true`` is never a sensible count.
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, node, f"must be a whole number, not {self.describe(node)}")
            return None
        if low is not None and high is not None and not low <= value <= high:
            self.fail(path, node, f"must be between {low} and {high}, not {quote(value)}")
            return None
        if low == 0 and value < 0:
            self.fail(path, node, f"must not be negative, not {quote(value)}")
            return None
        if low is not None and value < low:
            self.fail(path, node, f"must be at least {low}, not {quote(value)}")
            return None
        if cap is not None and value > cap:
            self.fail(path, node, f"must be at most {cap}, not {quote(value)}")
            return None
        return value

    def number(self, node: Node, path: str, *, negative: bool = False) -> float | None:
        value = self.value(node)
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.fail(path, node, f"must be a number, not {self.describe(node)}")
            return None
        if value < 0 and not negative:
            self.fail(path, node, f"must not be negative, not {value:g}")
            return None
        return float(value)

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.value(node)
        if not isinstance(value, bool):
            self.fail(path, node, f"must be true or false, not {self.describe(node)}")
            return None
        return value

    def label(self, node: Node, path: str) -> Label | None:
        """A plain text (English) or a mapping of language code to text."""
        if isinstance(node, ScalarNode):
            text = self.text(node, path)
            return None if text is None else Label.of(en=text)
        if not isinstance(node, MappingNode):
            self.fail(path, node, "must be a text or a mapping of language to text, not a list")
            return None
        entries = self.mapping(node, path, any_keys=True)
        if entries is None:
            return None
        texts: dict[str, str] = {}
        for lang, value_node in entries.items():
            lang_path = join(path, lang)
            if lang not in LANGUAGES:
                hint = suggest(lang, LANGUAGES)
                expected = ", ".join(LANGUAGES)
                message = f"unknown language {quote(lang)}{hint}; use {expected}"
                if self.value(value_node) is None and " " in lang:
                    # ``{en: a, b}`` splits at the comma: "b" becomes a key.
                    message += " (quote a text that contains a comma)"
                self.fail(lang_path, value_node, message)
                continue
            text = self.text(value_node, lang_path)
            if text is not None:
                texts[lang] = text
        if not entries:
            self.fail(path, node, "must give the text in at least one language")
        return Label.of(**texts) if texts else None

    def duration(self, node: Node, path: str) -> Duration | None:
        """``{days: n, working_days: n, hours: n}``, any subset, none negative."""
        if not isinstance(node, MappingNode):
            units = ", ".join(DURATION_UNITS)
            self.fail(path, node, f"must be a mapping of {units}, not {self.describe(node)}")
            return None
        before = len(self.problems.items)
        entries = self.mapping(node, path, optional=DURATION_UNITS, what="duration unit") or {}
        amounts = {
            unit: self.integer(value, join(path, unit), low=0, cap=DURATION_MAX[unit])
            for unit, value in entries.items()
        }
        if len(self.problems.items) > before:
            return None
        return Duration(**{unit: amount for unit, amount in amounts.items() if amount is not None})
