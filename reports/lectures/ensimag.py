r"""The Ensimag lecture: the network as a composition g^L of its layers f^j and the error
ℰ = 𝒞 ∘ g^L, the chain rule on the error, the product of the layer Jacobians
∏_{i=L}^{j} ∂f^i/∂a^{i-1}, the row P^j = ∂𝒞/∂a^{j-1} and its recursion
P^j = P^{j+1} ∂f^j/∂a^{j-1}, the partial derivatives of a single neuron h(a, w, b) = Φ(wᵀa + b) and of a single layer
(∂f/∂a = Diag(Φ'(ζ)) Ωᵀ for the Ensimag neurons-as-columns weights), the backpropagation
rules of B^j and the gradients α^{j-1}[B^j]^T, B^j, then Algorithm 1 (backpropagation) and
the gradient computation as pseudo-code — as the Ensimag notes derive them, in their notation.

>>> import derive
>>> from reports.lectures import lecture
>>> net = derive.mlp([3, 4, 2], convention="columns", notation="ensimag")
>>> doc = lecture(derive.backprop(net, form="matrix"), "ensimag")
>>> [section.title for section in doc.sections][:3]
['Some formalism', 'Using the chain rule', 'Partial derivatives for a single neuron']
"""

from __future__ import annotations


import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.activations import ACTIVATIONS
from derive.calculus.constructors import hadamard, madd, mm, transpose
from derive.calculus.explicit import explicit_value
from derive.calculus.matrix_nodes import elementwise, elementwise_derivative
from derive.derivation import Check
from derive.jacobians import jacobian
from derive.printing.latex_expr import NotationLatexPrinter, prime, transpose_symbol
from derive.registry import decide_equal

from .document import Algorithm, Eq, Group, Section, Text
from .lines import LineMismatch
from .network import NetworkLecture

__all__ = ["ensimag_sections", "neuron_check"]

#: The size a neuron's input is instantiated at to check its partial derivatives.
NEURON_INPUTS = 3


# --- notation -------------------------------------------------------------------------------
def _idx(lec, layer) -> str:
    return lec.profile.layer_index(layer)


def _f(lec, layer) -> str:
    return "f" + _idx(lec, layer)


def _args(lec, upto) -> str:
    r"""α^0, Ω^1, β^1, …, Ω^i, β^i (the parameters the network's layers have)."""
    kinds = [kind for kind in ("W", "b") if lec.param(1, kind) is not None]
    first = ", ".join(lec.s(kind, 1) for kind in kinds)
    last = ", ".join(lec.s(kind, upto) for kind in kinds)
    return f"{lec.s('x')}, {first}, \\dots, {last}"


def _uniform_phi(lec, index="j") -> str:
    r"""Φ when every entrywise layer has the same activation, else Φ^j (``index``: the layer
    it is written for, j in general)."""
    functions = {lec.net.activation(layer).function for layer in lec.layers()
                 if lec.entrywise(layer)}
    return lec.s("phi") if len(functions) <= 1 else lec.s("phi") + _idx(lec, index)


def _row(lec, value):
    """A derivative in the layout as the Ensimag row (numerator layout)."""
    return value if lec.layout == "numerator" else transpose(value)


def _dcda(lec, layer):
    """The engine's ∂𝒞/∂a^{layer} in the layout (its step), or ``None``."""
    return next((step.rhs for step in lec.d.steps
                 if step.lhs.kind == "dC/da" and step.lhs.layer == layer), None)


def _layer_jacobian(lec, layer):
    """∂f^j/∂a^{j-1} = ∂a^j/∂z^j ∂z^j/∂a^{j-1} in the layout."""
    return lec.chain(lec.dadz(layer), lec.dzda(layer))


def _order(lec, items):
    return list(items) if lec.layout == "numerator" else list(reversed(items))


