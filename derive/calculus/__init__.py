r"""The calculus: Jacobians of SymPy expressions, at concrete sizes or in closed matrix form.

A self-contained library: it imports nothing of derive but :mod:`derive.errors`.  What it needs
from outside it is given: the named scalar functions an expression may call (``functions``,
name → :class:`~.functions.NamedFunction` class; ``derive.jacobian`` passes the activations),
and the vector-Jacobian rules of nodes defined elsewhere
(:func:`~.vjp_rules.register_vjp`, called by the module that defines the node).  Its modules
are imported by path (``derive.calculus.matrix``); this package imports none of them.

Layers, each importing only the ones above it:

=====================  =========================================================================
``functions``          :class:`~.functions.NamedFunction`: a scalar function Φ known by name
``matrix_nodes``       the nodes SymPy lacks (‖X‖, softmax, Φ', f(A, B) entrywise, vec) and
                       shape predicates
``constructors``       mm, madd, transpose, hadamard: expressions built in one canonical form
``steps``              :class:`~.steps.Rewrite` (a rule applied) and :class:`~.steps.NoClosedForm`
``vjp_rules``          the rule table :data:`~.vjp_rules.VJP_RULES` and the reverse-mode walk
``entrywise``          entrywise algebra (σ' = σ(1 − σ) cancels)
``tidy``               the tidier: a result rewritten into textbook form
``linear``             a Jacobian read off a vector-Jacobian product
``vec``                d vec(Y)/d vec(X) with Kronecker products
``namespace``          an expression's names: shapes, scalars, named functions
``function_names``     which function a called name means (named, then SymPy's)
``shape_algebra``      shape-checked construction, shared by both readers
``latex_tokens``       the LaTeX tokenizer
``claim_nodes``        ∂…/∂…, ∇_W L and Σ over samples as a claim names them (resolved later)
``latex_names``        names as courses write them: decorations, layer indices, spellings
``latex_operators``    the LaTeX reader's ∂, ∇ and Σ (its names and functions: the modules
                       ``latex_name_reading`` and ``latex_function_reading``)
``latex_input``        the LaTeX reader
``latex_claim``        a claim as people write it: left side, value, definitions
``sympy_input``        the SymPy-syntax reader (``ast``, nothing ``eval``-ed)
``sympy_output``       the SymPy-syntax writer (what the reader reads back)
``matrix_input``       read_expression: either syntax
``numpy_code``         NumPy code of scalar expressions
``matrix_printing``    textbook LaTeX and NumPy code of matrix expressions
``result``             :class:`~.result.JacobianResult` and the layouts
``concrete``           Jacobians with explicit entries (SymPy matrices)
``matrix``             :func:`~.matrix.matrix_jacobian` and :func:`~.matrix.vjp`
=====================  =========================================================================
"""
