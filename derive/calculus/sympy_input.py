"""Reading SymPy syntax: a Python expression read with ``ast``, nothing ``eval``-ed.

SymPy syntax (SPEC §5) is a Python expression in the namespace of ``from sympy import *`` plus
the variables: ``v.T*A*v``, ``(A*x + b).applyfunc(tanh)``, ``log(det(X))``, ``Trace(X.T*X)``,
``Rational(1, 2)*x.T*x``, ``S.Half``, ``x.T*Identity(n)*x``,
``OneMatrix(1, n)*HadamardPower(x, 2)``, ``MatrixSymbol("z", n, 1)``,
``.applyfunc(Lambda(Symbol("t"), t*tanh(t)))``, ``norm(x)``, ``softmax(z)``, ``A.I`` /
``A**-1``, ``@`` and ``*``.  EXPR is untrusted text, so it is read with Python's ``ast`` module
and nothing is ``eval``-ed (:class:`SympySyntaxReader` lists what is allowed): SymPy's functions
are called on the values read, with no strings, no attributes beyond a short list, no
double-underscore names and none of SymPy's functions that print, plot or evaluate text
(:mod:`.function_names`).  Operations are shape-checked by
:class:`~derive.calculus.shape_algebra.Algebra`; :mod:`.sympy_output` writes an expression back
in the same syntax.
"""

from __future__ import annotations

import ast
import re

import sympy as sp
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..errors import BadInput
from .function_names import is_refused, known_functions, scalar_function, sympy_names
from .matrix_nodes import CommutationMatrix, elementwise, is_matrix, is_one_by_one
from .namespace import Namespace, counted, shape_text
from .shape_algebra import Algebra, Unsized


# The project's own functions, each read by the Algebra (shape-checked, errors naming operands).
_SPECIAL = {
    "trace": "trace", "Trace": "trace", "tr": "trace",
    "det": "det", "Determinant": "det", "logdet": "logdet",
    "norm": "norm", "Norm": "norm", "frobenius": "norm",
    "softmax": "softmax", "logsumexp": "logsumexp", "lse": "logsumexp",
    "diag": "diag", "DiagMatrix": "diag", "diagonal": "diag",
    "hadamard_product": "hadamard", "HadamardProduct": "hadamard", "hadamard": "hadamard",
    "Inverse": "inverse", "inverse": "inverse", "inv": "inverse",
    "Transpose": "transpose", "transpose": "transpose",
    "MatMul": "matmul", "MatAdd": "matadd", "MatPow": "matpow", "DiagonalOf": "diagonal_of",
}
# Methods and attributes a value may use; nothing else is looked up on any object.
_METHODS = {"transpose": "transpose", "inverse": "inverse", "inv": "inverse",
            "trace": "trace", "det": "det", "norm": "norm"}
_SINGLETONS = ("Half", "One", "Zero", "NegativeOne", "Pi", "Exp1", "EulerGamma", "Catalan",
               "GoldenRatio")
# Bare names that are numbers, unless EXPR declares a variable of that name.
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E, "EulerGamma": sp.EulerGamma,
             "Catalan": sp.Catalan, "GoldenRatio": sp.GoldenRatio,
             "TribonacciConstant": sp.TribonacciConstant}
# Calls whose arguments are read specially: a string names a symbol or spells a number; the
# arguments of a matrix constant are sizes (``n`` there is the size n, not a variable).
_NAMING = ("Symbol", "Dummy", "symbols", "MatrixSymbol")
_NUMBERS = ("S", "Rational", "Integer", "Float")
_SIZED = {"Identity": (sp.Identity, 1), "ZeroMatrix": (sp.ZeroMatrix, 2),
          "OneMatrix": (sp.OneMatrix, 2), "CommutationMatrix": (CommutationMatrix, 2)}
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/\d+)?$")
_STRING_LITERAL = re.compile(r"\"[^\"\\\n]*\"|'[^'\\\n]*'")
_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Attribute,
                  ast.Call, ast.keyword, ast.Tuple, ast.List, ast.operator, ast.unaryop,
                  ast.expr_context)


def _symbol_name_ok(text: str) -> bool:
    """A symbol name: a Python identifier or a LaTeX-style name (``W^{[2]}``, ``\\alpha``)."""
    return 0 < len(text) <= 64 and "__" not in text and (
        text.isidentifier() or re.fullmatch(r"\\?[A-Za-z][A-Za-z0-9_{}\[\]^\\]*", text) is not None)



