"""The report's notation for SymPy's LaTeX printer: \\hat{y}_i, \\delta_{ik}, \\partial f_i/\\partial w.

Closed forms and definitions are built from short names (indexed: yhat[i], df[j]; matrices:
W, xvec; scalars: L_CE, fan_in); this printer subclass renders them in the report's notation, so
the LaTeX comes from the proven expression, not string surgery. Products and sums keep the order
they were built in (order="none" on unevaluated products).
"""
import sympy as sp
from sympy.printing.latex import LatexPrinter

i, j, k, l, n = sp.symbols("i j k l n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)  # inputs of the last linear layer
yhat = sp.IndexedBase("yhat")   # softmax output
y = sp.IndexedBase("y")         # target
z = sp.IndexedBase("z")         # logit
x = sp.IndexedBase("x")         # input of the last linear layer
df = sp.IndexedBase("df")       # d f_j / d w
dL = sp.IndexedBase("dL")       # d L / d yhat_j
fp = sp.IndexedBase("fp")       # f'_j = d f_j / d w_j, in the draft's notation

# The same quantities as vectors and matrices, for the matrix forms (z = W x + b, (yhat - y) x^T).
W = sp.MatrixSymbol("W", n, m)
bvec, zvec = sp.MatrixSymbol("b", n, 1), sp.MatrixSymbol("z", n, 1)
xvec = sp.MatrixSymbol("x", m, 1)
yvec, yhatvec = sp.MatrixSymbol("y", n, 1), sp.MatrixSymbol("yhat", n, 1)

# Scalars with a name of their own.
L_CE, L_MSE = sp.symbols("L_CE L_MSE", real=True)
fan_in = sp.Symbol("fan_in", integer=True, positive=True)
sigma = sp.Symbol("sigma", positive=True)

_BASES = {
    "yhat": lambda idx: rf"\hat{{y}}_{{{idx}}}",
    "y": lambda idx: rf"y_{{{idx}}}",
    "z": lambda idx: rf"z_{{{idx}}}",
    "x": lambda idx: rf"x_{{{idx}}}",
    "df": lambda idx: rf"\frac{{\partial f_{{{idx}}}}}{{\partial w}}",
    "fp": lambda idx: rf"f'_{{{idx}}}",
    "dL": lambda idx: rf"\frac{{\partial L}}{{\partial \hat{{y}}_{{{idx}}}}}",
}
_MATRICES = {"yhat": r"\hat{y}"}
_SCALARS = {"L_CE": r"L_{\mathrm{CE}}", "L_MSE": r"L_{\mathrm{MSE}}", "fan_in": r"\text{fan-in}"}


class ReportLatexPrinter(LatexPrinter):
    def __init__(self, order: str | None = "none"):
        super().__init__({"order": order})

    def _print_Indexed(self, expr):
        idx = "".join(self._print(a) for a in expr.indices)
        return _BASES[str(expr.base)](idx)

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(arg) for arg in expr.args)
        return rf"\delta_{{{a}{b}}}"

    def _print_MatrixSymbol(self, expr):
        return _MATRICES.get(expr.name) or super()._print_MatrixSymbol(expr)

    def _print_Symbol(self, expr, style="plain"):
        return _SCALARS.get(expr.name) or super()._print_Symbol(expr, style)

    def _print_Transpose(self, expr):
        return rf"{self.parenthesize(expr.arg, sp.printing.precedence.PRECEDENCE['Pow'])}^{{\top}}"

    def _print_log(self, expr, exp=None):
        # \log \hat{y}_i, as on paper: the argument is one symbol, no parentheses needed
        (arg,) = expr.args
        if isinstance(arg, (sp.Indexed, sp.Symbol)):
            return rf"\log {self._print(arg)}"
        return super()._print_log(expr, exp)


def latex(expr, order: str | None = "none") -> str:
    """order "none": as built; None: SymPy's own order, for expressions SymPy built (a difference)."""
    return ReportLatexPrinter(order).doprint(expr)


def product(*factors):
    """A product printed in the given order (SymPy would sort its factors)."""
    return sp.Mul(*factors, evaluate=False)


def minus(a, b):
    """a - b printed in that order."""
    return sp.Add(a, sp.Mul(-1, b), evaluate=False)


def matrix_minus(a, b):
    """a - b for matrices, printed in that order."""
    return sp.MatAdd(a, sp.MatMul(-1, b, evaluate=False), evaluate=False)
