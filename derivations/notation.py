"""The report's notation for SymPy's LaTeX printer: \\hat{y}_i, \\delta_{ik}, \\partial f_i/\\partial w.

Closed forms are built from short indexed names (yhat[i], df[j]); this printer subclass renders
them in the report's notation, so the LaTeX comes from the proven expression, not string surgery.
Products keep the order they were built in (order="none" on unevaluated products).
"""
import sympy as sp
from sympy.printing.latex import LatexPrinter

i, j, k, l, n = sp.symbols("i j k l n", integer=True, positive=True)
yhat = sp.IndexedBase("yhat")   # softmax output
y = sp.IndexedBase("y")         # target
x = sp.IndexedBase("x")         # input of the last linear layer
df = sp.IndexedBase("df")       # d f_j / d w
dL = sp.IndexedBase("dL")       # d L / d yhat_j
fp = sp.IndexedBase("fp")       # f'_j, in the draft's notation for a claim

_BASES = {
    "yhat": lambda idx: rf"\hat{{y}}_{{{idx}}}",
    "y": lambda idx: rf"y_{{{idx}}}",
    "x": lambda idx: rf"x_{{{idx}}}",
    "df": lambda idx: rf"\frac{{\partial f_{{{idx}}}}}{{\partial w}}",
    "fp": lambda idx: rf"f'_{{{idx}}}",
    "dL": lambda idx: rf"\frac{{\partial L}}{{\partial \hat{{y}}_{{{idx}}}}}",
}


class ReportLatexPrinter(LatexPrinter):
    def __init__(self):
        super().__init__({"order": "none"})

    def _print_Indexed(self, expr):
        idx = "".join(self._print(a) for a in expr.indices)
        return _BASES[str(expr.base)](idx)

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(arg) for arg in expr.args)
        return rf"\delta_{{{a}{b}}}"


def latex(expr) -> str:
    return ReportLatexPrinter().doprint(expr)


def product(*factors):
    """A product printed in the given order (SymPy would sort its factors)."""
    return sp.Mul(*factors, evaluate=False)


def minus(a, b):
    """a - b printed in that order."""
    return sp.Add(a, sp.Mul(-1, b), evaluate=False)