def _without_strings(text: str) -> str:
    return _STRING_LITERAL.sub('""', text)


def looks_like_sympy(text: str, namespace: Namespace | None = None) -> bool:
    """SymPy syntax: no LaTeX markup (``\\``, ``^``, braces) outside string literals and a valid
    Python expression (``v.T*A*v``, ``hadamard_product(x, b)``; LaTeX juxtaposition ``A v`` is
    not Python) whose calls call functions, not variables (``A (x)`` is the LaTeX product A x;
    a one-letter SymPy function is a call only of constants, as in ``S(1)/2``)."""
    if any(ch in _without_strings(text) for ch in "\\^{}"):
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    declared = set(namespace.shapes) | set(namespace.scalars) if namespace else set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            name = node.func.id
            if name in declared:
                return False
            if len(name) == 1 and not (callable(sympy_names().get(name)) and all(
                    isinstance(arg, ast.Constant) for arg in node.args)):
                return False
        elif not isinstance(node.func, ast.Attribute):   # (A + X)(A + X)
            return False
    return True


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _calculus_form(value):
    """SymPy's own nodes as the calculus builds them: Φ applied entrywise with the calculus'
    canonical Lambda (so that equal functions are equal expressions)."""
    if isinstance(value, sp.Basic) and value.has(ElementwiseApplyFunction):
        return value.replace(lambda node: isinstance(node, ElementwiseApplyFunction),
                             lambda node: elementwise(node.function, node.expr))
    return value