# --- sections --------------------------------------------------------------------------------
def _formalism_text(lec: NetworkLecture) -> list:
    """f^j, g^i and the error ℰ, in general: a paragraph and their definitions."""
    a, cost, E, y = lec.s("a", "j-1"), lec.s("C"), lec.s("E"), lec.s("y")
    g = lambda i: "g" + _idx(lec, i)                          # noqa: E731
    here = "" if lec.generic else f" (here $L = {lec.depth}$)"
    text = Text(
        rf"For $j = 1, \dots, L${here}, layer $j$ computes ${_f(lec, 'j')}$: from its "
        rf"input ${a}$ and its parameters, the activation ${lec.s('a', 'j')}$; "
        rf"${g('i')}$ represents the computation of the first $i$ layers and ${E}$ the "
        rf"output of the error function, where ${cost}$ compares the output with the "
        rf"expected result ${y}$.")
    kinds = [kind for kind in ("W", "b") if lec.param(1, kind) is not None]
    own = lambda i: ", ".join(lec.s(kind, i) for kind in kinds)      # noqa: E731
    definitions = [
        (g(1), rf"= {_f(lec, 1)}({lec.s('x')}, {own(1)})"),
        (rf"{g('i')}({_args(lec, 'i')})",
         rf"= {_f(lec, 'i')}({g('i-1')}({_args(lec, 'i-1')}), {own('i')})"),
        (rf"{E}({_args(lec, 'L')}, {y})", rf"= {cost}({g('L')}({_args(lec, 'L')}), {y})")]
    lines = tuple(Eq(lhs, rhs, str(next(lec.tags)), definition=True)
                  for lhs, rhs in definitions)
    return [text, Group("The composition of the layers and the error, by definition.", lines)]


def _formalism(lec: NetworkLecture) -> Section:
    w, L, cost = lec.w, lec.depth, lec.s("C")
    g = lambda i: "g" + _idx(lec, i)                          # noqa: E731
    blocks = _formalism_text(lec)
    lines = []
    for layer in lec.layers():
        lines.append(w.line(lec.s("z", layer), lec.pre_activation(layer)))
        act = lec.activation(layer)
        own = [lec.s(k, layer) for k in ("W", "b") if lec.param(layer, k) is not None]
        shown = rf"{_f(lec, layer)}({', '.join([lec.s('a', layer - 1), *own])}) = {w.tex(act)}"
        lines.append(w.line(lec.s("a", layer), act, shown=shown))
    lines.append(w.line(rf"\epsilon = {cost}({lec.s('a', L)}, {lec.s('y')})", lec.d.cost))
    note = (rf"The output of the $i$-th layer is ${lec.s('a', 'i')} = {g('i')}(\dots) = "
            rf"{_f(lec, 'i')}({lec.s('a', 'i-1')}, \dots)$; the error of the network when the "
            rf"expected result is ${lec.s('y')}$ is $\epsilon$.")
    return Section("Some formalism", [*blocks, Group(note, tuple(lines))])


def _chain(lec: NetworkLecture) -> Section:
    w, L = lec.w, lec.depth
    cost, E = lec.s("C"), lec.s("E")
    wk, g = "w_k" + _idx(lec, "j"), "g" + _idx(lec, "L")
    text = Text(
        rf"Chain rule on the error function: "
        rf"$\frac{{\partial {E}}}{{\partial {wk}}} = \frac{{\partial {cost}}}{{\partial "
        rf"{lec.s('a', 'L')}}} \cdot \frac{{\partial {g}}}{{\partial {wk}}}$, and on the output of "
        rf"the network when $j < L$: $\frac{{\partial {g}}}{{\partial {wk}}} = "
        rf"\left[\prod_{{i=L}}^{{j+1}} \frac{{\partial {_f(lec, 'i')}}}{{\partial "
        rf"{lec.s('a', 'i-1')}}}\right] \cdot \frac{{\partial {_f(lec, 'j')}}}{{\partial {wk}}}$. "
        "The same product carries the derivative of the cost down to the input of any layer.")
    top = _dcda(lec, L)
    lines = []
    for j in range(L, 1, -1):
        truth = _dcda(lec, j - 1)
        if truth is None:
            continue
        factors = [top] + [_layer_jacobian(lec, i) for i in range(L, j - 1, -1)]
        fracs = [w.frac(cost, lec.s("a", L))] + [w.frac(_f(lec, i), lec.s("a", i - 1))
                                                 for i in range(L, j - 1, -1)]
        product = lec.chain(*factors)
        what = f"the product of the layer Jacobians down to a^{j - 1}"
        lines.append(w.line(lec.dcost(lec.s("a", j - 1)), product, truth,
                            shown=r" \, ".join(_order(lec, fracs)), what=what))
        lines.append(w.line("", product, truth, what=what))
    blocks = [text]
    if lines:
        blocks.append(Group(
            "For this network, layer by layer: the product of the layer Jacobians, compared "
            rf"with the engine's $\partial {cost} / \partial {lec.s('a', 'j-1')}$.",
            tuple(lines)))
    return Section("Using the chain rule", blocks)


