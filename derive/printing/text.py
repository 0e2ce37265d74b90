"""Plain-text rendering of a derivation (what ``python -m derive mlp`` prints).

One printer per format (STYLE.md point 5): this one turns :class:`~derive.derivation.Step` data
into readable lines; it computes nothing.
"""

from __future__ import annotations

import json

import sympy as sp
from sympy.printing.str import StrPrinter

from ..derivation import RULES

_FORWARD = {"z", "a", "C"}
_GRADIENT_KINDS = {"grad"}


def matrix_text(value: sp.Basic) -> str:
    """``[e11, e12; e21, e22]`` for a Matrix, ``sstr`` for anything else."""
    if isinstance(value, sp.MatrixBase):
        if value.shape == (1, 1):
            return sp.sstr(value[0, 0])
        rows = ["; ".join([]) or ", ".join(sp.sstr(e) for e in value.row(i))
                for i in range(value.rows)]
        return "[" + "; ".join(rows) + "]"
    return sp.sstr(value)


def render_text(derivation) -> str:
    """The whole derivation as plain text: header, forward pass, backward pass, gradients."""
    net = derivation.network
    lines = [f"symbackprop: backpropagation for a {net.describe()}",
             f"layout: {derivation.layout} (derivatives); gradients have the shape of their "
             "parameter",
             ""]
    sections = [("Forward pass: layer functions f^j = Phi(psi(a^{j-1}, W^j, b^j))", _FORWARD),
                ("Backward pass (seed 003): P^j = dC/da^{j-1}, B^j = Phi'(z^j) (.) [P^{j+1}]^T",
                 None)]
    numbered = 0
    for title, kinds in sections:
        lines.append(title)
        for step in derivation.steps:
            in_section = step.lhs.kind in _FORWARD if kinds else step.lhs.kind not in _FORWARD
            if not in_section:
                continue
            numbered += 1
            head = step.form or str(step.lhs)
            lines.append(f"  ({numbered}) {head}")
            lines.append(f"      {step.lhs} = {matrix_text(step.rhs)}")
            note = RULES[step.rule] + (f"; checked: {step.check}" if step.check else "")
            lines.append(f"      by {note}")
        lines.append("")
    reduction = "mean" if net.reduction == "mean" else "sum"
    lines.append(f"Gradients of the per-sample cost C (the batch cost E is the {reduction} over "
                 "samples, and so is its gradient)")
    for name, value in derivation.gradients.items():
        lines.append(f"  grad_{name} = {matrix_text(value)}")
    if derivation.simplification:
        lines.append("")
        lines.append(f"Recognised simplification: {derivation.simplification}")
    return "\n".join(lines) + "\n"


def derivation_dict(derivation) -> dict:
    """A JSON-able dict: network, steps with rules, gradients and definitions as SymPy strings."""
    net = derivation.network
    return {
        "network": {"sizes": list(net.sizes),
                    "activations": [layer.activation.name for layer in net.layers],
                    "loss": net.loss.name, "convention": net.convention,
                    "reduction": net.reduction},
        "layout": derivation.layout,
        "simplification": derivation.simplification,
        "steps": [step.as_dict() for step in derivation.steps],
        "definitions": {sp.sstr(s): sp.sstr(v) for s, v in derivation.program.definitions},
        "gradients": {name: [[sp.sstr(e) for e in value.row(i)] for i in range(value.rows)]
                      for name, value in derivation.gradients.items()},
    }


def render_json(derivation) -> str:
    """One JSON document for a concrete-size or a matrix-form derivation."""
    as_dict = matrix_derivation_dict if hasattr(derivation, "definitions") else derivation_dict
    return json.dumps(as_dict(derivation), indent=1, ensure_ascii=False)


# --- matrix-form derivations ---------------------------------------------------------------------

