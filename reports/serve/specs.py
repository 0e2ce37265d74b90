r"""The network spec a request describes, as the TOML file the commands read.

A request gives a spec's text (the ``Network spec`` textarea, or the API's ``spec`` field)
and, optionally, the flags of ``python -m derive mlp`` (sizes, activation, loss, …).  The flags
are written into the spec's tables — ``[network]`` for the network, ``[output]`` for notation,
layout, form and batch — so that every command run on the request (``derive mlp``, ``reports
build``, ``verify gradient``) reads one and the same file.

>>> print(spec_text(DEFAULT_SPEC), end="")
[network]
sizes = [2, 3, 1]
activation = "sigmoid"
loss = "bce"
convention = "rows"
reduction = "mean"
>>> print(with_overrides('[network]\nsizes = [2, 3, 1]\nactivation = "tanh"\nloss = "mse"\n',
...                      {"activations": "relu,sigmoid", "layout": "denominator"}), end="")
[network]
sizes = [2, 3, 1]
loss = "mse"
activations = ["relu", "sigmoid"]
<BLANKLINE>
[output]
layout = "denominator"
"""

from __future__ import annotations

import json
import re
import tomllib

from derive.cli import split_top_level
from derive.spec import DEFAULT_SPEC

__all__ = ["DEFAULT_SPEC", "DEFAULT_SPEC_TEXT", "NETWORK_KEYS", "OUTPUT_KEYS", "is_graph",
           "spec_text", "with_overrides"]

#: The flags that go into ``[network]`` and into ``[output]``.
NETWORK_KEYS = ("sizes", "depth", "activation", "activations", "loss", "convention", "reduction")
OUTPUT_KEYS = ("notation", "layout", "form", "batch")
#: Keys that replace one another: giving the first drops the others from the spec.
_EXCLUSIVE = {"activation": ("activations",), "activations": ("activation",),
              "sizes": ("depth",), "depth": ("sizes",)}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)      # a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for a value of type {type(value).__name__}")


def spec_text(data: dict) -> str:
    """``data`` (what ``tomllib`` reads) as TOML text: its tables in order, nested tables
    under dotted headers."""
    out: list[str] = []

    def table(name: str, entries: dict) -> None:
        plain = {k: v for k, v in entries.items() if not isinstance(v, dict)}
        if plain or not entries:
            if out:
                out.append("")
            out.append(f"[{name}]")
            out.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
        for key, value in entries.items():
            if isinstance(value, dict):
                table(f"{name}.{_key(key)}", value)

    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    out += [f"{_key(k)} = {_value(v)}" for k, v in top.items()]
    for key, value in data.items():
        if isinstance(value, dict):
            table(_key(key), value)
    return "\n".join(out) + "\n"


DEFAULT_SPEC_TEXT = spec_text(DEFAULT_SPEC)


def _flag_value(key: str, value):
    """A flag's text as the spec's value: sizes and activations split at commas (top-level
    commas only: ``Max(x/10, x),sigmoid`` is two), sizes that are digits as integers,
    ``batch`` a boolean."""
    if key == "batch":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "on",
                                                                            "yes")
    if key not in ("sizes", "activations") or not isinstance(value, str):
        return value
    parts = split_top_level(value)
    if key == "sizes":
        return [int(p) if p.isdigit() else p for p in parts]
    return parts


def with_overrides(text: str, overrides: dict) -> str:
    """The spec ``text`` with the flags ``overrides`` (name → value; ``None`` or ``""``: not
    given) written into its tables.  Text that is not TOML is returned as it is: the command
    that reads it names the line that is wrong."""
    given = {k: v for k, v in overrides.items() if v not in (None, "")}
    if not given:
        return text
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text
    for key, value in given.items():
        table = "network" if key in NETWORK_KEYS else "output"
        section = data.setdefault(table, {})
        if not isinstance(section, dict):
            return text
        for other in _EXCLUSIVE.get(key, ()):
            section.pop(other, None)
        section.pop(key, None)
        section[key] = _flag_value(key, value)
    return spec_text(data)


def is_graph(text: str) -> bool:
    """Whether ``text`` is a computation-graph spec (a ``[graph]`` table)."""
    try:
        return "graph" in tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
