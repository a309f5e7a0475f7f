"""Reading dockyard.yml: YAML with line numbers, validation, and errors that name field and line."""

from __future__ import annotations

import stat
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dockyard.config import limits
from dockyard.config.models import Config
from dockyard.errors import ConfigError
from dockyard.rules import clipped, shown

DEFAULT_PATH = Path("dockyard.yml")
EXAMPLE_SOURCE = "the bundled example"
_STARTER_DEFAULTS = {"name": "acme", "region": "ap-southeast-2", "domain": "example.com"}

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from."""

    config: Config
    source: str
    is_example: bool = False


def starter_text(name: str = "acme", region: str = "ap-southeast-2",
                 domain: str = "example.com") -> str:
    """The commented starter dockyard.yml that ``dockyard init`` writes."""
    template = resources.files("dockyard.config").joinpath("starter.yml").read_text("utf-8")
    return string.Template(template).substitute(name=name, region=region, domain=domain)


def find_config(start: Path | None = None) -> Path | None:
    """The dockyard.yml that applies in ``start`` (the current folder): there, else in the
    nearest parent that has one, as git finds its repository. The search stops at the top of
    a git work tree (a folder with ``.git``), so a project never picks up a stray file from
    above its checkout, and at the filesystem root."""
    here = Path.cwd().resolve()
    folder = (start or here).resolve()
    for candidate in (folder, *folder.parents):
        found = candidate / DEFAULT_PATH.name
        if found.is_file():
            return DEFAULT_PATH if candidate == here else found
        if (candidate / ".git").exists():
            return None
    return None


def load_config(path: Path | None, *, allow_example: bool = False) -> LoadedConfig:
    """Load ``path``; without one, the dockyard.yml :func:`find_config` finds; without that,
    the bundled example when ``allow_example`` (``plan``), else a usage error."""
    if path is None:
        path = find_config()
        if path is None:
            if allow_example:
                return LoadedConfig(parse_config(starter_text(**_STARTER_DEFAULTS),
                                                 EXAMPLE_SOURCE), EXAMPLE_SOURCE, is_example=True)
            raise ConfigError([f"no dockyard.yml in {_named(Path.cwd())} or the folders above "
                               "it"], hint="run `dockyard init` to write one, or pass --config "
                                           "FILE (or set DOCKYARD_CONFIG)")
    return LoadedConfig(parse_config(read_config_text(path), _named(path)), str(path))


def _named(path: Path) -> str:
    """``path`` as messages name it: whole unless absurdly long (a path may be 4 KiB)."""
    return clipped(str(path), PATH_SHOWN)


PATH_SHOWN = 200


def read_config_text(path: Path) -> str:
    """The text of ``path``: a regular file of at most :data:`limits.CONFIG_BYTES`, in UTF-8.

    A named pipe, a device (``/dev/zero``) or a directory is refused before it is opened, so
    nothing blocks and nothing is read without bound.
    """
    name = _named(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError([f"{name}: no such file"],
                          hint="run `dockyard init` to write a starter dockyard.yml") from None
    except OSError as err:
        raise ConfigError([f"{name}: cannot read it: {err.strerror or err}"]) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError([f"{name}: not a regular file (a dockyard.yml is a file, not a "
                           f"{_kind(info.st_mode)})"])
    if info.st_size > limits.CONFIG_BYTES:
        raise ConfigError([f"{name}: {info.st_size:,} bytes; a dockyard.yml may be at most "
                           f"{limits.CONFIG_BYTES:,}"])
    try:
        with path.open("rb") as file:
            data = file.read(limits.CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError([f"{name}: cannot read it: {err.strerror or err}"]) from None
    if len(data) > limits.CONFIG_BYTES:  # it grew after the check
        raise ConfigError([f"{name}: more than {limits.CONFIG_BYTES:,} bytes"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ConfigError([f"{name}:{line}: not UTF-8 text (byte {err.start})"]) from None


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "named pipe"),
             (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
             (stat.S_ISSOCK, "socket"))
    return next((name for test, name in kinds if test(mode)), "special file")


def parse_config(text: str, source: str) -> Config:
    """Validate YAML text as a Config; every problem names its field path and line."""
    root, data = _read_yaml(text, source)
    if root is None:
        raise ConfigError([f"{source}:1: the file is empty"],
                          hint="run `dockyard init` to write a starter dockyard.yml")
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError([f"{source}:{root.start_mark.line + 1}: expected a mapping of "
                           "settings (name: ..., region: ...)"])
    lines: dict[Path_, int] = {}
    duplicates: list[str] = []
    _index_lines(root, (), lines, duplicates)
    if duplicates:
        raise ConfigError([f"{source}:{d}" for d in duplicates])
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError([_describe(e, data, lines, source) for e in err.errors()],
                          hint="`dockyard schema` prints every key and its type") from None


def _read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The YAML document as nodes (for line numbers) and as data, with PyYAML's safe types only.

    What a config never needs is refused before it can cost anything: tags (``!!python/...``,
    ``!Ref``), more than :data:`limits.YAML_ALIASES` aliases, nesting deeper than
    :data:`limits.YAML_DEPTH`, documents that expand to more than :data:`limits.YAML_NODES`
    values (an alias bomb), aliases that contain themselves, and keys that are not plain scalars.
    The first three are checked on PyYAML's event stream, which its parser makes without
    recursion, so the recursive composer never sees a document too deep for it.
    """
    try:
        _check_events(text, source)
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None, None
            _check_nodes(root, source)
            return root, loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{source}:{line}: invalid YAML: {err.problem or err.context}"]
                          ) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{source}: invalid YAML: {shown(str(err))}"]) from None