class MatrixTextPrinter(StrPrinter):
    """Matrix expressions as a reader writes them in plain text: ``W2^T B2``,
    ``sigmoid'(z1) (.) (W2^T B2)``, ``[1; a1]``, ``W2 without its bias column``."""

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        body = " ".join(self._wrap(f) for f in factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}"
        numer, denom = sp.fraction(coeff)
        if numer == 1:
            return f"(1/{self._print(denom)}) {body}"
        return f"{self._print(coeff)} {body}"

    def _print_MatAdd(self, expr):
        def is_bias(term):
            if isinstance(term, sp.MatrixSymbol):
                return True
            return isinstance(term, sp.MatMul) and isinstance(term.args[-1], sp.OneMatrix) \
                and term.args[-1].shape[0] == 1
        # Textbook order: W a + b (the bias last), a − y (negative terms last).
        terms = sorted(expr.args, key=lambda t: (self._print(t).startswith("-"), is_bias(t)))
        parts = [self._print(t) for t in terms]
        text = parts[0]
        for part in parts[1:]:
            text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
        return text

    def _wrap(self, expr):
        text = self._print(expr)
        return f"({text})" if isinstance(expr, (sp.MatAdd, sp.HadamardProduct)) else text

    def _print_AsScalar(self, expr):
        # A 1×1 product used as a number: (a^T b), bracketed so it reads as one factor.
        inner = self._print(expr.matrix)
        return inner if isinstance(expr.matrix, sp.MatrixSymbol) else f"({inner})"

    def _print_Transpose(self, expr):
        arg = expr.arg
        inner = self._print(arg)
        atomic = isinstance(arg, sp.MatrixSymbol) or inner.startswith(("(", "["))
        return f"{inner}^T" if atomic else f"({inner})^T"

    def _print_HadamardProduct(self, expr):
        from ..calculus.matrix_printing import _hadamard_order

        def factor(arg):
            text = self._print(arg)
            return f"({text})" if isinstance(arg, (sp.MatAdd, sp.MatMul, sp.HadamardProduct)) \
                else text
        return " (.) ".join(factor(a) for a in _hadamard_order(expr.args))

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        return "1^T" if rows == 1 and cols != 1 else "1"

    def _print_ElementwiseApplyFunction(self, expr):
        (var,), body = expr.function.variables, expr.function.expr
        if isinstance(body, sp.Function) and body.args == (var,):
            name = _function_name(body)
            return f"{name}({self._print(expr.expr)})"
        return f"({self._print(body)})[{self._print(var)} = {self._print(expr.expr)}]"

    def _print_Entrywise2(self, expr):
        first, second = sp.Symbol(self._print(expr.args[1])), sp.Symbol(self._print(expr.args[2]))
        return f"[{self._print(expr.body(first, second))}]"

    def _print_Softmax(self, expr):
        return f"softmax({self._print(expr.arg)})"

    def _print_Augment(self, expr):
        return f"[1; {self._print(expr.arg)}]"

    def _print_DropBias(self, expr):
        return f"({self._print(expr.arg)} without its bias column)"

    def _print_DropFirstRow(self, expr):
        return f"({self._print(expr.arg)} without its first row)"


def _function_name(call) -> str:
    from ..calculus.matrix_nodes import ActivationPrime

    if isinstance(call, ActivationPrime):
        return f"{call.base.__name__}'"
    return type(call).__name__


def expression_text(value) -> str:
    """One line of plain text for a matrix expression (or a scalar)."""
    return MatrixTextPrinter().doprint(value)


def render_expression_text(derivation) -> str:
    """A matrix-form derivation (symbolic sizes or depth) as plain text."""
    net = derivation.network
    lines = [f"symbackprop: backpropagation in matrix form for a {net.describe()}",
             f"layout: {derivation.layout} (derivatives); gradients have the shape of their "
             "parameter" + ("; batch of N samples as the columns of X" if derivation.batch
                            else "; one sample"),
             ""]
    for number, step in enumerate(derivation.steps, start=1):
        lines.append(f"  ({number}) {step.lhs} = {expression_text(step.rhs)}")
        note = RULES[step.rule] + (f"; checked: {step.check}" if step.check else "")
        lines.append(f"      by {note}" + (f"  [{step.form}]" if step.form else ""))
    lines.append("")
    lines.append("Gradients")
    for name, value in derivation.gradients.items():
        lines.append(f"  grad_{name} = {expression_text(value)}")
    if derivation.simplification:
        lines.append(f"\nRecognised simplification: {derivation.simplification}")
    if derivation.check:
        lines.append(f"Checked: {derivation.check}")
    return "\n".join(lines) + "\n"


def matrix_derivation_dict(derivation) -> dict:
    """A JSON-able dict of a matrix-form derivation: steps with rules, gradients as strings."""
    net = derivation.network
    return {
        "network": {"sizes": [s if isinstance(s, int) else str(s) for s in net.sizes],
                    "depth": net.depth if isinstance(net.depth, int) else str(net.depth),
                    "activations": [a.name for a in net.activations], "loss": net.loss.name,
                    "convention": net.convention, "reduction": net.reduction},
        "form": "matrix",
        "layout": derivation.layout,
        "batch": derivation.batch,
        "simplification": derivation.simplification,
        "check": derivation.check,
        "steps": [{**step.as_dict(), "text": expression_text(step.rhs)} for step in derivation.steps],
        "definitions": {sp.sstr(s): sp.sstr(v) for s, v in derivation.definitions.items()},
        "gradients": {name: sp.sstr(value) for name, value in derivation.gradients.items()},
        "gradients_text": {name: expression_text(value)
                           for name, value in derivation.gradients.items()},
    }


def render(derivation) -> str:
    """Plain text of any derivation: concrete-size, matrix-form or computation-graph."""
    if hasattr(derivation, "definitions"):
        return render_expression_text(derivation)
    if hasattr(derivation, "graph"):
        from ..cli.graph import render_text as render_graph

        return render_graph(derivation)
    return render_text(derivation)
