"""The input check of a generated module: ``_checked(X, Y)``, called once by every public function.

A user's data reaches the module's equations only through ``_checked``: samples are the
columns, X is n_0 × N and Y is n_L × N (the same N ≥ 1), every entry is finite, and Y lies
in the loss's target domain where the module relies on it.  What each domain asks is one entry
of :data:`TARGET_CHECKS`:

- ``binary`` (bce) and ``sign`` (logistic, hinge): Y outside the domain raises ``ValueError``
  naming it.  The fused forms hold for any real y, but the loss is then no longer the loss
  the name says (bce of y = 2 is unbounded below; 0/1 labels give logistic a constant);
- ``simplex`` (cross_entropy): not raised on — the fused output signal s − y needs columns
  summing to 1, and ``gradients()`` falls back to the general form when they do not
  (:mod:`derive.codegen.equations`);
- ``real``: finite is all.

Cheap by design (it runs on every call): shape checks, then one reduction per array on the
path of valid data — the sum of X is finite only if every entry is (``np.isfinite`` runs only
when it is not, to tell overflow from nan and inf); for binary and sign targets the domain
test, false for nan and inf too (binary: min and max in [0, 1]).  The messages are built only once a check
has failed: on arrays of a few dozen entries, each NumPy call costs as much as a layer, so the
reductions are the ufuncs' own (``np.add.reduce``, without the ``sum`` method's wrapper).
"""

from __future__ import annotations

from ..targets import target_domain
from .naming import wrap_words

#: domain → the test valid targets pass, as NumPy code (false for nan and inf too).
TARGET_CHECKS = {
    "real": "abs(np.add.reduce(Y, axis=None)) < np.inf or np.isfinite(Y).all()",
    "simplex": "abs(np.add.reduce(Y, axis=None)) < np.inf or np.isfinite(Y).all()",
    "binary": "Y.min() >= 0 and Y.max() <= 1",
    "sign": "(np.abs(Y) == 1).all()",
}
def _shape_hint(n_out: int, domain: str) -> list:
    """Lines computing ``hint``: what a common wrong Y would become with one call."""
    if n_out == 1:
        return ["        one_row = Y.size == X.shape[1]",
                '        hint = " (Y.reshape(1, -1) has the right shape)" if one_row else ""']
    lines = [f"        transposed = Y.shape == (X.shape[1], {n_out})",
             '        hint = " (Y.T has the right shape)" if transposed else ""']
    if domain == "simplex":
        lines += ["        if Y.ndim == 1 and Y.size == X.shape[1]:",
                  f'            hint = " (class labels? one-hot columns are np.eye({n_out})'
                  '[:, labels])"']
    return lines


def _domain_failure(loss_name: str, domain: str) -> list:
    """Lines raising the ValueError of finite Y outside ``domain``."""
    description = target_domain(domain).description
    if domain == "binary":
        return [f'raise ValueError("{loss_name} targets are {description}; "',
                '                 f"Y has entries in [{Y.min():g}, {Y.max():g}]")']
    if domain == "sign":
        return ['labels = ((Y == 0) | (Y == 1)).all()',
                'hint = " (labels 0/1? 2 * Y - 1 makes them ±1)" if labels else ""',
                f'raise ValueError(f"{loss_name} targets are {description}; Y has "',
                '                 f"{int((np.abs(Y) != 1).sum())} other entries" + hint)']
    return []


def inputs_source(sizes, loss_name: str, domain: str, add) -> None:
    """``_checked(X, Y=None)`` of a module with layer sizes ``sizes`` whose loss
    ``loss_name`` has targets in ``domain``."""
    n_in, n_out = sizes[0], sizes[-1]
    rule = "" if domain in ("real", "simplex") else \
        f"; {loss_name} targets are {target_domain(domain).description}"
    add("def _checked(X, Y=None):")
    for text in wrap_words(
            f'"""X and Y as DTYPE arrays, checked: samples are columns, X is n_0 x N = {n_in} x N '
            f"and Y is n_L x N = {n_out} x N with the same N >= 1, every entry finite{rule}; "
            'ValueError otherwise."""'):
        add(text)
    add("    X = np.asarray(X, dtype=DTYPE)")
    add(f"    if X.ndim != 2 or X.shape[0] != {n_in} or X.shape[1] == 0:")
    add(f"        transposed = X.ndim == 2 and X.shape[1] == {n_in}")
    add('        hint = " (X.T has the right shape)" if transposed else ""')
    add(f'        raise ValueError(f"samples are columns: X is n_0 x N = {n_in} x N (N >= 1 '
        'samples); "')
    add('                         f"got shape {X.shape}" + hint)')
    # A finite sum has finite terms: one pass, no temporary; isfinite() only when it is not.
    add("    if not (abs(np.add.reduce(X, axis=None)) < np.inf or np.isfinite(X).all()):")
    add('        raise ValueError(f"X has {int(X.size - np.isfinite(X).sum())} nan or inf "')
    add('                         "entries; every entry must be finite")')
    add("    if Y is None:")
    add("        return X, None")
    add("    Y = np.asarray(Y, dtype=DTYPE)")
    add(f"    if Y.shape != ({n_out}, X.shape[1]):")
    for text in _shape_hint(n_out, domain):
        add(text)
    add(f'        raise ValueError(f"samples are columns: X is n_0 x N = {n_in} x {{X.shape[1]}}, '
        f'so Y must be "')
    add(f'                         f"n_L x N = {n_out} x {{X.shape[1]}}; got shape {{Y.shape}}" '
        '+ hint)')
    test = TARGET_CHECKS.get(domain, TARGET_CHECKS["real"])   # a new domain: finite only
    add(f"    if not ({test}):" if " " in test else f"    if not {test}:")
    failure = _domain_failure(loss_name, domain)
    if failure:
        add("        if np.isfinite(Y).all():")
        for text in failure:
            add("            " + text)
    add('        raise ValueError(f"Y has {int(Y.size - np.isfinite(Y).sum())} nan or inf "')
    add('                         "entries; every entry must be finite")')
    add("    return X, Y")
    add("")
    add("")


def inputs_note(loss_name: str, domain: str) -> str:
    """What the header says the module requires of X and Y."""
    text = ("samples are columns: X is n_0 x N and Y is n_L x N (the same N), every entry "
            "finite; ")
    if domain in ("binary", "sign"):
        text += f"{loss_name} targets are {target_domain(domain).description}; "
    return text + "forward(), loss(), gradients() and the optimisers raise ValueError otherwise"


__all__ = ["inputs_source", "inputs_note", "TARGET_CHECKS"]