class SympySyntaxReader:
    """Evaluates a SymPy-syntax string over a :class:`Namespace` with Python's ``ast``.

    Nothing is ``eval``-ed.  The reader walks the syntax tree itself and allows only: numbers,
    names, the operators ``+ - * / @ **``, calls, tuples and lists; the attributes ``.T``,
    ``.I`` and ``S.Half``-style singletons; the methods ``.applyfunc`` and those of
    :data:`_METHODS`.  A name is a declared variable, else a constant (``pi``, ``E``), else a
    variable with a default shape; a called name is one of the calculus' own functions
    (``trace``, ``softmax``), else a named function of the namespace (an activation), else a
    name of ``from sympy import *`` (without those :func:`~.function_names.is_refused`
    names).  Strings may only name a symbol (``Symbol("t")``, ``MatrixSymbol("z", n, 1)``) or
    spell a number (``Rational("1/2")``).  No name or attribute with a double underscore is
    looked up anywhere.
    """

    def __init__(self, text: str, namespace: Namespace, where: str | None = "EXPR"):
        self.text, self.namespace = text, namespace
        self.algebra = Algebra(where, namespace)
        self.where = where

    def read(self):
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            column = (exc.offset or 1) - 1
            raise BadInput(f"cannot read {self.text!r}: {exc.msg} at column {column + 1}\n"
                           f"  {self.text.strip()}\n  {' ' * column}^", self.where) from None
        self._check_safe(tree)
        value = self.visit(tree.body)
        if isinstance(value, (tuple, list, sp.Lambda, sp.FunctionClass)) or not isinstance(
                value, (sp.MatrixExpr, sp.Expr)):
            self.fail(tree.body, f"{self.source(tree.body)!r} is not a matrix or scalar "
                                 f"expression (it is a {type(value).__name__})")
        return value

    def _check_safe(self, tree):
        """Refuse, before anything is evaluated, every construct outside the allowed subset."""
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Lambda):
                self.fail(node, "Python lambda is not allowed; write Lambda(t, expr)")
            if not isinstance(node, _ALLOWED_NODES):
                self.fail(node, f"cannot read {self.source(node)!r} in a matrix expression")
            name = getattr(node, "id", None) or getattr(node, "attr", None) \
                or (node.arg if isinstance(node, ast.keyword) else None)
            if isinstance(node, ast.keyword) and node.arg is None:
                self.fail(parents.get(node, node), "** arguments are not allowed")
            if name and "__" in name:
                self.fail(node if not isinstance(node, ast.keyword) else parents[node],
                          f"the name {name!r} is not allowed (no names with double "
                          "underscores)", column=self._name_column(node))
        for node in nodes:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parent = parents.get(node)
                if not (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name)
                        and parent.func.id in _NAMING + _NUMBERS and node in parent.args):
                    self.fail(node, "a string may only name a symbol (Symbol(\"t\"), "
                                    "MatrixSymbol(\"z\", n, 1)) or spell a number "
                                    "(Rational(\"1/2\"))")

    @staticmethod
    def _name_column(node):
        if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
            return node.end_col_offset - len(node.attr)
        return None

    def source(self, node) -> str:
        return ast.get_source_segment(self.text.strip(), node) or ""

    def fail(self, node, message, column=None):
        column = getattr(node, "col_offset", 0) if column is None else column
        raise BadInput(f"{message} (at column {column + 1})\n  {self.text.strip()}\n"
                       f"  {' ' * column}^", self.where)

    def visit(self, node):
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            self.fail(node, f"cannot read {self.source(node)!r} in a matrix expression")
        try:
            return method(node)
        except BadInput:
            raise
        except Exception as exc:   # SymPy raises many kinds (TypeError, ShapeError, ...)
            self.fail(node, f"cannot evaluate {self.source(node)!r}: {_one_line(exc)}")

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.fail(node, f"unexpected constant {node.value!r}")
        return sp.Rational(str(node.value)) if isinstance(node.value, float) else \
            sp.Integer(node.value)

    def _declared(self, name: str) -> bool:
        namespace = self.namespace
        return name in namespace.symbols or name in namespace.shapes or name in namespace.scalars

    def visit_Name(self, node):
        name = node.id
        if name in CONSTANTS and not self._declared(name):
            return CONSTANTS[name]
        return self.namespace.lookup(name)

    def visit_UnaryOp(self, node):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return self.algebra.neg(value)
        if isinstance(node.op, ast.UAdd):
            return value
        self.fail(node, f"unsupported operator in {self.source(node)!r}")

    def visit_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        tl, tr = self.source(node.left), self.source(node.right)
        op = type(node.op)
        if op in (ast.Mult, ast.MatMult):
            return self.algebra.mul(left, right, tl, tr)
        if op is ast.Add:
            return self.algebra.add(left, right, tl, tr)
        if op is ast.Sub:
            return self.algebra.add(left, right, tl, tr, sign=-1)
        if op is ast.Div:
            return self.algebra.div(left, right, tl, tr)
        if op is ast.Pow:
            if is_matrix(right):
                self.fail(node.right, "a power's exponent must be a number")
            if isinstance(left, sp.Number) and isinstance(right, sp.Number) and abs(right) > 1000:
                self.fail(node.right, "a number's exponent must be at most 1000")
            return self.algebra.power(left, right, tl)
        self.fail(node, f"unsupported operator in {self.source(node)!r}")

    def visit_Attribute(self, node):
        column = self._name_column(node)
        if isinstance(node.value, ast.Name) and node.value.id == "S" and not self._declared("S"):
            if node.attr in _SINGLETONS:
                return getattr(sp.S, node.attr)
            self.fail(node, f"unknown attribute S.{node.attr}; known: "
                            f"{', '.join('S.' + s for s in _SINGLETONS)}", column)
        if node.attr not in ("T", "I"):
            self.fail(node, f"unknown attribute .{node.attr}; known: .T, .I and the methods "
                            f".applyfunc(f), {', '.join(f'.{m}()' for m in _METHODS)}", column)
        value = self.visit(node.value)
        if node.attr == "T":
            return self.algebra.transpose(value)
        return self.algebra.inverse(value, self.source(node.value))

    def visit_Tuple(self, node):
        return tuple(self._argument(element) for element in node.elts)

    def visit_List(self, node):
        return [self._argument(element) for element in node.elts]

    def _argument(self, node):
        """An argument of a SymPy call: True and False are allowed (``Piecewise``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        return self.visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute):
            return self._method(node)
        if not isinstance(node.func, ast.Name):
            self.fail(node, f"cannot call {self.source(node.func)!r}")
        name = node.func.id
        if name in self.namespace.shapes or name in self.namespace.scalars:
            self.fail(node, f"{name} is a variable, not a function; write {name}*(...) for "
                            "a product")
        if name == "Lambda":
            return self._lambda(node)
        if name in _NAMING:
            return self._naming(name, node)
        if name in _SIZED:
            return self._sized(name, node)
        if name in _NUMBERS and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                    for a in node.args):
            return self._number(name, node)
        if name in _SPECIAL:
            if node.keywords:
                self.fail(node, "keyword arguments are not supported")
            args = [self.visit(a) for a in node.args]
            return self._special(_SPECIAL[name], args, [self.source(a) for a in node.args],
                                 node)
        function = scalar_function(name, self.namespace.functions)
        if function is None and len(node.args) == 1 and isinstance(
                sympy_names().get(name), sp.FunctionClass):
            self.fail(node, f"{name} is not a function of one number (it needs more "
                            "arguments, or has no derivative here)")
        if function is not None and len(node.args) == 1 and not node.keywords:
            return self.algebra.apply(function, self.visit(node.args[0]),
                                      self.source(node.args[0]))
        if is_refused(name):
            self.fail(node, f"{name} is not available in EXPR: it has side effects or "
                            "evaluates text as code")
        value = function or sympy_names().get(name)
        if value is None or not callable(value):
            self.fail(node, f"unknown function {name!r}; known: "
                            f"{known_functions(self.namespace.functions)}; and the names of "
                            "`from sympy import *` (Rational, Identity, MatrixSymbol, Lambda, "
                            "...)")
        return self._call_sympy(value, node)

    def _method(self, node):
        method, target_node = node.func.attr, node.func.value
        column = self._name_column(node.func)
        if method == "applyfunc":
            if len(node.args) != 1 or node.keywords:
                self.fail(node, "applyfunc takes one function: .applyfunc(tanh)", column)
            function = self._function(node.args[0])
            target = self.visit(target_node)
            if not is_matrix(target):
                return function(target)
            return elementwise(function, self.algebra.sized(target, self.source(target_node)))
        if method in _METHODS and not node.args and not node.keywords:
            target = self.visit(target_node)
            return self._special(_METHODS[method], [target], [self.source(target_node)], node)
        self.fail(node, f"unknown method .{method}(); known: .applyfunc(f), "
                        f"{', '.join(f'.{m}()' for m in _METHODS)}", column)

    def _call_sympy(self, function, node):
        """A function or class of ``from sympy import *``, called with the values read."""
        args = [self._argument(a) for a in node.args]
        kwargs = {kw.arg: self._argument(kw.value) for kw in node.keywords}
        for arg, arg_node in zip(args, node.args):
            if isinstance(arg, Unsized):
                self.algebra.sized(arg, self.source(arg_node))
        try:
            value = function(*args, **kwargs)
        except BadInput:
            raise
        except Exception as exc:   # SymPy raises many kinds (TypeError, ShapeError, ...)
            self.fail(node, f"cannot evaluate {self.source(node)!r}: {_one_line(exc)}")
        return self._value(value, node)

    def _value(self, value, node):
        """A call's result as an expression the calculus knows; anything else is refused."""
        if isinstance(value, bool):
            self.fail(node, f"{self.source(node)!r} is a truth value, not an expression")
        if isinstance(value, int):
            return sp.Integer(value)
        if isinstance(value, float):
            return sp.Float(value)
        if isinstance(value, sp.MatrixBase) and not isinstance(value, sp.ImmutableMatrix):
            return _calculus_form(sp.ImmutableMatrix(value))
        if isinstance(value, (tuple, list, sp.Tuple)):
            return tuple(self._value(item, node) for item in value)
        if isinstance(value, sp.FunctionClass):
            return value
        if not isinstance(value, (sp.Expr, Boolean)):
            self.fail(node, f"{self.source(node)!r} gives a {type(value).__name__}, not an "
                            "expression")
        try:      # a malformed node (a transform short of arguments) fails here, not later
            value.free_symbols
            for part in sp.preorder_traversal(value):
                if isinstance(part, sp.MatrixExpr):
                    part.shape
        except Exception as exc:   # SymPy raises many kinds
            self.fail(node, f"cannot use {self.source(node)!r}: {_one_line(exc)}")
        return _calculus_form(value)

    def _string(self, node, what: str) -> str:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            self.fail(node, f"{what} must be a string")
        text = node.value.strip()
        return text

    def _symbol_name(self, node, call: str) -> str:
        text = self._string(node, f"the name in {call}(...)")
        if not _symbol_name_ok(text):
            self.fail(node, f"{text!r} is not a symbol name (letters, digits, _, or a "
                            "LaTeX-style name such as W^{[2]})")
        return text

    def _naming(self, call: str, node):
        """Symbol("c"), Dummy("c"), symbols("a b"): real scalars; MatrixSymbol("z", n, 1)."""
        if call == "MatrixSymbol":
            if len(node.args) != 3 or node.keywords:
                self.fail(node, 'MatrixSymbol takes a name and two sizes: '
                                'MatrixSymbol("z", n, 1)')
            name = self._symbol_name(node.args[0], call)
            shape = (self._size(node.args[1]), self._size(node.args[2]))
            return self._matrix_symbol(name, shape, node)
        if len(node.args) != 1:
            self.fail(node, f'{call} takes one name: {call}("t")')
        assumptions = {}
        for keyword in node.keywords:
            if not (isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, bool)):
                self.fail(keyword.value, f"{call}'s assumption {keyword.arg}= must be True or "
                                         "False")
            assumptions[keyword.arg] = keyword.value.value
        if call == "symbols":
            text = self._string(node.args[0], "the names in symbols(...)")
            names = [part for part in re.split(r"[\s,]+", text) if part]
            if not names or not all(_symbol_name_ok(part) for part in names):
                self.fail(node.args[0], f"cannot read the names {text!r}")
            found = tuple(self._scalar(part, assumptions, node) for part in names)
            return found[0] if len(found) == 1 else found
        return self._scalar(self._symbol_name(node.args[0], call), assumptions, node)

    def _scalar(self, name: str, assumptions: dict, node):
        namespace = self.namespace
        try:
            symbol = sp.Symbol(name, **{"real": True, **assumptions})
        except Exception as exc:   # an unknown or inconsistent assumption
            self.fail(node, f"cannot make the symbol {name!r}: {_one_line(exc)}")
        if name in namespace.shapes:
            self.fail(node, f"{name} is declared with the shape "
                            f"{shape_text(namespace.shapes[name])}, not as a scalar")
        existing = namespace.symbols.get(name)
        if isinstance(existing, sp.MatrixSymbol):
            self.fail(node, f"{name} is the {shape_text(existing.shape)} matrix {name} "
                            "elsewhere in EXPR, not a scalar")
        if existing is not None or name in namespace.scalars or namespace.scalar_only:
            existing = namespace.lookup(name)
            if existing != symbol:
                self.fail(node, f"{self.source(node)} has other assumptions than the scalar "
                                f"{name} (declared real)")
            return existing
        namespace.symbols[name] = symbol
        return symbol

    def _matrix_symbol(self, name: str, shape: tuple, node):
        namespace = self.namespace
        if namespace.scalar_only:
            self.fail(node, "a MatrixSymbol in the body of a Lambda: an entrywise function "
                            "is a function of numbers")
        if name in namespace.scalars:
            self.fail(node, f"{name} is declared as a scalar, not as a matrix")
        declared = namespace.shapes.get(name)
        if declared is not None and tuple(declared) != shape:
            self.fail(node, f"{self.source(node)} is {shape_text(shape)} but {name} is "
                            f"declared {shape_text(declared)}")
        existing = namespace.symbols.get(name)
        if existing is not None and (not isinstance(existing, sp.MatrixSymbol)
                                     or tuple(existing.shape) != shape):
            kind = "a scalar" if not is_matrix(existing) else shape_text(existing.shape)
            self.fail(node, f"{self.source(node)} is {shape_text(shape)} but {name} is "
                            f"{kind} elsewhere in EXPR")
        symbol = sp.MatrixSymbol(name, *shape)
        namespace.symbols[name] = symbol
        return symbol

    def _size(self, node):
        """A size: a positive integer, a size name (``n``, ``Symbol("n")``) or + - * of sizes."""
        if isinstance(node, ast.Constant) and type(node.value) is int:
            if node.value < 1:
                self.fail(node, f"size {node.value} must be at least 1")
            return node.value
        if isinstance(node, ast.Name):
            return sp.Symbol(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Symbol" and len(node.args) == 1 and not node.keywords:
            return sp.Symbol(self._symbol_name(node.args[0], "Symbol"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = self._size(node.left), self._size(node.right)
            op = type(node.op)
            return left + right if op is ast.Add else left - right if op is ast.Sub \
                else left * right
        self.fail(node, f"a size must be a positive integer or a size name such as n, got "
                        f"{self.source(node)!r}")

    def _sized(self, call: str, node):
        """Identity(n), ZeroMatrix(m, n), OneMatrix(1, n), CommutationMatrix(m, n)."""
        constructor, count = _SIZED[call]
        if len(node.args) != count or node.keywords:
            sizes = "n" if count == 1 else "m, n"
            self.fail(node, f"{call} takes {counted(count, 'size')}: {call}({sizes})")
        return constructor(*[self._size(arg) for arg in node.args])

    def _number(self, call: str, node):
        """S("1/2"), Rational("3/4"), Integer("3"), Float("0.5"): the text is a number only."""
        if len(node.args) != 1 or node.keywords:
            self.fail(node, f'{call} of a string takes just the number: {call}("1/2")')
        text = node.args[0].value.strip()
        if len(text) > 40 or not _NUMBER_TEXT.match(text):
            self.fail(node.args[0], f"{text!r} is not a number")
        exact = "." not in text and "e" not in text.lower()
        if call == "Integer":
            if not (exact and "/" not in text):
                self.fail(node.args[0], f"{text!r} is not an integer")
            return sp.Integer(int(text))
        if call == "Float":
            if "/" in text:
                self.fail(node.args[0], f"{text!r} is not a decimal number")
            return sp.Float(text)
        return sp.Rational(text) if call == "Rational" or exact else sp.Float(text)

    def _lambda_variable(self, node):
        """The variable of Lambda(t, ...): a name, Symbol("t"), Dummy("t"), symbols("t"), (t,)."""
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 1:
            return self._lambda_variable(node.elts[0])
        if isinstance(node, ast.Name):
            return sp.Symbol(node.id, real=True)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("Symbol", "Dummy", "symbols") and len(node.args) == 1:
            name = self._symbol_name(node.args[0], node.func.id)
            return sp.Symbol(name, real=True)
        if isinstance(node, (ast.Tuple, ast.List)):
            self.fail(node, "an entrywise function takes one variable: Lambda(t, expr)")
        self.fail(node, 'Lambda\'s first argument must be a name or Symbol("t")')

    def _lambda(self, node):
        """Lambda(t, expr): ``expr`` may use only ``t`` and the scalars."""
        if len(node.args) != 2 or node.keywords:
            self.fail(node, "Lambda takes a variable and an expression: Lambda(t, t*tanh(t))")
        var = self._lambda_variable(node.args[0])
        scope = Namespace(scalars=tuple(dict.fromkeys(self.namespace.scalars + (var.name,))),
                          functions=self.namespace.functions)
        scope.scalar_only = True
        scope.symbols.update({name: symbol for name, symbol in self.namespace.symbols.items()
                              if isinstance(symbol, sp.Symbol)})
        scope.symbols[var.name] = var
        body = SympySyntaxReader(self.text, scope, self.where).visit(node.args[1])
        if is_matrix(body) or not isinstance(body, sp.Expr):
            self.fail(node.args[1], "the body of a Lambda must be a scalar expression")
        return sp.Lambda(var, body)

    def _function(self, node):
        """The argument of .applyfunc: a function name, Lambda(t, expr), or a SymPy function."""
        if isinstance(node, ast.Name):
            function = scalar_function(node.id, self.namespace.functions)
            if function is not None:
                return function
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "Lambda":
            return self._lambda(node)
        self.fail(node, f"applyfunc needs a function name (tanh, sigmoid, exp, ...) or "
                        f"Lambda(t, expr); got {self.source(node)!r}")

    def _special(self, kind, args, texts, node):
        algebra = self.algebra
        if kind in ("hadamard", "matmul", "matadd"):
            if not args:
                self.fail(node, f"{self.source(node.func)} needs at least one argument")
            combine = {"hadamard": algebra.hadamard, "matmul": algebra.mul,
                       "matadd": algebra.add}[kind]
            joiner = {"hadamard": " ⊙ ", "matmul": "*", "matadd": " + "}[kind]
            result, text = args[0], texts[0]
            for value, other in zip(args[1:], texts[1:]):
                result, text = combine(result, value, text, other), f"{text}{joiner}{other}"
            return result
        if kind == "matpow":
            if len(args) != 2:
                self.fail(node, "MatPow takes a matrix and an exponent")
            return algebra.power(args[0], args[1], texts[0])
        if len(args) != 1:
            self.fail(node, f"{kind} takes one argument")
        (arg,), (text,) = args, texts
        if kind == "logdet":
            return sp.log(algebra.det(arg, text))
        if kind == "diagonal_of":
            algebra.square_matrix(arg, text, "DiagonalOf")
            return arg if is_one_by_one(arg) else sp.DiagonalOf(arg)
        if kind == "norm":      # SymPy's norm: of a matrix, the Frobenius norm
            return algebra.norm(arg, "F", ta=text)
        return getattr(algebra, kind)(arg, ta=text) if kind != "transpose" else \
            algebra.transpose(arg)


__all__ = ["SympySyntaxReader", "looks_like_sympy", "CONSTANTS"]