def _p_rows(lec: NetworkLecture) -> tuple[Section, dict]:
    """The rows P^j and their recursion; returns the section and the aliases P^j."""
    w, L, sym = lec.w, lec.depth, lec.sym
    cost = lec.s("C")
    top = _dcda(lec, L)
    P = {L + 1: lec.alias(f"P{L + 1}", lec.s("P", L + 1), _row(lec, top))}
    lhs = lambda j: lec.s("P", j) if lec.layout == "numerator" else \
        transpose_symbol(lec.s("P", j), "^{T}")                      # noqa: E731
    shown_top = lec.dcost(lec.s("a", L))
    lines = [lec.named_line(lhs(L + 1), lec.in_layout(transpose(P[L + 1])), top,
                            shown=shown_top, what="P^{L+1}"),
             w.jacobian_line("", top, lec.d.cost, sym.a(L), lec.layout, "dC/da^L")]
    shape = (r"(numerator layout: a $1 \times n_L$ row)" if lec.layout == "numerator" else
             r"(a $1 \times n_L$ row; in this layout its transpose, a column)")
    first = Group(rf"The row ${lec.s('P', L + 1)}$ is the derivative of the error function "
                  rf"${cost}$ in the output {shape}, differentiated here by sympy.diff.",
                  tuple(lines))
    recursion = []
    for j in range(L, 1, -1):
        truth = _dcda(lec, j - 1)
        if truth is None:
            continue
        row = mm(P[j + 1], _row_jacobian(lec, j))
        P[j] = lec.alias(f"P{j}", lec.s("P", j), row)
        frac = w.frac(_f(lec, j), lec.s("a", j - 1))
        shown = (f"{lec.s('P', j + 1)} {frac}" if lec.layout == "numerator"
                 else f"{frac} {lhs(j + 1)}")          # the layout's ∂f/∂a: transposed
        recursion.append(lec.named_line(lhs(j), lec.in_layout(transpose(row)), truth,
                                        shown=shown, what=f"P^{j}"))
        recursion.append(lec.named_line("", lec.in_layout(transpose(row)), truth,
                                        what=f"P^{j}"))
        if lec.entrywise(j) and lec.param(j, "W") is not None:
            jac = lec.dadz(j)
            prime = jac.args[0] if isinstance(jac, DiagMatrix) else None
            dzda = _row_dzda(lec, j)
            if prime is not None:
                form = mm(transpose(hadamard(prime, transpose(P[j + 1]))), dzda)
                recursion.append(lec.named_line("", lec.in_layout(transpose(form)), truth,
                                                what=f"P^{j}"))
                named = mm(transpose(sym.signal(j)), dzda)
                recursion.append(lec.named_line("", lec.in_layout(transpose(named)), truth,
                                                what=f"P^{j}"))
                if lec.layout == "numerator":             # = [Ω^j B^j]^T, the column passed on
                    passed = mm(transpose(dzda), sym.signal(j))
                    recursion.append(w.line("", lec.in_layout(passed), truth,
                                            shown=rf"\left[{w.tex(passed)}\right]^{{T}}",
                                            what=f"P^{j}"))
    blocks = [first]
    if recursion:
        blocks.append(Group(
            rf"Each layer receives ${lec.s('P', 'j+1')}$ and passes on "
            rf"${lec.s('P', 'j')} = {lec.s('P', 'j+1')} \cdot "
            rf"\frac{{\partial {_f(lec, 'j')}}}{{\partial {lec.s('a', 'j-1')}}}$: with the "
            "partial derivatives of a single layer, an entrywise product and "
            rf"${lec.s('B', 'j')}$, the column of the backpropagation rules.",
            tuple(recursion)))
    return Section("Back to partial derivatives for an entire network", blocks), P


