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
from pathlib import Path

from .activations import custom as custom_activation
from .calculus.result import LAYOUTS
from .errors import BadInput
from .losses import custom as custom_loss
from .network import Network, mlp

_KEYS = {
    "network": {"sizes", "activation", "activations", "loss", "convention", "reduction", "depth"},
    "output": {"notation", "layout"},
    "activations.*": {"expr", "latex", "derivative"},
    "losses.*": {"expr", "latex", "targets"},
}
_TABLES = {"network", "output", "activations", "losses", "graph"}
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


def load_spec(source: str | Path | dict, **overrides) -> Network:
    """A Network from a TOML file path or a dict of the same structure.

    ``overrides`` replace keys of ``[network]`` / ``[output]`` (the command-line flags).

    >>> load_spec({"network": {"sizes": [2, 2, 1], "activation": "tanh", "loss": "mse"}}).sizes
    (2, 2, 1)
    """
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
            raise BadInput(f"malformed TOML: {exc}", str(path)) from None
        locate = _Locator(str(path), text)
    return build_network(data, locate, overrides)


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
    if "sizes" not in network:
        raise BadInput("missing key 'sizes' (e.g. sizes = [2, 3, 1])", locate.where("network"))
    if any(isinstance(n, str) for n in _as_list(network["sizes"])) or "depth" in network:
        raise BadInput("symbolic sizes or depth need the matrix-form rules "
                       "(python -m derive jacobian for single layers); give integer sizes here",
                       locate.where("network", "sizes"))
    activations = _custom_activations(data.get("activations", {}), locate)
    losses = _custom_losses(data.get("losses", {}), locate)
    layout = output.get("layout", "numerator")
    if layout not in LAYOUTS:
        raise BadInput(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}",
                       locate.where("output", "layout"))
    key = "activations" if "activations" in network else "activation"
    return mlp(network["sizes"], activation=network.get("activation", "sigmoid"),
               activations=network.get("activations"), loss=network.get("loss", "bce"),
               convention=network.get("convention", "rows"),
               reduction=network.get("reduction", "mean"),
               notation=output.get("notation", "ensimag"), layout=layout,
               where=locate.where("network", key if "sizes" in network else None),
               custom_activations=activations, custom_losses=losses)


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
