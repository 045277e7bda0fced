"""Numeric verification of every identity against torch autograd, in float64.

For each n, the closed form is lambdified to numpy once and evaluated at `points` random points;
torch autograd differentiates the definitions (softmax, a linear layer, the losses) at the same
points. Every fourth point has logits of order 30, where a naive exp would lose the small
probabilities. torch.autograd.gradcheck also checks the oracle itself against finite differences
(it raises when they disagree, which stops the build: a wrong oracle must not verify anything).
"""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from torch.autograd.functional import jacobian

from derivations.softmax import N_INPUTS, Concrete, Identity, closed_values

SCALES = (1.0, 3.0, 10.0, 30.0)  # logit magnitudes, cycled over the points


def sample(n: int, point: int, gen: torch.Generator) -> dict:
    """Inputs for every identity at one point: logits z, a layer (W, b, x), a weight w, a target y."""
    scale = SCALES[point % len(SCALES)]
    r = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)  # noqa: E731
    if point % 2:
        y = torch.softmax(r(n) * 2, 0)                              # a soft target, sums to 1
    else:
        y = torch.zeros(n, dtype=torch.float64)
        y[torch.randint(n, (1,), generator=gen)] = 1.0             # one-hot
    return {"z": r(n) * scale, "W": r(n, N_INPUTS) * scale, "b": r(n) * scale, "x": r(N_INPUTS),
            "w": r(()), "a": r(n) * scale, "c": r(n) * scale, "y": y}


def f_of_w(s: dict):
    """A nonlinear f(x; w) of one weight, so that df/dw is not constant."""
    return lambda w: s["a"] * torch.sin(w) + s["c"] * w ** 2


def _loss(loss: str, y):
    if loss == "ce":
        return lambda logits: -(y * torch.log_softmax(logits, 0)).sum()
    return lambda logits: ((torch.softmax(logits, 0) - y) ** 2).sum()


def logits_of(identity: Identity, s: dict):
    if identity.id in ("softmax_weight", "softmax_bias", "ce_weight"):
        return s["W"] @ s["x"] + s["b"]
    if identity.id in ("softmax_general", "loss_chain"):
        return f_of_w(s)(s["w"])
    return s["z"]


def autograd_value(identity: Identity, loss, s: dict) -> torch.Tensor:
    """The derivative on the identity's left-hand side, by torch autograd."""
    sm = lambda t: torch.softmax(t, 0)  # noqa: E731
    layer = lambda W, b: W @ s["x"] + b  # noqa: E731
    oracles = {
        "softmax_jacobian": lambda: jacobian(sm, s["z"]),
        "softmax_weight": lambda: jacobian(lambda W: sm(layer(W, s["b"])), s["W"]),
        "softmax_bias": lambda: jacobian(lambda b: sm(layer(s["W"], b)), s["b"]),
        "softmax_general": lambda: jacobian(lambda w: sm(f_of_w(s)(w)), s["w"]),
        "ce_logits": lambda: jacobian(_loss("ce", s["y"]), s["z"]),
        "mse_logits": lambda: jacobian(_loss("mse", s["y"]), s["z"]),
        "ce_weight": lambda: jacobian(lambda W: _loss("ce", s["y"])(layer(W, s["b"])), s["W"]),
        "loss_chain": lambda: jacobian(lambda w: _loss(loss, s["y"])(f_of_w(s)(w)), s["w"]),
    }
    return oracles[identity.id]()


def gradcheck_oracle(identity: Identity, loss, s: dict) -> None:
    """Finite differences agree with autograd on the identity's definition, or gradcheck raises."""
    name = {"softmax_weight": "W", "ce_weight": "W",
            "softmax_general": "w", "loss_chain": "w"}.get(identity.id, "z")
    logits = {"W": lambda W: W @ s["x"] + s["b"], "w": f_of_w(s), "z": lambda z: z}[name]
    outcome = (lambda t: torch.softmax(t, 0)) if loss is None else _loss(loss, s["y"])
    torch.autograd.gradcheck(lambda t: outcome(logits(t)), (s[name].clone().requires_grad_(True),))


def closed_function(identity: Identity, n: int, loss):
    """numpy function of (YH, Y, X, D) returning the closed form at every index, row-major."""
    c = Concrete(n, numeric=True)
    values = list(closed_values(identity, c, loss).values())
    fn = sp.lambdify([c.YH, c.Y, c.X, c.D], values, modules="numpy")
    return lambda s, yh, d: np.array(fn(yh, s["y"].numpy(), s["x"].numpy(), d), dtype=float)


def verify(identity: Identity, n_values=range(2, 7), points: int = 20, seed: int = 0) -> dict:
    """Max absolute and relative error between the closed form and autograd, over all points."""
    gen = torch.Generator().manual_seed(seed)
    max_abs, max_rel = 0.0, 0.0
    for n in n_values:
        for loss in identity.losses:
            closed = closed_function(identity, n, loss)
            for point in range(points):
                s = sample(n, point, gen)
                yh = torch.softmax(logits_of(identity, s), 0).numpy()
                d = jacobian(f_of_w(s), s["w"]).numpy()
                expected = autograd_value(identity, loss, s).numpy().reshape(-1)
                got = closed(s, yh, d).reshape(-1)
                err = np.abs(got - expected)
                max_abs = max(max_abs, float(err.max()))
                big = np.abs(expected) > 1e-6  # relative error only where cancellation cannot dominate
                if big.any():
                    max_rel = max(max_rel, float((err[big] / np.abs(expected[big])).max()))
                if point == 0:
                    gradcheck_oracle(identity, loss, s)
    return {"max_abs_err": max_abs, "max_rel_err": max_rel, "n_values": list(n_values),
            "points": points}
