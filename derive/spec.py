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

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .activations import custom as custom_activation
from .calculus.result import LAYOUTS
from .errors import BadInput
from .losses import custom as custom_loss
from .network import Network, mlp
from .notation import get_profile

_KEYS = {
    "network": {"sizes", "activation", "activations", "loss", "convention", "reduction", "depth"},
    "output": {"notation", "layout", "form", "batch"},
    "activations.*": {"expr", "latex", "derivative"},
    "losses.*": {"expr", "latex", "targets"},
}
_TABLES = {"network", "output", "activations", "losses", "graph", "notation"}
FORMS = ("concrete", "matrix")
DEFAULT_SPEC = {"network": {"sizes": [2, 3, 1], "activation": "sigmoid", "loss": "bce",
                            "convention": "rows", "reduction": "mean"}}


class _Locator:
    """Finds the line of a key in the TOML text, for error messages."""

    def __init__(self, path: str, text: str):
        self.path, self.lines = path, text.splitlines()

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
    Symbolic sizes (``["n_0", "n_1"]``) or ``depth = "L"`` give a
    :class:`~derive.layer_rules.MatrixNetwork`.

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
    for table in data:
        if table not in _TABLES:
            raise BadInput(f"unknown table [{table}]; known: {', '.join(sorted(_TABLES))}",
                           locate.where(table))
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
    key = "activations" if "activations" in network else "activation"
    common = dict(activation=network.get("activation", "sigmoid"),
                  activations=network.get("activations"), loss=network.get("loss", "bce"),
                  convention=network.get("convention", "rows"),
                  reduction=network.get("reduction", "mean"), notation=notation, layout=layout,
                  custom_activations=activations, custom_losses=losses)
    symbolic = "depth" in network or any(isinstance(n, str) for n in _as_list(network["sizes"]))
    if symbolic or form == "matrix":
        # The matrix form never needs a symbol per weight entry (784 x 1024 of them would take
        # a minute to build), so integer sizes get a MatrixNetwork too.
        from .layer_rules import matrix_network

        where = _where(locate, overrides, "depth" if "depth" in network else "sizes")
        if form == "concrete":
            raise BadInput("symbolic sizes or depth have only the matrix form; drop "
                           "form = \"concrete\" or give integer sizes", where)
        return matrix_network(network.get("sizes"), depth=network.get("depth"), where=where,
                              **common)
    return mlp(network["sizes"], where=_where(locate, overrides, key), **common)


def _where(locate: _Locator, overrides: dict, key: str) -> str:
    """Where a [network] value came from: the command-line flag that set it, or the file."""
    flagged = [k for k in ("activation", "activations", "loss", "sizes")
               if overrides.get(k) is not None]
    return "--" + "/--".join(flagged) if flagged else locate.where("network", key)


def _notation_overrides(data: dict, locate: _Locator) -> dict:
    """A spec's ``[notation]`` table: templates that replace the profile's, ``{l}`` standing
    for the decorated layer index (``W = "\\Theta{l}"``)."""
    table = data.get("notation", {})
    if not isinstance(table, dict):
        raise BadInput("[notation] must be a table of templates", locate.where("notation"))
    out = {}
    for key, value in table.items():
        if isinstance(value, str):
            escaped = value.replace("{", "{{").replace("}", "}}").replace("{{l}}", "{l}")
            value = escaped if key == "index" else escaped.replace("{l}", "{i}")
        out[key] = value
    return out


def _as_list(value):
    return value if isinstance(value, list) else [value]


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
