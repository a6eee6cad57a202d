"""Run configuration files: ``parvox train --config-file FILE`` (JSON, or TOML on Python 3.11+).

The keys are :class:`parvox.train.TrainConfig`'s fields, so a run's own ``RUN/config.json``
is a valid file; ``model_overrides`` holds :class:`parvox.models.config.ModelConfig` fields.
Every key and type is checked against those dataclasses: an unknown key (a typo) or a value of
the wrong type is one :class:`DataError` naming the file and the key, never ignored.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parvox.errors import DataError


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The top-level table of a ``.json`` or ``.toml`` file."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "config file not found") from None
    except OSError as exc:
        raise DataError(path, f"cannot read config file ({exc.strerror})") from None
    if path.suffix == ".toml":
        data = _parse_toml(path, text)
    elif path.suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(path, f"not valid JSON: {exc}") from None
    else:
        raise DataError(path, f"unsupported config file extension {path.suffix!r} "
                        "(use .json or .toml)")
    if not isinstance(data, dict):
        raise DataError(path, f"expected a table of settings, got {type(data).__name__}")
    return data


def _parse_toml(path: Path, text: bytes) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        raise DataError(path, "TOML config files need Python 3.11+; use JSON") from None
    try:
        return tomllib.loads(text.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(path, f"not valid TOML: {exc}") from None


def checked_fields(data: Mapping[str, Any], cls: type, path: str | os.PathLike[str],
                   prefix: str = "") -> dict[str, Any]:
    """``data`` as keyword arguments of the dataclass ``cls``: keys and types checked, lists
    turned into tuples where the field is a tuple. ``prefix`` names nested tables in errors."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    out = {}
    for key, value in data.items():
        if key not in hints:
            raise DataError(path, f"unknown key {prefix + key!r} (known keys: "
                            f"{', '.join(names)})")
        out[key] = _checked(value, hints[key], path, prefix + key)
    return out


def _checked(value: Any, hint: Any, path: str | os.PathLike[str], key: str) -> Any:
    """``value`` if it has type ``hint`` (lists become tuples); else a DataError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _checked(value, option, path, key)
            except DataError:
                continue
    elif hint is type(None):
        if value is None:
            return None
    elif hint is bool or hint is str:
        if isinstance(value, hint):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif origin is tuple:
        if isinstance(value, (list, tuple)) and _tuple_length_ok(len(value), args):
            items = args[:1] * len(value) if args[-1:] == (Ellipsis,) else args
            try:
                return tuple(_checked(v, t, path, key) for v, t in zip(value, items, strict=True))
            except DataError:
                pass  # reported for the whole list below
    elif hint is Any or (origin is dict and isinstance(value, dict)):
        return value
    raise DataError(path, f"{key!r} must be {_describe(hint)}, got {json.dumps(value)}")


def _tuple_length_ok(n: int, args: tuple[Any, ...]) -> bool:
    return n >= 1 if args[-1:] == (Ellipsis,) else n == len(args)


def _describe(hint: Any) -> str:
    """A reader's name for a type hint: 'an integer', 'a list of 2 integers', ..."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        if args[-1:] == (Ellipsis,):
            return f"a list of {_describe(args[0]).split(' ', 1)[1]}s"
        return f"a list of {len(args)} {_describe(args[0]).split(' ', 1)[1]}s"
    if origin is dict:
        return "a table"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            type(None): "null"}.get(hint, str(hint))