def _check_events(text: str, source: str) -> None:
    aliases = 0
    nesting = _Nesting(source)
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        nesting.see(event, line)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and not isinstance(event, yaml.DocumentStartEvent):
            raise ConfigError([f"{source}:{line}: YAML tag {shown(tag)}: dockyard.yml takes plain "
                               "values only, no tags"])
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.YAML_ALIASES:
                raise ConfigError([f"{source}:{line}: more than {limits.YAML_ALIASES} YAML "
                                   "aliases (*name); write the values out"])


class _Nesting:
    """How deep lists and mappings sit in one another, an alias counting as deep as the value
    it names (so ``b: [*a]`` cannot stack levels past the limit): the first event past
    :data:`limits.YAML_DEPTH` is refused with its line, before anything is read further."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.open: list[tuple[str | None, int]] = []  # (anchor, deepest child so far)
        self.heights: dict[str, int] = {}  # anchor -> the levels its value holds

    def see(self, event: yaml.Event, line: int) -> None:
        if isinstance(event, yaml.CollectionStartEvent):
            self._check(1, line)
            self.open.append((event.anchor, 0))
        elif isinstance(event, yaml.CollectionEndEvent) and self.open:
            anchor, deepest = self.open.pop()
            self._close(anchor, deepest + 1)
        elif isinstance(event, yaml.AliasEvent):
            height = self.heights.get(event.anchor or "", 0)
            self._check(height, line)
            self._close(None, height)
        elif isinstance(event, yaml.ScalarEvent):
            self._close(event.anchor, 0)

    def _check(self, height: int, line: int) -> None:
        if len(self.open) + height > limits.YAML_DEPTH:
            raise ConfigError([f"{self.source}:{line}: lists and mappings nested more than "
                               f"{limits.YAML_DEPTH} levels deep; a dockyard.yml needs a few"])

    def _close(self, anchor: str | None, height: int) -> None:
        if anchor is not None:
            self.heights[anchor] = height
        if self.open:
            parent, deepest = self.open[-1]
            self.open[-1] = (parent, max(deepest, height))


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Count the values the document expands to, without expanding it; refuse cycles and keys
    that are lists or mappings."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        line = node.start_mark.line + 1
        if id(node) in visiting:
            raise ConfigError([f"{source}:{line}: a YAML alias that contains itself"])
        visiting.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    raise ConfigError([f"{source}:{key.start_mark.line + 1}: a key must be a "
                                       "plain name, not a list or a mapping"])
                total += 1 + size(value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        visiting.discard(id(node))
        if total > limits.YAML_NODES:
            raise ConfigError([f"{source}:{line}: the document expands to more than "
                               f"{limits.YAML_NODES:,} values (YAML aliases?)"])
        sizes[id(node)] = total
        return total

    size(root)


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int],
                 duplicates: list[str]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                duplicates.append(f"{key_node.start_mark.line + 1}: "
                                  f"{shown_path((*path, key))}: duplicate key")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*path, key), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines, duplicates)


def _data_path(loc: tuple[Any, ...], data: Any) -> Path_:
    """The part of a pydantic error location that exists in the user's data.

    pydantic adds segments that are not keys (the union tag ``existing``, ``[key]``); dropping
    whatever the data does not have leaves the path the user wrote.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif part in ("[key]",) or not isinstance(part, str | int):
            continue
        elif isinstance(node, dict) and isinstance(part, str) and part not in _NON_KEYS:
            node = None  # a missing or unknown key: still the user's name for it
        else:
            continue
        path.append(part)
    return tuple(path)


