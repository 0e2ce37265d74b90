"""Network specs: TOML files (SPEC §4) and plain Python dicts → :class:`~derive.network.Network`.

.. code-block:: toml

    [network]
    sizes = [2, 3, 1]
    activation = "sigmoid"          # or per layer: activations = ["tanh", "sigmoid"]
    loss = "bce"                    # or an expression of yhat and y: "log(cosh(yhat - y))"
    convention = "rows"             # rows | columns | augmented
    reduction = "mean"              # mean | sum

    [activations.swish]             # user-defined: any SymPy expression of x
    expr = "x / (1 + exp(-x))"
    latex = "\\\\operatorname{swish}"
    derivative = "..."              # optional textbook form, checked against sympy.diff

    [losses.logcosh]                # user-defined loss: any SymPy expression of yhat and y
    expr = "log(cosh(yhat - y))"
    targets = "real"                # real | binary | sign | simplex

    [output]
    notation = "cs229"
    layout = "numerator"

Every error names the file, the line and the key.
"""

from __future__ import annotations

import operator
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .activations import custom as custom_activation
from .calculus.result import LAYOUTS
from .errors import BadInput
from .losses import custom as custom_loss
from .api import FORMS
from .network import CONVENTIONS
from .network import (MAX_CONCRETE_PARAMETERS, REDUCTIONS, Network, check_pairing, mlp,
                      parameter_count, resolve_activations, resolve_loss)
from .notation import get_profile
from .printing.mathml import check_symbol

_KEYS = {
    "network": {"sizes", "activation", "activations", "loss", "convention", "reduction", "depth"},
    "output": {"notation", "layout", "form", "batch"},
    "activations.*": {"expr", "latex", "derivative"},
    "losses.*": {"expr", "latex", "targets"},
}
_TABLES = {"network", "output", "activations", "losses", "graph", "notation"}
#: The most weights and biases of integer sizes in the matrix form: its rules (and generated
#: code) are checked numerically at those sizes, on arrays of that many entries.
MAX_CHECKED_PARAMETERS = 10_000_000
_SIZE_NAME = re.compile(r"[0-9]+|[A-Za-z][A-Za-z0-9_{}]*")
_TOML_TYPES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
               list: "an array", dict: "a table"}
DEFAULT_SPEC = {"network": {"sizes": [2, 3, 1], "activation": "sigmoid", "loss": "bce",
                            "convention": "rows", "reduction": "mean"}}


class _Locator:
    """Finds the line of a key in the TOML text, for error messages."""

    def __init__(self, path: str, text: str):
        self.path, self.lines = path, text.splitlines()

    def top(self, key: str) -> str:
        """``file:line`` of a top-level ``key = ...`` (before the first table header)."""
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*[=.]")
        for i, line in enumerate(self.lines):
            if line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return f"{self.path}:{i + 1}"
        return self.path

    def where(self, table: str, key: str | None = None) -> str:
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*")
                            + r"\s*\]")
        start = next((i for i, line in enumerate(self.lines) if header.match(line)), None)
        if start is None:
            return f"{self.path}: [{table}]" + (f" {key}" if key else "")
        if key is None:
            return f"{self.path}:{start + 1}: [{table}]"
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for i in range(start + 1, len(self.lines)):
            if self.lines[i].lstrip().startswith("["):
                break
            if pattern.match(self.lines[i]):
                return f"{self.path}:{i + 1}: [{table}] {key}"
        return f"{self.path}:{start + 1}: [{table}] {key}"


@dataclass(frozen=True)
class Spec:
    """A spec file's network and its ``[output]`` choices of form and batch."""

    network: object
    form: str | None = None
    batch: bool = False


def load_spec(source: str | Path | dict, **overrides) -> Network:
    """A Network from a TOML file path or a dict of the same structure.

    ``overrides`` replace keys of ``[network]`` / ``[output]`` (the command-line flags).
    Sizes may be integers, names (``["n_0", "n_1"]``) or ``depth = "L"``: one
    :class:`~derive.network.Network` type serves them all.

    >>> load_spec({"network": {"sizes": [2, 2, 1], "activation": "tanh", "loss": "mse"}}).sizes
    (2, 2, 1)
    """
    return read_spec(source, **overrides).network


def read_spec(source: str | Path | dict, **overrides) -> Spec:
    """The :class:`Spec` of a TOML file path or dict: the network plus ``form`` and ``batch``."""
    if isinstance(source, dict):
        data, locate = source, _Locator("<spec>", "")
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise BadInput("not a UTF-8 text file", str(path)) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            place = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            where = f"{path}:{place.group(1)}:{place.group(2)}" if place else str(path)
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
            raise BadInput(f"malformed TOML: {message}", where) from None
        locate = _Locator(str(path), text)
    network = build_network(data, locate, overrides)
    output = {**data.get("output", {}), **{k: v for k, v in overrides.items()
                                           if k in ("form", "batch") and v is not None}}
    return Spec(network=network, form=output.get("form"), batch=bool(output.get("batch", False)))