def _row_jacobian(lec, layer):
    """∂f^j/∂a^{j-1} in numerator layout."""
    jac = _layer_jacobian(lec, layer)
    return jac if lec.layout == "numerator" else transpose(jac)


def _row_dzda(lec, layer):
    dzda = lec.dzda(layer)
    return dzda if lec.layout == "numerator" else transpose(dzda)


# --- a single neuron ------------------------------------------------------------------------
def _neuron_function(lec):
    """The activation the neuron's formulas are shown with: the network's first entrywise one."""
    for layer in lec.layers():
        if lec.entrywise(layer):
            return lec.net.activation(layer)
    return ACTIVATIONS.get("sigmoid")


def neuron_check(shown, calculus, h, wrt, size) -> Check:
    """The check that ``shown`` (and the matrix calculus's ``calculus``) is ∂h/∂wrt: all three
    at ``size`` = :data:`NEURON_INPUTS` inputs, explicit, against ``sympy.diff`` of ``h``
    entry by entry (exact simplification, else rational points).

    Raises
    ------
    LineMismatch
        ``shown`` or ``calculus`` differs from sympy.diff.
    """
    sizes = {size: NEURON_INPUTS}

    def explicit(expr):
        return sp.Matrix(explicit_value(sp.sympify(expr).xreplace(sizes), {}))

    variable = wrt.xreplace(sizes)
    entries = [variable[i, j] for i in range(variable.shape[0]) for j in range(variable.shape[1])]
    truth = explicit(h).reshape(1, 1).jacobian(entries)
    checks = []
    for candidate in (shown, calculus):
        value = explicit(candidate)
        if value.shape != truth.shape:
            raise LineMismatch(f"∂h/∂{wrt} has shape {value.shape}, not {truth.shape}")
        for left, right in zip(value, truth):
            variables = (left - right).atoms(sp.matrices.expressions.matexpr.MatrixElement)
            check = decide_equal(left, right, variables, against="sympy_diff")
            if check is None:
                raise LineMismatch(f"∂h/∂{wrt}: {candidate} differs from sympy.diff")
            checks.append(check)
    method = "exact" if all(c.method == "exact" for c in checks) else "rational_points"
    return next(c for c in checks if c.method == method)


def _neuron(lec: NetworkLecture) -> Section:
    act = _neuron_function(lec)
    n = sp.Symbol("n", integer=True, positive=True)
    alpha, omega = sp.MatrixSymbol("alpha", n, 1), sp.MatrixSymbol("omega", n, 1)
    beta, zeta = sp.MatrixSymbol("beta", 1, 1), sp.MatrixSymbol("zeta", 1, 1)
    names = {alpha: lec.s("a"), omega: lec.s("W").replace(r"\Omega", r"\omega"),
             beta: lec.s("b"), zeta: lec.s("z")}
    printer = NotationLatexPrinter(lec.profile, names, activation_name=lambda f, x: "\\Phi"
                                   if f is act.function else None)
    tex = printer.doprint
    net_input = madd(mm(transpose(omega), alpha), beta)
    h = elementwise(act.function, net_input)
    prime = elementwise_derivative(elementwise(act.function, zeta))
    phi = tex(elementwise(act.function, zeta)).split(r"\left(")[0]
    lines = []
    for wrt, kind, formal in ((alpha, "a", "a"), (omega, "w", "w"), (beta, "b", "b")):
        calculus = jacobian(h, wrt, layout="numerator").expr
        other = {"a": transpose(omega), "w": transpose(alpha), "b": None}[kind]
        shown = mm(prime, other) if other is not None else prime
        check = neuron_check(shown.xreplace({zeta: net_input}), calculus, h, wrt, n)
        lines.append(Eq(rf"\frac{{\partial h}}{{\partial {formal}}}", f"= {tex(shown)}",
                        str(next(lec.tags)), check=check))
    z, a, w_, b = names[zeta], names[alpha], names[omega], names[beta]
    text = Text(
        rf"Input: ${a}$ (the neuron's input), ${b}$ (its bias) and ${w_}$ (its weights); "
        rf"${z} = {w_}^{{T}} {a} + {b} = \Psi({a}, {w_}, {b})$ is the net input of the neuron "
        rf"and its output is $h({a}, {w_}, {b}) = {phi}(\Psi({a}, {w_}, {b})) = {phi}({z})$, "
        rf"where $\Psi(a, w, b) = w^{{T}} a + b$ and ${phi}: \mathbb{{R}} \to \mathbb{{R}}$ "
        rf"(here {act.name}).")
    note = (rf"The chain rule through $h = {phi} \circ \Psi$: "
            rf"$\frac{{\partial h}}{{\partial a}} = \frac{{\partial {phi}}}{{\partial z}}({z})"
            rf" \cdot \frac{{\partial \Psi}}{{\partial a}}({a}, {w_}, {b})$, and the same in "
            r"$w$ and $b$; each line differentiated by the matrix calculus and compared with "
            f"sympy.diff for {NEURON_INPUTS} inputs.")
    return Section("Partial derivatives for a single neuron", [text, Group(note, tuple(lines))])