_NON_KEYS = {"default-vpc", "existing", "create"}


def error_message(error: ErrorDetails, path: Path_ | None = None) -> str:
    """What one pydantic error says, in dockyard's words, without its location."""
    if error["type"] == "dockyard_cross":
        return str((error.get("ctx") or {})["message"])
    if path is None:
        path = tuple(p for p in error["loc"] if isinstance(p, str | int))
    return _message(error, path)


def _describe(error: ErrorDetails, data: Any, lines: dict[Path_, int], source: str) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "dockyard_cross":
        path: Path_ = tuple(ctx["path"])
    else:
        path = _data_path(error["loc"], data)
    message = error_message(error, path)
    if error["type"] == "union_tag_invalid":
        path = (*path, "mode")
    line = next((lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in lines), 1)
    where = shown_path(path) or "(top level)"
    return f"{source}:{line}: {where}: {message}"


def _message(error: ErrorDetails, path: Path_) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        # pydantic's location names the union member it chose (network's mode), the path not
        allowed, mode = _allowed_keys(
            tuple(p for p in error["loc"] if isinstance(p, str | int))[:-1])
        return "unknown key" + (f" with mode {mode}" if mode else "") + \
            (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "required, but missing"
    if kind == "union_tag_invalid":
        return f"{shown(_tag(error))} is not a network mode; use default-vpc, existing or create"
    if kind == "union_tag_not_found":
        return "needs a mode: default-vpc, existing or create"
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    if isinstance(value, dict | list) or value is None:
        return msg
    return f"{msg} (got {shown(value)})"


def _tag(error: ErrorDetails) -> str:
    return str((error.get("ctx") or {}).get("tag", ""))


def _allowed_keys(path: Path_) -> tuple[list[str], str]:
    """Field names of the section at ``path``, to suggest when a key there is unknown, and the
    mode that chose the section's model ('' when none did)."""
    models: list[type[BaseModel]] = [Config]
    in_dict, mode = False, ""
    for part in path:
        if in_dict:  # ``part`` is a key the user chose, such as an app's name
            in_dict = False
            continue
        chosen = [m for m in models if _mode_of(m) == part]
        if len(models) > 1 and chosen:  # the union member pydantic chose by its tag
            models, mode = chosen, str(part)
            continue
        fields = [m.model_fields[part] for m in models
                  if isinstance(part, str) and part in m.model_fields]
        if not fields:
            return [], ""
        models, in_dict = _models_in(fields[0].annotation)
        mode = ""
    if in_dict:
        return [], ""
    return list(dict.fromkeys(name for m in models for name in m.model_fields)), mode


def _mode_of(model: type[BaseModel]) -> Any:
    """The ``mode`` a discriminated union member is chosen by (None for other models)."""
    field = model.model_fields.get("mode")
    values = get_args(field.annotation) if field is not None else ()
    return values[0] if len(values) == 1 else None


def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    """The models an annotation holds, and whether they sit behind a dict's keys."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], False
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        return _models_in(args[1])[0], True
    found: list[type[BaseModel]] = []
    for arg in args:
        found.extend(_models_in(arg)[0])
    return found, False


def shown_path(path: Path_) -> str:
    """A field path as an error message names it, each part cut to a readable length."""
    parts = (str(p) for p in path)
    return ".".join(p if len(p) <= 40 else shown(p) for p in parts)