def build_network(data: dict, locate: _Locator, overrides: dict) -> Network:
    for table, value in data.items():
        if table not in _TABLES:
            raise BadInput(f"unknown table [{table}]; known: {', '.join(sorted(_TABLES))}",
                           locate.where(table))
        if not isinstance(value, dict):
            raise BadInput(f"{table} must be a table ([{table}]), got {_kind(value)}",
                           locate.top(table))
    if "graph" in data and "network" not in data:
        raise BadInput("this spec describes a computation graph; use `python -m derive graph`",
                       locate.where("graph"))
    network = dict(data.get("network", {}))
    output = dict(data.get("output", {}))
    _check_keys(network, "network", locate)
    _check_keys(output, "output", locate)
    for key, value in overrides.items():
        if value is not None:
            (output if key in _KEYS["output"] else network)[key] = value
    if "sizes" not in network and "depth" not in network:
        raise BadInput("missing key 'sizes' (e.g. sizes = [2, 3, 1], or [\"n_0\", \"n_1\", "
                       "\"n_2\"], or depth = \"L\")", locate.where("network"))
    activations = _custom_activations(data.get("activations", {}), locate)
    losses = _custom_losses(data.get("losses", {}), locate)
    layout = output.get("layout", "numerator")
    if layout not in LAYOUTS:
        raise BadInput(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}",
                       locate.where("output", "layout"))
    form = output.get("form")
    if form is not None and form not in FORMS:
        raise BadInput(f"unknown form {form!r}; known: {', '.join(FORMS)}",
                       locate.where("output", "form"))
    if not isinstance(output.get("batch", False), bool):
        raise BadInput("batch must be true or false", locate.where("output", "batch"))
    notation = get_profile(output.get("notation", "ensimag"), _notation_overrides(data, locate),
                           locate.where("output", "notation"))
    where = {key: _where(locate, overrides, key) for key in _KEYS["network"]}
    size_key = "depth" if "depth" in network else "sizes"
    sizes = _read_sizes(network.get("sizes"), where["sizes"])
    symbolic = "depth" in network or any(isinstance(n, str) for n in sizes or ())
    common = dict(**_checked_choices(network, where, sizes, activations, losses),
                  notation=notation, layout=layout)
    if symbolic and form == "concrete":
        raise BadInput("symbolic sizes or depth have only the matrix form; drop "
                       "form = \"concrete\" or give integer sizes", where[size_key])
    if not symbolic:
        if form == "matrix" or output.get("batch"):
            _check_checkable(sizes, where["sizes"])
        else:
            _check_concrete(sizes, where["sizes"])
    return mlp(sizes if "depth" not in network else None, depth=network.get("depth"),
               where=where[size_key], **common)


def _check_concrete(sizes, where: str) -> None:
    """Refuse integer sizes too large for the per-entry (concrete) form, pointing at the
    matrix form."""
    count = parameter_count(sizes)
    if count > MAX_CONCRETE_PARAMETERS:
        raise BadInput(
            f"sizes {'-'.join(map(str, sizes))} have {count:,} weights and biases; the concrete "
            f"form builds one SymPy symbol for each and is limited to "
            f"{MAX_CONCRETE_PARAMETERS:,}: use the matrix form (--form matrix, or form = "
            "\"matrix\" in [output]), which builds no per-entry symbols", where)


def _kind(value) -> str:
    """``an integer``, ``a string``, … : a TOML value's type as a reader names it."""
    return next((name for kind, name in _TOML_TYPES.items() if type(value) is kind),
                f"a {type(value).__name__}")