def _layer(lec: NetworkLecture) -> Section:
    w, sym = lec.w, lec.sym
    lines = []
    for layer in lec.layers():
        of = lec.activation(layer).xreplace({sym.z(layer): lec.pre_activation(layer)})
        jac = _layer_jacobian(lec, layer)
        lines.append(w.jacobian_line(w.frac(_f(lec, layer), lec.s("a", layer - 1)), jac, of,
                                     sym.a(layer - 1), lec.layout,
                                     f"df^{layer}/da^{layer - 1}"))
        bias = lec.param(layer, "b")
        if bias is not None:
            jac_b = lec.chain(lec.dadz(layer), jacobian(lec.pre_activation(layer), wrt=bias,
                                                        layout=lec.layout).expr)
            lines.append(w.jacobian_line(w.frac(_f(lec, layer), lec.s("b", layer)), jac_b, of,
                                         bias, lec.layout, f"df^{layer}/db^{layer}"))
    W = lec.s("W")
    where = {"columns": rf"${W} = (\omega_1, \dots, \omega_m)$ stores the weights of neuron $k$ "
                        r"in its column $\omega_k$, so row $k$ of $\partial f / \partial a$ is "
                        r"$\Phi'(\zeta_k) \cdot \omega_k^{T}$",
             "rows": rf"${W}$ stores the weights of neuron $k$ in its row",
             "augmented": rf"${W}$ stores the weights of neuron $k$ in its row and its bias "
                          rf"in column 0; ${lec.s('Wbar')}$ is ${W}$ without its bias column",
             }.get(lec.net.convention, rf"${W}$ holds the weights of the $m$ neurons")
    text = Text(r"For a layer with $n$ inputs and $m$ neurons, "
                r"$f: a, W, b \mapsto [h(a, w_1, b_1), \dots, h(a, w_m, b_m)]^{T}$: " + where +
                r"; the neurons do not share their net inputs, so the derivative of the "
                r"activations is diagonal, "
                r"$\frac{\partial f}{\partial b} = \mathrm{diag}(\Phi'(\zeta_1), \dots, "
                r"\Phi'(\zeta_m))$.")
    note = ("The partial derivatives of each layer of this network, each differentiated by "
            "sympy.diff at the checking points.")
    return Section("Partial derivatives for a single layer", [text, Group(note, tuple(lines))])


