"""Reading a catalog's files safely: text of bounded size inside the catalog folder, and YAML
with line numbers and bounded aliases and nesting. Every problem is a ``CatalogError`` that
names the file (and the line where one is known).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from skillcheck.text import clean_data, clean_text

# Every file read from a catalog (SKILL.md, references, YAML) is refused above this size: a
# document is sent whole with every task. The web app and commands pass their setting.
DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# And a skill's files together (SKILL.md and every reference file, all sent with each task)
# above this: 640 KiB is about 164,000 tokens at 4 bytes a token, which leaves a 200,000-token
# context window room for the system prompt, the scenario and the answer.
DEFAULT_MAX_SKILL_BYTES = 640 * 1024
# YAML limits: aliases may not expand a file beyond this many values (an "alias bomb" of a few
# lines otherwise takes gigabytes), and nesting stops here (instead of a RecursionError).
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 64


class CatalogError(Exception):
    """A catalog file is unusable; the message names the file and what is wrong."""

    def __init__(
        self, path: Path | str, problem: str, line: int | None = None, column: int | None = None
    ):
        self.path = Path(path)
        self.problem = problem
        self.line = line
        # 1-based, where known (YAML syntax errors): the scenario editor puts the caret there.
        self.column = column if line else None
        # The catalog folder being loaded (set by ``load_catalog``), so a page can name the
        # file relative to it instead of showing the server's layout.
        self.root: Path | None = None
        where = f"{self.path}:{line}" if line else str(self.path)
        where += f":{self.column}" if self.column else ""
        super().__init__(f"{where}: {problem}")


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links followed, is ``folder`` itself or lies under it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def require_inside(path: Path, root: Path) -> Path:
    """``path`` if, links followed, it lies inside the catalog folder ``root``; else a
    ``CatalogError``: a catalog file linked to somewhere else (``/etc``, a secret beside the
    catalog) would be read and its text shown or sent to models."""
    if not is_inside(path, root):
        raise CatalogError(
            path,
            f"links outside the catalog folder (to {path.resolve()}); every catalog file "
            "must lie inside the catalog folder",
        )
    return path


# --- YAML with line numbers and limits ------------------------------------------------------


class YAMLLimitError(yaml.YAMLError):
    """A YAML file over a limit; shaped like PyYAML's errors (``problem``, ``problem_mark``)."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _LineDict(dict):
    line: int | None = None
    # The line of each key, so a message about one value points at it (``key_line``).
    key_lines: dict[Any, int] = {}  # replaced per instance, never mutated


def key_line(mapping: Any, key: str) -> int | None:
    """The line of ``key`` in a mapping read from a catalog file, else the mapping's line."""
    return getattr(mapping, "key_lines", {}).get(key) or getattr(mapping, "line", None)


class _Limits:
    """Composition with aliases and nesting bounded (``YAMLLimitError``), for any loader.

    Composition counts every value, an alias counting as the whole value it repeats, so
    nested aliases that would expand a short file to billions of values stop at
    ``MAX_YAML_VALUES``; composition recurses per level, so nesting stops at ``MAX_YAML_DEPTH``.
    """

    def _reset_limits(self) -> None:
        self._depth = 0
        self._values = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def _count(self, values: int, mark: Any) -> None:
        self._values += values
        if self._values > MAX_YAML_VALUES:
            raise YAMLLimitError(
                f"aliases expand this file beyond {MAX_YAML_VALUES:,} values (an alias bomb?)",
                mark,
            )

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)  # type: ignore[misc]
            size = self._sizes.get(id(node))
            if size is None:
                raise YAMLLimitError(
                    "an alias refers to a value that contains it", event.start_mark
                )
            self._count(size, event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise YAMLLimitError(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in children)
        self._count(1, event.start_mark)
        return node


class LimitedLoader(_Limits, yaml.SafeLoader):
    """PyYAML's safe loader with aliases and nesting bounded (see ``_Limits``)."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._reset_limits()


def safe_yaml_load(text: str) -> Any:
    """``yaml.safe_load`` with the limits of ``LimitedLoader``, for YAML outside the catalog
    files (SKILL.md frontmatter)."""
    return yaml.load(text, Loader=LimitedLoader)


class _LineMappings(yaml.constructor.SafeConstructor):
    """Mappings that remember the line they start on, for messages."""

    def construct_mapping(self, node: Any, deep: bool = False) -> _LineDict:
        mapping = _LineDict(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            key.value: key.start_mark.line + 1
            for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)
        }
        return mapping


class _LineLoader(_LineMappings, LimitedLoader):
    """A limited safe loader whose mappings remember their line: pure Python."""


_LineLoader.add_constructor(  # type: ignore[type-var]  # the stubs know only PyYAML's loaders
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)

_FastLineLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLineLoader(
        _LineMappings,
        _Limits,
        yaml.composer.Composer,
        CParser,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """``_LineLoader`` with libyaml scanning and parsing: the same limits and line
        numbers (composition stays in Python), a quarter of the time on a large catalog."""

        def __init__(self, stream: Any):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._reset_limits()

    _CLineLoader.add_constructor(  # type: ignore[type-var]
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _CLineLoader.construct_mapping
    )
    _FastLineLoader = _CLineLoader


def read_text(path: Path, max_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES) -> str:
    """Read a UTF-8 file of at most ``max_bytes``; any problem is a ``CatalogError`` naming it.

    NUL becomes U+FFFD (``skillcheck.text``): catalog text reaches the database and reports.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise CatalogError(path, "file not found") from None
    except OSError as exc:
        raise CatalogError(path, f"cannot be read ({exc.strerror or exc})") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise CatalogError(
            path,
            f"file is larger than the limit of {max_bytes:,} bytes for a catalog document "
            "(SKILLCHECK_MAX_DOCUMENT_BYTES)",
        )
    try:
        return clean_text(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(path, f"not valid UTF-8 (byte {exc.start})") from None


def _parse_yaml(text: str) -> Any:
    """A catalog file's YAML: with libyaml if PyYAML has it, else (or if libyaml refuses the
    text) in pure Python, whose verdict decides: libyaml refuses some text PyYAML reads (a
    surrogate escape such as "\\ud800") and stops nesting at its own depth."""
    if _FastLineLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLineLoader)
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=_LineLoader)


def check_text_size(path: Path, text: str, max_bytes: int | None) -> str:
    """``text`` (not yet on disk) cleaned as ``read_text`` cleans a file's, or the
    ``CatalogError`` ``read_text`` would raise for it once written."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if max_bytes is not None and size > max_bytes:
        raise CatalogError(
            path,
            f"file is larger than the limit of {max_bytes:,} bytes for a catalog document "
            "(SKILLCHECK_MAX_DOCUMENT_BYTES)",
        )
    return clean_text(text)


def load_yaml(
    path: Path, max_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES, text: str | None = None
) -> Any:
    """The YAML of ``path``, or of ``text`` as if ``path`` held it (a file about to be
    written: the scenario editor checks it before saving)."""
    text = read_text(path, max_bytes) if text is None else check_text_size(path, text, max_bytes)
    try:
        # YAML escapes ("\0", "\ud800") make what the file's bytes could not hold.
        return clean_data(_parse_yaml(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(path, f"invalid YAML: {problem}", line, column) from None
