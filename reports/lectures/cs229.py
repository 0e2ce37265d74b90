r"""The CS229 lecture: forward propagation with the shape of every factor, the output layer's
∂L/∂z^{[L]} = a^{[L]} − y for sigmoid and binary cross-entropy, the backward chain through the
diagonal Jacobians ∂a^{[l]}/∂z^{[l]} = diag(g'(z^{[l]})) and ∂z^{[l+1]}/∂a^{[l]} = W^{[l+1]},
the gradients δ^{[l]} a^{[l-1]T}, the minibatch form with broadcasting, and the update rule —
as the CS229 notes derive them, in their notation (numerator layout: derivatives of L are
rows, the notes' (a^{[3]} − y) W^{[3]} ∘ g'(z^{[2]})).

>>> import derive
>>> from reports.lectures import lecture
>>> doc = lecture(derive.backprop(derive.mlp([2, 3, 2, 1]), form="matrix"), "cs229")
>>> [section.title for section in doc.sections][:3]
['Forward propagation', 'The output layer', 'Backward through the layers']
"""

from __future__ import annotations

from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.calculus.constructors import hadamard, mm, transpose

from .document import Group, Section, Text
from .network import NetworkLecture

__all__ = ["cs229_sections"]


def _forward(lec: NetworkLecture) -> Section:
    w, sym = lec.w, lec.sym
    lines = []
    for layer in lec.layers():
        z = sym.z(layer)
        lhs = w.underbrace(z)
        lines.append(w.line(lhs, lec.pre_activation(layer), shown=w.braced(lec.pre_activation(layer))))
        lines.append(w.line(lec.s("a", layer), lec.activation(layer)))
    lines.append(w.line(lec.s("C"), lec.d.cost))
    text = Text(rf"With ${lec.s('x')} = {lec.s('a', 0)}$, each layer is an affine map followed by the "
                rf"activation ${lec.s('phi')}$, applied entry by entry; the shape of each "
                "factor is written under it.")
    note = "Definition of the network (CS229)."
    return Section("Forward propagation", [text, Group(note, tuple(lines))])


def _output(lec: NetworkLecture) -> Section:
    w, sym, L = lec.w, lec.sym, lec.depth
    a = sym.a(L)
    upstream = next(step.rhs for step in lec.d.steps
                    if step.lhs.kind == "dC/da" and step.lhs.layer == L)
    truth = lec.in_layout(lec.d.signal(L))
    cost = lec.s("C")
    lhs = lec.dcost(lec.s("z", L))
    product = lec.chain(upstream, lec.dadz(L))
    jac_a = w.frac(lec.s("a", L), lec.s("z", L))
    shown = (f"{lec.dcost(lec.s('a', L))} {jac_a}" if lec.layout == "numerator"
             else f"{jac_a} {lec.dcost(lec.s('a', L))}")
    lines = [w.line(lhs, product, truth, shown=shown, what="dL/dz^L"),
             w.line("", product, truth, what="dL/dz^L")]
    fused = lec.fusion()
    notes = []
    if fused is not None:
        value = lec.in_layout(fused.matrix(a, sym.y()))
        lines.append(w.line("", value, truth, what="the fused output signal"))
        if fused.recognised:
            notes.append(rf"Here ${lec.s('phi')}$ and the loss cancel: the derivative is "
                         rf"${lec.s('a', L)} - {lec.s('y')}$, prediction minus target.")
    group = Group(rf"Chain rule through the output activation, from ${cost}$ to "
                  rf"${lec.s('z', L)}$.", tuple(lines))
    return Section("The output layer", [group, *map(Text, notes)])