def _rules(lec: NetworkLecture) -> Section:
    w, L = lec.w, lec.depth
    lines, previous = [], None
    for step in lec.d.steps:
        kind, layer = step.lhs.kind, step.lhs.layer
        if kind == "B":
            upstream = _dcda(lec, layer)
            chain = lec.chain(upstream, lec.dadz(layer))
            truth = transpose(chain) if lec.layout == "numerator" else chain
            lhs = "" if previous == ("B", layer) else lec.s("B", layer)
            lines.append(w.line(lhs, step.rhs, truth, what=f"B^{layer}"))
        elif kind == "grad":
            name = lec.param_name(layer, step.lhs.wrt[0]) if step.lhs.wrt else None
            name = name or step.lhs.wrt
            value = lec.d.gradient(name)
            symbol = lec.s(name[0], layer)
            lines.append(w.line(rf"\nabla_{{{symbol}}} {lec.s('E')}", step.rhs, value,
                                what=f"the gradient of {name}"))
        previous = (kind, layer)
    B = lec.s("B", "j")
    passed = _general(lec, mm(transpose(lec.sym.signal(L)), _row_dzda(lec, L)), L)
    text = Text(
        rf"Let ${B} \stackrel{{\text{{def}}}}{{=}} {prime(_uniform_phi(lec))}({lec.s('z', 'j')}) "
        rf"\odot [{lec.s('P', 'j+1')}]^{{T}} \in \mathbb{{R}}^{{n_j \times 1}}$, so that "
        rf"${lec.s('P', 'j')} = {passed}$; then $\nabla_{{{lec.s('W', 'j')}}} {lec.s('E')} "
        rf"\stackrel{{\text{{def}}}}{{=}} \left[\frac{{\partial {lec.s('E')}}}{{\partial "
        rf"{lec.s('W', 'j')}}}\right]^{{T}}$, the gradients in the shape of the parameters.")
    note = (r"The backpropagation rules, from the output down: each $" + lec.s("B", "j") +
            r"$ compared with $[\partial " + lec.s("C") + r"/\partial " + lec.s("z", "j") +
            r"]^{T}$ from the Jacobians, each gradient with the engine's.")
    return Section("Backpropagation rules", [text, Group(note, tuple(lines))])


def _general(lec: NetworkLecture, expr, layer: int, index: str = "j") -> str:
    """``expr``, an expression of layer ``layer``, printed for the general layer ``index``
    (its symbols of layer ``layer`` as ``index``'s, those of the layer before as
    ``index-1``'s)."""
    renderer = lec.w.renderer
    names, bars = dict(renderer.printer.names), dict(renderer.printer.bars)
    before = f"{index}-1"
    for symbol, (kind, at) in lec.d.symbols.table.items():
        if at == layer:
            names[symbol] = lec.s(kind, index)
            if kind == "W":
                bars[symbol] = lec.s("Wbar", index)
        elif at == layer - 1 and kind in ("a", "z", "B"):
            names[symbol] = lec.s(kind, before)
    if layer == 1:
        names[lec.sym.a(0)] = lec.s("a", before)
    phi = _uniform_phi(lec)
    printer = NotationLatexPrinter(
        lec.profile, names, bars,
        lambda function, argument: phi if renderer.activation_name(function, argument)
        else None)
    return printer.doprint(expr)


