r"""The functions of a generated module that print the derivation: forward, loss and gradients.

Every line of ``_forward`` and ``gradients`` is one definition of the batch derivation, in the
module's names (:mod:`derive.codegen.naming`), commented with the equation in the profile's
letters and its number: ``B1 = (Omega2.T @ B2) * (zeta1 > 0).astype(DTYPE)  # B^1 = … (eq. 12)``.
Φ'(z^l) is written in a^l where the activation's checked textbook form allows it
(σ' = a(1 − a)), so the backward pass reuses the forward values.

``forward``, ``loss`` and ``gradients`` check their input once (``_checked``,
:mod:`derive.codegen.inputs`) and then call the unchecked ``_forward``.  Where the fused output
signal relies on the targets' domain (softmax with cross-entropy: s − y needs columns of Y
summing to 1, a ``target_domain`` step of the derivation), ``gradients`` tests the columns and
otherwise uses the general form (:func:`~derive.codegen.stable_forms.general_softmax_signal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..calculus.matrix_nodes import prime_function
from ..losses import y as Y_SYMBOL, yhat as YHAT_SYMBOL
from ..printing.text import MatrixTextPrinter
from .naming import RESERVED, Plan, plain_name, wrap_words
from .printer import CodePrinter
from .stable_forms import T, general_softmax_signal

#: The derivation's rule of an output signal that holds only on the targets' domain.
DOMAIN_RULE = "target_domain"


def code(plan: Plan, expr) -> str:
    """One NumPy expression of a derivation expression, in the module's names."""
    return plan.printer.doprint(_in_outputs(plan, expr).xreplace(plan.renamed))


def _in_outputs(plan: Plan, expr):
    """Φ'(z^l) written in a^l where the activation's checked textbook form allows it."""
    sym = plan.derivation.symbols
    replacements = {}
    for layer, activation in enumerate(plan.activations, start=1):
        if activation.vector_valued:
            continue
        form = activation.derivative_in_output(T)
        if form is None:
            continue
        prime = prime_function(activation.function)
        var = sp.Dummy("d", real=True)
        node = ElementwiseApplyFunction(sp.Lambda(var, prime(var)), sym.z(layer))
        replacements[node] = (ElementwiseApplyFunction(sp.Lambda(T, form), sym.a(layer))
                              if form.has(T) else form)
    if not replacements:
        return expr
    return expr.replace(lambda e: isinstance(e, ElementwiseApplyFunction),
                        lambda e: next((v for k, v in replacements.items()
                                        if k.expr == e.expr and _same_function(k, e)), e))


def _same_function(a, b) -> bool:
    (va,), ba = a.function.variables, a.function.expr
    (vb,), bb = b.function.variables, b.function.expr
    return ba.xreplace({va: T}) == bb.xreplace({vb: T})


def comment(plan: Plan, rhs, key=None) -> str:
    """``δ[1] ⊙ (W[2]ᵀ δ[2])   (eq. 12)``: ``rhs`` in the profile's letters, and the number of
    the step labelled ``key`` (kind, layer, wrt)."""
    number = plan.numbers.get(key) if key is not None else None
    return plain(plan, rhs) + (f"   (eq. {number})" if number else "")


def plain(plan: Plan, expr) -> str:
    """``expr`` as plain text in the profile's letters."""
    names = {s: sp.MatrixSymbol(plain_name(plan.profile, kind, layer), *s.shape)
             for s, (kind, layer) in plan.derivation.symbols.table.items()}
    return MatrixTextPrinter().doprint(expr.xreplace(names)).replace(" (.) ", " ⊙ ")


def line(target: str, text: str, note: str, indent: str = "    ") -> str:
    """``target = text`` with ``# note`` in the comment column."""
    statement = f"{indent}{target} = {text}"
    return f"{statement}{' ' * max(2, 48 - len(statement))}# {note}"


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.']){re.escape(name)}(?![\w'])", text) is not None


def _unpack(plan: Plan, params, add, used: str | None = None) -> None:
    for pname, symbol in params:
        if used is None or _mentions(used, plan.names[symbol]):
            add(f"    {plan.names[symbol]} = np.asarray(params[{pname!r}], dtype=DTYPE)")


def forward_source(plan: Plan, add) -> None:
    """``forward`` (checked) and ``_forward``: z^l and a^l of every layer, and the cache."""
    d, sym = plan.derivation, plan.derivation.symbols
    output = plan.names[sym.a(plan.depth)]
    add("def forward(params, X):")
    add('    """Yhat (n_L x N) and the cache of every z and a, for X (n_0 x N)."""')
    add("    X, _ = _checked(X)")
    add("    return _forward(params, X)")
    add("")
    add("")
    add("def _forward(params, X):")
    add('    """forward() of an X that _checked() has passed."""')
    body, cache = [], []
    for layer in range(1, plan.depth + 1):
        for kind, symbol in stage_values(d, layer):
            value = d.definitions[symbol]
            text = code(plan, value)
            name = plan.names[symbol]
            pad = " " * max(2, 44 - (len(name) + 3 + len(text)))
            body.append(f"    {name} = {text}{pad}# {comment(plan, value, (kind, layer, None))}")
            cache.append(name)
    if _mentions(" ".join(body), "N"):                # augmented layers, a ones matrix
        add("    N = X.shape[1]")
    _unpack(plan, plan.params(), add)
    for text in body:
        add(text)
    add(f"    cache = {{{', '.join(f'{n!r}: {n}' for n in cache)}}}")
    add(f"    return {output}, cache")
    add("")
    add("")


