"""JSON documents of derivations: every step as data, values as SymPy strings.

One document per derivation kind, chosen by class name (:data:`DOCUMENTS`): the network (or
graph), the layout, the steps — each with its rule, the rule's sentence (``justification``),
the general formula it instantiates (``form``, from :mod:`~derive.printing.forms`) and its
check (:meth:`~derive.derivation.Check.as_dict`) — and the gradients.  Output is
byte-identical across runs and ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json

import sympy as sp

from . import printer_for
from .checks import check_data
from .forms import form_text, rule_sentence
from .text import expression_text, one_line

__all__ = ["DOCUMENTS", "derivation_dict", "graph_dict", "matrix_form_dict", "neuron_dict",
           "render_json", "step_dict"]


def _size(value):
    return value if isinstance(value, int) else str(value)


def step_dict(d, step) -> dict:
    """One step of a network derivation: label, value, rule, sentence, formula, check."""
    layer = step.lhs.layer
    return {"lhs": str(step.lhs), "kind": step.lhs.kind,
            "layer": layer if layer is None else _size(layer),
            "index": step.lhs.index, "rhs": sp.sstr(step.rhs, order="none"),
            "rule": step.rule, "justification": rule_sentence(step.rule),
            "form": form_text(d, step), "check": check_data(step.check)}


def neuron_dict(d) -> dict:
    """A per-neuron derivation: network, steps, the straight-line program, gradients (and its
    check against the matrix form, when it has one)."""
    net = d.network
    return {
        "generated_by": "symbackprop",
        "network": {"sizes": list(net.sizes),
                    "activations": [layer.activation.name for layer in net.layers],
                    # Φ(x) of each layer as a SymPy string (None for softmax: vector-valued).
                    "activation_expressions": [
                        sp.sstr(layer.activation.expr) if hasattr(layer.activation, "expr")
                        else None for layer in net.layers],
                    "loss": net.loss.name, "loss_expression": sp.sstr(net.loss.expr),
                    "convention": net.convention, "reduction": net.reduction},
        "layout": d.layout,
        "simplification": d.simplification,
        "steps": [step_dict(d, step) for step in d.steps],
        "definitions": {sp.sstr(s): sp.sstr(v) for s, v in d.program.definitions},
        "gradients": {name: [[sp.sstr(e) for e in value.row(i)] for i in range(value.rows)]
                      for name, value in d.gradients.items()},
        **({"check": check_data(d.check)} if getattr(d, "check", None) else {}),
    }


def matrix_form_dict(d) -> dict:
    """A ``MatrixDerivation``: steps with rules and one-line text, gradients as strings."""
    net = d.network
    return {
        "generated_by": "symbackprop",
        "network": {"sizes": [_size(s) for s in net.sizes],
                    "depth": _size(net.depth),
                    "activations": [a.name for a in net.activations],
                    "activation_expressions": [sp.sstr(a.expr) if hasattr(a, "expr") else None
                                               for a in net.activations],
                    "loss": net.loss.name, "loss_expression": sp.sstr(net.loss.expr),
                    "convention": net.convention, "reduction": net.reduction},
        "form": "matrix",
        "layout": d.layout,
        "batch": d.batch,
        "simplification": d.simplification,
        "check": check_data(d.check),
        "steps": [{**step_dict(d, step), "text": expression_text(step.rhs)}
                  for step in d.steps],
        "definitions": {sp.sstr(s): sp.sstr(v) for s, v in d.definitions.items()},
        "gradients": {name: sp.sstr(value) for name, value in d.gradients.items()},
        "gradients_text": {name: expression_text(value) for name, value in d.gradients.items()},
    }


def graph_dict(d) -> dict:
    """A ``GraphDerivation``: steps (with rules), gradients explicit and over node values."""
    steps = [{"lhs": str(step.lhs), "kind": step.lhs.kind, "of": step.lhs.of,
              "wrt": step.lhs.wrt, "rhs": one_line(step.rhs), "rule": step.rule,
              "justification": rule_sentence(step.rule), "form": form_text(d, step),
              "check": check_data(step.check)} for step in d.steps]
    return {
        "generated_by": "symbackprop",
        "source": d.graph.source,
        "output": d.output,
        "layout": d.layout,
        "order": list(d.order),
        "shapes": {name: list(v.shape) for name, v in d.variables.items()},
        "steps": steps,
        "gradients": {name: one_line(d.gradient(name, explicit=True)) for name in d.leaves()},
        "gradients_over_nodes": {name: one_line(d.over_nodes(d.gradient(name)))
                                 for name in d.leaves()},
    }


#: Derivation class name → (its JSON-able dict, the indentation of its document).
DOCUMENTS = {"PerNeuronDerivation": (neuron_dict, 1),
             "MatrixDerivation": (matrix_form_dict, 1), "GraphDerivation": (graph_dict, 2)}


def derivation_dict(d) -> dict:
    """The JSON-able dict of any derivation."""
    return printer_for(DOCUMENTS, d, "JSON")[0](d)


def render_json(d) -> str:
    """One JSON document of any derivation."""
    as_dict, indent = printer_for(DOCUMENTS, d, "JSON")
    return json.dumps(as_dict(d), indent=indent, ensure_ascii=False)