def _algorithms(lec: NetworkLecture) -> Section:
    s, sym, L = lec.s, lec.sym, lec.depth
    phi = _uniform_phi(lec)
    kinds = [kind for kind in ("W", "b") if lec.param(1, kind) is not None]
    z = lambda l: s("z", l)                                     # noqa: E731
    forward = [(0, rf"\textbf{{Input:}} a network with $L$ layers, the input ${s('x')}$"),
               (0, r"\textbf{for} $j \leftarrow 1$ \textbf{to} $L$ \textbf{do}"),
               (1, rf"${z('j')} \leftarrow {_general(lec, lec.pre_activation(L), L)}$;"),
               (1, rf"${s('a', 'j')} \leftarrow {phi}({z('j')})$;"),
               (0, r"\textbf{end}")]
    nabla = rf"\nabla_{{{s('a', 'L')}}} {s('C')}({s('a', 'L')}, {s('y')})"
    if lec.entrywise(L):
        first = rf"{prime(_uniform_phi(lec, 'L'))}({z('L')}) \odot {nabla}"
    elif lec.fusion() is not None and lec.fusion().recognised:
        first = _general(lec, lec.d.signal(L), L, "L")
    else:
        first = rf"\left[{lec.w.frac(s('a', 'L'), z('L'))}\right]^{{T}} {nabla}"
    passed = lambda index: _general(                            # noqa: E731
        lec, mm(transpose(_row_dzda(lec, L)), sym.signal(L)), L, index)
    P = lambda l: transpose_symbol(s("P", l), "^{T}")           # noqa: E731
    backward = [(0, r"\textbf{Input:} a network with $L$ layers"),
                (0, rf"\textbf{{Input:}} ${s('x')}$ that has been forward propagated"),
                (0, rf"\textbf{{Input:}} ${s('y')}$ the expected output"),
                (0, rf"${s('B', 'L')} \leftarrow {first}$;"),
                (0, rf"${P('L')} \leftarrow {passed('L')}$;"),
                (0, r"\textbf{for} $j \leftarrow L - 1$ \textbf{to} $1$ \textbf{do}"),
                (1, rf"${s('B', 'j')} \leftarrow {prime(phi)}({z('j')}) \odot {P('j+1')}$;"),
                (1, rf"${P('j')} \leftarrow {passed('j')}$;"),
                (0, r"\textbf{end}")]
    gradient = [(0, r"\textbf{Input:} a network with $L$ layers"),
                (0, rf"\textbf{{Input:}} ${s('x')}$ that has been forward propagated"),
                (0, rf"\textbf{{Input:}} $({s('B', 1)}, \dots, {s('B', 'L')})$ that have been "
                    "updated by backpropagation"),
                (0, r"\textbf{for} $j \in \{1, \dots, L\}$ \textbf{do}")]
    at = lec.layers()[0] if lec.generic else L          # a layer whose gradients are derived
    for kind in kinds:
        name = lec.param_name(at, kind)
        gradient.append((1, rf"Gradient(${s(kind, 'j')}$) $\leftarrow "
                            rf"{_general(lec, lec.d.gradient(name), at)}$;"))
    gradient.append((0, r"\textbf{end}"))
    update = [(0, r"\textbf{for} $j \in \{1, \dots, L\}$ \textbf{do}")]
    for kind in kinds:
        update.append((1, rf"${s(kind, 'j')} \leftarrow {s(kind, 'j')} - \eta \cdot "
                          rf"\nabla_{{{s(kind, 'j')}}} {s('E')}$"))
    update.append((0, r"\textbf{end}"))
    return Section("Backpropagation and gradient computation", [
        Algorithm("Forward propagation", tuple(forward)),
        Algorithm("Backpropagation algorithm", tuple(backward)),
        Algorithm("Gradient computation", tuple(gradient)),
        Algorithm(r"Stochastic gradient descent, learning rate $\eta$", tuple(update))])


def _generic(lec: NetworkLecture) -> list:
    """A symbolic depth L: the general layer j as the engine derives it, each line checked by
    instantiation at explicit depths."""
    w, steps = lec.w, lec.d.steps
    forward = [w.line(w.renderer.lhs(step.lhs), step.rhs) for step in steps
               if step.lhs.kind in ("z", "a", "C")]
    formalism = Section("Some formalism", [*_formalism_text(lec), Group(
        "The layers $j$ and $L$ of the network.", tuple(forward))])
    neuron = _neuron(lec)
    backward = [w.line(w.renderer.lhs(step.lhs), step.rhs, step.rhs,
                       what=w.renderer.lhs(step.lhs))
                for step in steps if step.lhs.kind in ("dC/da", "B", "grad")]
    return [formalism, neuron,
            Section("Backpropagation rules", [Group(
                "The rows, the columns and the gradients of the general layer, as the engine "
                "derives them for any depth.", tuple(backward))]),
            _algorithms(lec)]


def ensimag_sections(lec: NetworkLecture) -> list:
    """The sections of the Ensimag lecture of ``lec``'s network."""
    if lec.generic:
        return _generic(lec)
    sections = [_formalism(lec), _chain(lec), _neuron(lec), _layer(lec)]
    sections.append(_p_rows(lec)[0])
    return sections + [_rules(lec), _algorithms(lec)]