def _read_sizes(value, where: str) -> list | None:
    """``sizes`` as a list of ints (any integral type) and names, or ``None`` without it."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise BadInput(f"sizes must be an array of integers or names such as [2, 3, 1] or "
                       f"[\"n_0\", \"n_1\"], got {_kind(value)}", where)
    out = []
    for n in value:
        if isinstance(n, str):
            if not _SIZE_NAME.fullmatch(n.strip()):
                raise BadInput(f"size {n!r} is neither an integer nor a name such as n_1", where)
            if not n.strip().isdigit():
                out.append(n)
                continue
            n = int(n)
        try:
            if isinstance(n, bool):
                raise TypeError
            out.append(operator.index(n))
        except TypeError:
            shown = str(n).lower() if isinstance(n, bool) else repr(n)
            raise BadInput(f"size {shown} is not an integer or a name (sizes must be integers "
                           "≥ 1 such as [2, 3, 1] or names such as [\"n_0\", \"n_1\"])",
                           where) from None
        if out[-1] < 1:
            raise BadInput(f"size {out[-1]} is < 1 (sizes {list(value)})", where)
    if len(out) < 2:
        raise BadInput(f"sizes needs at least an input and an output size, got {out}", where)
    return out


def _check_checkable(sizes, where: str) -> None:
    """Refuse integer sizes too large for the numeric check of the matrix form."""
    if not sizes or not all(isinstance(n, int) for n in sizes):
        return
    count = parameter_count(sizes)
    if count > MAX_CHECKED_PARAMETERS:
        raise BadInput(f"sizes {'-'.join(map(str, sizes))} have {count:,} weights and biases; "
                       "the matrix form is checked numerically at integer sizes and allows at "
                       f"most {MAX_CHECKED_PARAMETERS:,}: give names (n_0,n_1,…), whose rules "
                       "hold at every size", where)


def _checked_choices(network: dict, where: dict, sizes, activations: dict,
                     losses: dict) -> dict:
    """The activations, loss, convention and reduction of ``[network]`` as entries, each
    checked with the location of its own key, and their pairing."""
    convention = network.get("convention", "rows")
    if convention not in CONVENTIONS:
        raise BadInput(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}",
                       where["convention"])
    reduction = network.get("reduction", "mean")
    if reduction not in REDUCTIONS:
        raise BadInput(f"unknown reduction {reduction!r}; known: {', '.join(REDUCTIONS)}",
                       where["reduction"])
    key = "activations" if network.get("activations") is not None else "activation"
    given_depth = network.get("depth")
    if "depth" not in network:
        depth = len(sizes) - 1
    elif isinstance(given_depth, int) and not isinstance(given_depth, bool):
        depth = given_depth          # an integer depth is sizes n_0, …, n_depth
    else:
        depth = 2                    # a symbolic depth: [hidden, output]
    if key == "activations":
        specs = network["activations"]
        if isinstance(specs, str):
            raise BadInput(f"activations must be a list of names, got a string; use "
                           f'activation = "{specs}" for every layer', where[key])
        if not isinstance(specs, (list, tuple)):
            raise BadInput(f"activations must be a list of names, got {_kind(specs)}",
                           where[key])
        specs = list(specs)
        if depth >= 1 and len(specs) != depth:
            expected = ("[hidden, output] of a symbolic depth" if "depth" in network
                        and depth == 2 and not isinstance(given_depth, int) else f"{depth} layers")
            raise BadInput(f"{len(specs)} activations given for {expected}", where[key])
    else:
        specs = [network.get("activation", "sigmoid")] * max(depth, 1)
    acts = resolve_activations(specs, where[key], activations)
    loss = resolve_loss(network.get("loss", "bce"), where["loss"], losses)
    last = sizes[-1] if sizes and isinstance(sizes[-1], int) and sizes[-1] >= 1 else 2
    check_pairing(acts[-1], loss, last, _pairing_where(network, where, key))
    return dict(activations=acts, loss=loss, convention=convention, reduction=reduction)


def _where(locate: _Locator, overrides: dict, key: str) -> str:
    """Where a [network] value came from: the command-line flag that set it, or the file."""
    if overrides.get(key) is not None:
        return f"--{key}"
    return locate.where("network", key)


def _pairing_where(network: dict, where: dict, key: str) -> str:
    """Where an output activation and a loss that do not go together were given: the flags
    that set them, else the loss's line in the file (or the activation's, without a loss)."""
    flags = [where[k] for k in (key, "loss") if where[k].startswith("--")]
    if flags:
        return "/".join(flags)
    return where["loss" if "loss" in network else key]


def _notation_overrides(data: dict, locate: _Locator) -> dict:
    """A spec's ``[notation]`` table: templates that replace the profile's, in the one
    placeholder syntax of :func:`derive.naming.fill` (``W = "\\Theta{l}"``, ``{l}`` the
    decorated layer index)."""
    table = data.get("notation", {})
    if not isinstance(table, dict):
        raise BadInput("[notation] must be a table of templates", locate.where("notation"))
    for key, value in table.items():       # LaTeX pdflatex could not read fails here, on its line
        if isinstance(value, str) and not key.startswith("code."):
            check_symbol(value, "", locate.where("notation", key))
    return dict(table)


def _check_keys(table: dict, name: str, locate: _Locator) -> None:
    pattern = name if name in _KEYS else name.split(".")[0] + ".*"
    for key in table:
        if key not in _KEYS[pattern]:
            raise BadInput(f"unknown key {key!r}; known: {', '.join(sorted(_KEYS[pattern]))}",
                           locate.where(name, key))


def _custom_activations(tables: dict, locate: _Locator) -> dict:
    out = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise BadInput(f"[activations.{name}] must be a table with expr = \"...\"",
                           locate.where("activations"))
        _check_keys(table, f"activations.{name}", locate)
        if "expr" not in table:
            raise BadInput("missing key 'expr' (an expression of x)",
                           locate.where(f"activations.{name}"))
        out[name] = custom_activation(name, table["expr"], table.get("latex"),
                                      table.get("derivative"),
                                      where=locate.where(f"activations.{name}", "expr"))
    return out


def _custom_losses(tables: dict, locate: _Locator) -> dict:
    out = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise BadInput(f"[losses.{name}] must be a table with expr = \"...\"",
                           locate.where("losses"))
        _check_keys(table, f"losses.{name}", locate)
        if "expr" not in table:
            raise BadInput("missing key 'expr' (an expression of yhat and y)",
                           locate.where(f"losses.{name}"))
        out[name] = custom_loss(name, table["expr"], table.get("latex"),
                                table.get("targets", "real"),
                                where=locate.where(f"losses.{name}", "expr"))
    return out
