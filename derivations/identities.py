"""Every identity the report may typeset, each declared once: its left-hand side, its closed form
(SymPy, in the report's notation), the raw derivative SymPy proves it against (softmax.py, from the
definitions) and the autograd oracle that checks it numerically (verify.Oracle: which input of a
sample point torch differentiates, and how the logits depend on it).

A new identity is one entry here, the template that shows it, and a test (tests/test_derivations.py
pins its LaTeX).
"""
import sympy as sp

from derivations import notation as nt
from derivations import softmax as sm
from derivations.notation import df, dL, fp, i, j, k, l, minus, n, product, x, y, yhat
from derivations.softmax import Identity
from derivations.verify import Oracle, f_of_w, own_weight_slopes, shared_weight_slopes

JACOBIAN = product(yhat[i], minus(sp.KroneckerDelta(i, k), yhat[k]))
SUM_ONE = r"\sum_{j=1}^{n} y_{j} = 1"
LAYER = nt.latex(sm.LINEAR_LAYER.lhs) + " = " + nt.latex(sm.LINEAR_LAYER.rhs)   # z = W x + b
DRAFT_SETTING = r"z_k = f_k(w_k), \; f'_k = \partial f_k / \partial w_k"
D_YHAT_D_WK = r"\frac{\partial \hat{y}_{i}}{\partial w_{k}}"

# The oracles' logits, as functions of the input torch differentiates (s: one sample point).
LOGITS = Oracle("z", lambda s, z: z)
WEIGHTS = Oracle("W", lambda s, W: W @ s["x"] + s["b"])
BIASES = Oracle("b", lambda s, b: s["W"] @ s["x"] + b)
SHARED_WEIGHT = Oracle("w", lambda s, w: f_of_w(s)(w), slopes=shared_weight_slopes)
OWN_WEIGHTS = Oracle("w_k", lambda s, w: f_of_w(s)(w), slopes=own_weight_slopes)  # f_k(w_k)

SOFTMAX_JACOBIAN = Identity(
    "softmax_jacobian", "Softmax Jacobian", r"\frac{\partial \hat{y}_{i}}{\partial z_{k}}",
    JACOBIAN, (("i", "n"), ("k", "n")), sm.raw_jacobian, LOGITS)

CORRECTED_CASES = Identity(
    "corrected_cases", "Corrected: yhat_i (delta_ik - yhat_k) f'_k", D_YHAT_D_WK,
    product(yhat[i], minus(sp.KroneckerDelta(i, k), yhat[k]), fp[k]),
    (("i", "n"), ("k", "n")), sm.raw_own_weights, OWN_WEIGHTS, note=DRAFT_SETTING)

IDENTITIES = [
    SOFTMAX_JACOBIAN,
    Identity("softmax_weight", "Softmax through a linear layer, weights",
             r"\frac{\partial \hat{y}_{i}}{\partial W_{kl}}",
             product(yhat[i], minus(sp.KroneckerDelta(i, k), yhat[k]), x[l]),
             (("i", "n"), ("k", "n"), ("l", "m")), sm.raw_weight, WEIGHTS, note=LAYER),
    Identity("softmax_bias", "Softmax through a linear layer, biases",
             r"\frac{\partial \hat{y}_{i}}{\partial b_{k}}", JACOBIAN,
             (("i", "n"), ("k", "n")), sm.raw_bias, BIASES, note=LAYER),
    Identity("softmax_general", "Softmax of f(x; w), any weight w",
             r"\frac{\partial \hat{y}_{i}}{\partial w}",
             product(yhat[i], minus(df[i], sp.Sum(product(yhat[j], df[j]), (j, 1, n)))),
             (("i", "n"),), sm.raw_general, SHARED_WEIGHT, note="z_j = f(x; w)_j"),
    CORRECTED_CASES,
    Identity("corrected_offdiagonal", "Corrected, case k != i: -yhat_i yhat_k f'_k", D_YHAT_D_WK,
             product(-1, yhat[i], yhat[k], fp[k]),
             (("i", "n"), ("k", "n")), sm.raw_own_weights, OWN_WEIGHTS, note=DRAFT_SETTING,
             case=sm.K_NOT_I),
    Identity("corrected_diagonal", "Corrected, case k = i: f'_i yhat_i (1 - yhat_i)", D_YHAT_D_WK,
             product(fp[i], yhat[i], minus(1, yhat[i])),
             (("i", "n"), ("k", "n")), sm.raw_own_weights, OWN_WEIGHTS, note=DRAFT_SETTING,
             case=sm.K_IS_I),
    Identity("ce_logits", "Cross-entropy, logits",
             r"\frac{\partial L_{\mathrm{CE}}}{\partial z_{k}}", minus(yhat[k], y[k]),
             (("k", "n"),), sm.raw_loss_logits, LOGITS, losses=("ce",), condition=SUM_ONE),
    Identity("ce_weight", "Cross-entropy, weights of the last layer",
             r"\frac{\partial L_{\mathrm{CE}}}{\partial W_{kl}}",
             product(minus(yhat[k], y[k]), x[l]),
             (("k", "n"), ("l", "m")), sm.raw_loss_weight, WEIGHTS, losses=("ce",),
             condition=SUM_ONE, note=LAYER),
    Identity("ce_weight_matrix", "Cross-entropy, weights of the last layer, as a matrix",
             r"\frac{\partial L_{\mathrm{CE}}}{\partial W}",
             sp.MatMul(nt.matrix_minus(nt.yhatvec, nt.yvec), nt.xvec.T, evaluate=False),
             (("k", "n"), ("l", "m")), sm.raw_loss_weight, WEIGHTS, losses=("ce",),
             condition=SUM_ONE, note=LAYER),
    Identity("mse_logits", "Squared error on the softmax outputs, logits",
             r"\frac{\partial L_{\mathrm{MSE}}}{\partial z_{k}}",
             product(2, yhat[k], sp.Add(yhat[k], -y[k], -sp.Sum(
                 product(yhat[j], minus(yhat[j], y[j])), (j, 1, n)), evaluate=False)),
             (("k", "n"),), sm.raw_loss_logits, LOGITS, losses=("mse",),
             note=sm.SQUARED_ERROR.record()["latex"]),
    Identity("loss_chain", "Any loss through the softmax, any weight",
             r"\frac{\partial L}{\partial w}",
             sp.Sum(product(dL[j], yhat[j], minus(df[j], sp.Sum(product(yhat[l], df[l]),
                                                               (l, 1, n)))), (j, 1, n)),
             (), sm.raw_loss_general, SHARED_WEIGHT, losses=("mse", "ce"),
             note="proven for L = MSE and L = CE"),
]
BY_ID = {identity.id: identity for identity in IDENTITIES}
