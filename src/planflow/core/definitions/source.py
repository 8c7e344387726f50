"""A definition's source, read within limits that a broken or hostile file cannot break.

Owns the two steps before the loader looks at any key: reading the file's
bytes and composing its YAML into nodes. Each has a way to take a process
down without limits: a huge file (time and memory), a symbolic link out of
the workflows folder (its target's content ends up in error messages), deep
nesting (PyYAML's composer is recursive: a RecursionError), aliases that
stand for far more than the file holds, and characters YAML refuses (a
``ReaderError`` without a line). Here every one of them becomes a single
``DefinitionProblem`` with a line and column where there is one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from planflow.core.definitions.nodes import DOCUMENT, clip
from planflow.errors import DefinitionProblem

#: The largest definition file read (a real one is a few KiB).
MAX_BYTES = 1024 * 1024
#: Lists and mappings inside each other, at most (a real definition needs about 6).
MAX_DEPTH = 64
#: Values (scalars, lists, mappings) in one file, at most (a real definition has about 1,000).
MAX_NODES = 50_000
#: How many values the aliases (``*name``) of one file may stand for, all together.
MAX_ALIASED_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class SourceProblem(Exception):
    """The file or its YAML cannot be read at all: ``problem`` says why, and where."""

    def __init__(self, problem: DefinitionProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _whole_file(message: str, line: int | None = None, column: int | None = None) -> SourceProblem:
    return SourceProblem(DefinitionProblem(DOCUMENT, line, message, column))


def too_large(size: int) -> SourceProblem:
    return _whole_file(f"file is {size} bytes; at most 1 MiB ({MAX_BYTES} bytes)")


def read_bytes(path: Path, folder: Path | None = None) -> bytes:
    """The file's bytes, at most ``MAX_BYTES`` of them.

    With ``folder``, a path that leads outside it (a symbolic link to
    elsewhere) is refused without being opened.
    """
    if folder is not None:
        try:
            inside = path.resolve(strict=True).is_relative_to(folder.resolve(strict=True))
        except OSError as exc:
            raise _whole_file(f"cannot read the file: {exc.strerror or exc}") from None
        except RuntimeError:  # a loop of symbolic links (Python < 3.13)
            raise _whole_file("cannot read the file: a loop of symbolic links") from None
        if not inside:
            raise _whole_file(
                f"a symbolic link to a file outside {folder}; not followed "
                "(keep the file itself in the folder)"
            )
    try:
        # Non-blocking: opening a named pipe for reading would wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise _whole_file("not a regular file")
            if info.st_size > MAX_BYTES:
                raise too_large(info.st_size)
            data = f.read(MAX_BYTES + 1)  # it may have grown since fstat
    except OSError as exc:
        raise _whole_file(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise too_large(max(len(data), info.st_size))
    return data


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


class _Limit(yaml.MarkedYAMLError):
    """A limit of this module, raised while composing (with the mark where it was hit)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _SafeLoader(Composer, CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser (fast), PyYAML's composer (ours to limit) and
        safe constructor: the nodes, marks and values of ``yaml.SafeLoader``."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml: all in Python, slower

    class _SafeLoader(yaml.SafeLoader):  # type: ignore[no-redef]
        pass


#: What YAML does not allow in a document (PyYAML's own rule), checked before parsing.
_NOT_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


class DefinitionLoader(_SafeLoader):
    """A safe loader composing within ``MAX_DEPTH``, ``MAX_NODES`` and ``MAX_ALIASED_NODES``.

    Also refuses an alias inside the very list or mapping it names (a
    recursive node, which nothing in a definition needs) and merge keys
    (``<<``) chained deeper than ``MAX_DEPTH``.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._open_anchors: set[str] = set()
        #: id(node) -> how many nodes it stands for, its aliases expanded.
        self._sizes: dict[int, int] = {}
        #: id(mapping) -> how many mappings its merge keys chain through.
        self._merge_depth: dict[int, int] = {}
        self._aliased = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open_anchors:
                raise _Limit(
                    f"the alias *{clip(event.anchor, 60)} is inside the list or mapping it names",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            self._aliased += self._sizes.get(id(node), 1)
            if self._aliased > MAX_ALIASED_NODES:
                raise _Limit(
                    f"the aliases stand for more than {MAX_ALIASED_NODES} values; "
                    "write the definition out instead",
                    event.start_mark,
                )
            return node
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Limit(
                f"the file holds more than {MAX_NODES} values; a definition needs far fewer",
                event.start_mark,
            )
        collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if collection and self._depth >= MAX_DEPTH:
            raise _Limit(
                f"lists and mappings nested more than {MAX_DEPTH} levels deep", event.start_mark
            )
        anchor = event.anchor if collection else None
        if anchor is not None:
            self._open_anchors.add(anchor)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)
        if isinstance(node, SequenceNode):
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(n), 1) for n in node.value)
        elif isinstance(node, MappingNode):
            self._sizes[id(node)] = 1 + sum(
                self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value
            )
            self._check_merges(node)
        return node

    def _check_merges(self, node: MappingNode) -> None:
        depth = 0
        for key, value in node.value:
            if key.tag != _MERGE_TAG:
                continue
            merged = value.value if isinstance(value, SequenceNode) else [value]
            for m in merged:
                depth = max(depth, self._merge_depth.get(id(m), 0))
        if depth:
            if depth >= MAX_DEPTH:
                raise _Limit(
                    f"merge keys (<<) chained through more than {MAX_DEPTH} mappings",
                    node.start_mark,
                )
            self._merge_depth[id(node)] = depth + 1
        else:
            self._merge_depth[id(node)] = 1


def compose(text: str) -> tuple[DefinitionLoader, Node | None]:
    """The loader (for constructing scalars later; dispose of it) and the root node."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line, column = _position(text, bad.start())
        message = f"the character U+{ord(bad.group()):04X} is not allowed in YAML; remove it"
        raise _whole_file(message, line, column)
    loader = DefinitionLoader(text)
    try:
        return loader, loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        loader.dispose()
        mark = exc.problem_mark or exc.context_mark
        if isinstance(exc, _Limit):
            message = str(exc.problem)
        else:
            message = f"YAML syntax error: {exc.problem or exc.context or exc}"
            if exc.problem and exc.context and exc.context_mark:
                # "while parsing a flow mapping": where the unclosed thing began
                message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        if mark is None:
            raise _whole_file(clip(message)) from None
        raise _whole_file(clip(message), mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:  # no position to give
        loader.dispose()
        raise _whole_file(clip(f"YAML syntax error: {exc}")) from None
    except RecursionError:  # not expected within MAX_DEPTH; never a traceback
        loader.dispose()
        raise _whole_file(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