def _entry_code(plan: Plan, expr, variable, code_of_variable: str) -> str:
    printer = CodePrinter(plan.helpers, {})
    placeholder = sp.Symbol("XVARIABLEX")
    text = printer.doprint(expr.xreplace({variable: placeholder}))
    return text.replace("XVARIABLEX", code_of_variable)


def loss_source(plan: Plan, stable, add) -> None:
    """``loss``: from z^L by the ``stable`` form of ℓ(Φ(z), y) when there is one, else from
    a^L as the loss is written."""
    net, sym = plan.net, plan.derivation.symbols
    add("def loss(params, X, Y):")
    add(f'    """The batch cost E: the {net.reduction} over samples of the per-sample loss."""')
    add("    X, Y = _checked(X, Y)")
    add("    N = Y.shape[1]")
    add("    yhat, cache = _forward(params, X)")
    if stable is not None:
        z = sp.Symbol("z", real=True)
        per_entry = _entry_code(plan, stable.xreplace({Y_SYMBOL: sp.Symbol("Y")}), z,
                                f"cache[{plan.names[sym.z(plan.depth)]!r}]")
    else:
        a = sp.Symbol("a", real=True)
        per_entry = _entry_code(plan, net.loss.expr.xreplace({YHAT_SYMBOL: a,
                                                              Y_SYMBOL: sp.Symbol("Y")}),
                                a, "yhat")
    add(f"    entries = {per_entry}")
    reduce = "np.sum(entries) / N" if net.reduction == "mean" else "np.sum(entries)"
    add(f"    return float({reduce})")
    add("")
    add("")


def domain_fallback(plan: Plan):
    """(general output signal, its equation number) when the derivation's output signal holds
    only on the targets' domain (a :data:`DOMAIN_RULE` step) and a general form exists; else
    ``None``."""
    d, sym = plan.derivation, plan.derivation.symbols
    output = plan.depth
    if not plan.activations[-1].vector_valued:
        return None
    signals = [(number, step) for number, step in enumerate(d.steps, start=1)
               if step.lhs.kind == "D" and step.lhs.layer == output]
    if len(signals) < 2 or signals[-1][1].rule != DOMAIN_RULE:
        return None
    general = general_softmax_signal(plan.net.loss, sym.a(output), sym.y())
    if general is None:
        return None
    return general, signals[-2][0]


def _signal_lines(plan: Plan, layer, value) -> list:
    sym = plan.derivation.symbols
    symbol = sym.signal(layer)
    name = plan.names[symbol]
    lhs = plain_name(plan.profile, "D", layer)
    return [line(name, code(plan, value), f"{lhs} = {comment(plan, value, ('D', layer, None))}")]


def _fallback_lines(plan: Plan, value, fallback) -> list:
    """if/else: the fused signal when every column of Y sums to 1, else the general form."""
    general, number = fallback
    sym = plan.derivation.symbols
    layer = plan.depth
    name = plan.names[sym.signal(layer)]
    lhs = plain_name(plan.profile, "D", layer)
    fused = line(name, code(plan, value), f"{lhs} = {comment(plan, value, ('D', layer, None))}",
                 indent="        ")
    other = line(name, code(plan, general), f"{lhs} = {plain(plan, general)}   (eq. {number}, "
                 "s ⊙ ℓ' cancelled)", indent="        ")
    return ["    if np.abs(Y.sum(axis=0) - 1).max() <= SUM_TOL:   # columns of Y sum to 1",
            fused, "    else:", other]


def gradients_docstring(plan: Plan, fallback) -> list:
    """The docstring lines of ``gradients``; with a domain fallback, which form is used when."""
    lines = ['    """Gradient of loss(params, X, Y): a dict with the keys and shapes of params.']
    if fallback is not None:
        sym = plan.derivation.symbols
        layer = plan.depth
        value = plan.derivation.definitions[sym.signal(layer)]
        name = plan.names[sym.signal(layer)]
        output = plan.names[sym.a(layer)]
        fused_number = plan.numbers[("D", layer, None)]
        lines += ["", *wrap_words(
            f"The output signal {name} is {code(plan, value)} (eq. {fused_number}) when every "
            "column of Y sums to 1 within SUM_TOL (one-hot labels, label smoothing: the "
            f"targets {plan.net.loss.name} is meant for); for any other Y it is the general "
            f"form, the softmax Jacobian applied to l'({output}, Y): {code(plan, fallback[0])} "
            f"(eq. {fallback[1]})."), '    """']
    else:
        lines[-1] += '"""'
    return lines