def _backward(lec: NetworkLecture) -> Section:
    w, sym, L = lec.w, lec.sym, lec.depth
    blocks = []
    hidden = [layer for layer in reversed(lec.layers()) if layer != L]
    if not hidden:
        return Section("Backward through the layers", [Text("The network has one layer: "
                                                            "nothing to propagate.")])
    jac_lines = []
    for layer in hidden:
        if lec.entrywise(layer):
            jac_lines.append(w.jacobian_line(w.frac(lec.s("a", layer), lec.s("z", layer)),
                                             lec.dadz(layer), lec.activation(layer),
                                             sym.z(layer), lec.layout))
        jac_lines.append(w.jacobian_line(w.frac(lec.s("z", layer + 1), lec.s("a", layer)),
                                         lec.dzda(layer + 1), lec.pre_activation(layer + 1),
                                         sym.a(layer), lec.layout))
    blocks.append(Group("The Jacobians of one layer: the activation acts entry by entry, so "
                        r"$\partial a_j / \partial z_i = 0$ for $i \neq j$ and its Jacobian is "
                        "diagonal; that of the affine map in its input is the weight matrix.",
                        tuple(jac_lines)))
    chain_lines = []
    for layer in hidden:
        truth = lec.in_layout(lec.d.signal(layer))
        dz = lec.s("z", layer)
        frac = w.frac
        shown = " ".join([lec.dcost(lec.s("z", layer + 1)),
                          frac(lec.s("z", layer + 1), lec.s("a", layer)),
                          frac(lec.s("a", layer), dz)])
        if lec.layout == "denominator":
            shown = " ".join([frac(lec.s("a", layer), dz),
                              frac(lec.s("z", layer + 1), lec.s("a", layer)),
                              lec.dcost(lec.s("z", layer + 1))])
        signal = sym.signal(layer + 1)
        symbolic = lec.chain(lec.in_layout(signal), lec.dzda(layer + 1), lec.dadz(layer))
        chain_lines.append(w.line(lec.dcost(dz), symbolic, truth, shown=shown,
                                  what=f"dL/dz^{layer}"))
        chain_lines.append(w.line("", symbolic, truth, what=f"dL/dz^{layer}"))
        if lec.entrywise(layer):
            jac = lec.dadz(layer)
            prime = jac.args[0] if isinstance(jac, DiagMatrix) else None
            if prime is not None:
                row = lec.in_layout(mm(transpose(lec.dzda(layer + 1))
                                       if lec.layout == "numerator" else lec.dzda(layer + 1),
                                       signal))
                entrywise = hadamard(row, lec.in_layout(prime))
                chain_lines.append(w.line("", entrywise, truth, shown=w.underbrace(entrywise, bare=True),
                                          what=f"dL/dz^{layer}"))
                if layer + 1 == L and lec.fusion() is not None:
                    fused = lec.fusion().matrix(sym.a(L), sym.y())
                    substituted = entrywise.xreplace({signal: fused})
                    chain_lines.append(w.line("", substituted, truth, what=f"dL/dz^{layer}"))
        chain_lines.append(w.line(lec.s("B", layer), lec.d.signal(layer), lec.d.signal(layer),
                                  what=f"delta^{layer}"))
    orientation = "rows" if lec.layout == "numerator" else "columns"
    blocks.append(Group(rf"Chain rule from the output down, one layer at a time: "
                        rf"${lec.s('B', 'l')}$ names $\partial {lec.s('C')}/\partial {lec.s('z', 'l')}$ "
                        f"as a column (the derivatives are {orientation} in this layout), and "
                        r"a diagonal matrix times a vector is an entrywise product.",
                        tuple(chain_lines)))
    return Section("Backward through the layers", blocks)


def _gradients(lec: NetworkLecture) -> Section:
    w = lec.w
    lines, sym, L = [], lec.sym, lec.depth
    for layer in reversed(lec.layers()):
        lines += lec.gradient_lines(layer, braced=True, kinds=("W",))
        weights = lec.param_name(layer, "W")
        if layer == L - 1 and lec.fusion() is not None and weights and \
                lec.net.convention == "rows" and lec.entrywise(layer):
            # The CS229 notes' closing line: the signal written out from a^{[L]} - y.
            fused = lec.fusion().matrix(sym.a(L), sym.y())
            value = lec.d.gradient(weights).xreplace(
                {sym.signal(layer): lec.d.signal(layer).xreplace({sym.signal(L): fused})})
            lines.append(w.line("", value, lec.d.gradient(weights), shown=w.braced(value),
                                what=f"the gradient of {weights}"))
        lines += lec.gradient_lines(layer, braced=True, kinds=("b",))
    z, W, a, B = (lec.s("z", "l"), lec.s("W", "l"), lec.s("a", "l-1"), lec.s("B", "l"))
    z, W, a, B = (f"{{{s}}}" for s in (z, W, a, B))    # braced: a symbol may carry a subscript
    note = (rf"${z}_i$ depends on ${W}_{{ij}}$ only, through the term ${W}_{{ij}} {a}_j$: so "
            rf"$\partial {lec.s('C')}/\partial {W}_{{ij}} = {B}_i {a}_j$, "
            "and the gradient has the shape of the parameter.")
    if lec.param(1, "W") is None or lec.net.convention != "rows":
        note = "The gradients of the parameters, from the signals; each has the shape of its " \
               "parameter."
    return Section("Gradients of the parameters", [Group(note, tuple(lines))])


def _minibatch(lec: NetworkLecture) -> Section:
    b, w = lec.batch
    text = Text(rf"Over a minibatch of $N$ samples $x^{{(i)}}$, the columns of "
                rf"${lec.s('X')}$: the cost is the {lec.net.reduction} of the losses, and "
                r"$b^{[l]}$ is broadcast: added to each of the $N$ columns, "
                r"$b^{[l]} \mathbf{1}^T$.")
    return Section("Minibatch", [text, lec.batch_definitions(), lec.batch_gradients()])


def _update(lec: NetworkLecture) -> Section:
    init = Text(r"The weights are initialised at random, not at 0 (Xavier): "
                r"$W^{[l]}_{ij} \sim \mathcal{N}\left(0, \frac{2}{n^{[l]} + n^{[l-1]}}\right)$;"
                r" the biases at 0.")
    return Section("Update rule", [init, lec.sgd()])


def cs229_sections(lec: NetworkLecture) -> list:
    """The sections of the CS229 lecture of ``lec``'s network."""
    return [_forward(lec), _output(lec), _backward(lec), _gradients(lec), _minibatch(lec),
            _update(lec)]