def gradients_source(plan: Plan, add) -> None:
    """The backward pass in the derivation's order: B^L, ∇W^L, ∇b^L, B^{L-1}, …"""
    d, sym = plan.derivation, plan.derivation.symbols
    fallback = domain_fallback(plan)
    body, out, emitted, shared = [], [], set(), {}
    for step in d.steps:
        kind, layer = step.lhs.kind, step.lhs.layer
        if kind in ("B", "D"):
            symbol = sym.signal(layer)
            if symbol in emitted or d.definitions.get(symbol) is not step.rhs and \
                    step is not _last_step(d, kind, layer):
                continue
            emitted.add(symbol)
            value = d.definitions[symbol]
            if fallback is not None and layer == plan.depth:
                body += _fallback_lines(plan, value, fallback)
            else:
                body += _signal_lines(plan, layer, value)
        elif kind == "grad":
            pname = step.lhs.wrt
            if layer not in shared:
                shared[layer] = scaled_signal(plan, layer)
                if shared[layer] is not None:
                    body.append(shared[layer].line)
            value = d.gradients[pname]
            printed = shared[layer].substitute(value) if shared[layer] is not None else value
            letter = "W" if pname.startswith("W") else "b"
            body.append(line(f"grad_{pname}", code(plan, printed),
                             f"∇{plain_name(plan.profile, letter, layer)} = "
                             f"{comment(plan, value, ('grad', layer, pname))}"))
            out.append(pname)
    used = " ".join(body)
    add("def gradients(params, X, Y):")
    for text in gradients_docstring(plan, fallback):
        add(text)
    add("    X, Y = _checked(X, Y)")
    if re.search(r"np\.(ones|zeros)\(\([^)]*\bN\b", used):
        add("    N = X.shape[1]")
    else:                   # N only divides: a float divides without a conversion per call
        add("    N = float(X.shape[1])")
    _unpack(plan, plan.params(), add, used)
    add("    _, cache = _forward(params, X)")
    for layer in range(1, plan.depth + 1):
        for kind, symbol in stage_values(plan.derivation, layer):
            name = plan.names[symbol]
            if _mentions(used, name):
                number = plan.numbers[(kind, layer, None)]
                add(line(name, f"cache[{name!r}]",
                         f"{plain_name(plan.profile, kind.upper(), layer)} from forward()"
                         f"   (eq. {number})"))
    for text in body:
        add(text)
    order = [pname for pname, _ in plan.params()]
    add(f"    return {{{', '.join(f'{p!r}: grad_{p}' for p in order if p in out)}}}")
    add("")
    add("")


@dataclass(frozen=True)
class ScaledSignal:
    """c Δ^l computed once where every gradient of layer l is c Δ^l times something (the
    1/N of a mean: one division of Δ^l, n_l × N, instead of one per gradient)."""

    coefficient: sp.Expr
    signal: sp.MatrixSymbol
    symbol: sp.MatrixSymbol
    line: str

    def substitute(self, gradient):
        """``gradient`` = c Δ … (or c … Δᵀ …) written with the scaled signal."""
        factors = [self.symbol if f == self.signal else
                   self.symbol.T if f == self.signal.T else f
                   for f in gradient.as_coeff_matrices()[1]]
        return sp.MatMul(*factors)


def scaled_signal(plan: Plan, layer):
    """The :class:`ScaledSignal` of ``layer``, or ``None`` when its gradients share no
    coefficient of Δ^l (sum reduction) or there is one gradient only (augmented)."""
    sym = plan.derivation.symbols
    signal = sym.signal(layer)
    gradients = [plan.derivation.gradients[name] for name in sym.params(layer)]
    coefficients = set()
    for gradient in gradients:
        if not isinstance(gradient, sp.MatMul):
            return None
        coefficient, factors = gradient.as_coeff_matrices()
        if sum(f in (signal, signal.T) for f in factors) != 1:
            return None
        coefficients.add(coefficient)
    if len(gradients) < 2 or len(coefficients) != 1 or coefficients == {1}:
        return None
    (coefficient,) = coefficients
    taken = set(plan.names.values()) | set(plan.helpers.values())
    name = f"{plan.names[signal]}_over_N"
    while name in taken or name in RESERVED:
        name += "_"
    symbol = sp.MatrixSymbol(name, *signal.shape)
    numbers = " and ".join(str(plan.numbers[("grad", layer, p)]) for p in sym.params(layer))
    text = line(name, code(plan, sp.MatMul(coefficient, signal)),
                f"({sp.sstr(coefficient)}) {plain_name(plan.profile, 'D', layer)}, in eqs. "
                f"{numbers}")
    return ScaledSignal(coefficient, signal, symbol, text)


def stage_values(d, layer) -> list:
    """(kind, symbol) of each value of layer ``layer``'s forward map, in order (dense: z, a)."""
    sym = d.symbols
    return [(stage.kind, sym.value(stage.kind, layer))
            for stage in d.network.layer(layer).stages(sym, sym.a(layer - 1))]


def _last_step(d, kind, layer):
    return [s for s in d.steps if s.lhs.kind == kind and s.lhs.layer == layer][-1]


__all__ = ["forward_source", "loss_source", "gradients_source", "domain_fallback", "code",
           "comment", "plain", "line", "DOMAIN_RULE"]
