"""Numeric verification of every identity against torch autograd, in float64.

For each n, the closed form is lambdified to numpy once and evaluated at `points` random points;
torch autograd differentiates the definitions (softmax, a linear layer, the losses) at the same
points, through the identity's own Oracle (declared beside it in identities.py). Every fourth point
has logits of order 30, where a naive exp would lose the small probabilities.
torch.autograd.gradcheck also checks the oracle itself against finite differences (it raises when
they disagree, which stops the build: a wrong oracle must not verify anything).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
import torch
from torch.autograd.functional import jacobian

from derivations.softmax import N_INPUTS, Concrete, Identity, closed_values, full_grid, in_case

SCALES = (1.0, 3.0, 10.0, 30.0)  # logit magnitudes, cycled over the points


def sample(n: int, point: int, gen: torch.Generator) -> dict:
    """Inputs for every identity at one point: logits z, a layer (W, b, x), one weight w shared by
    every logit or a weight w_k per logit, f's coefficients a, c, a target y."""
    scale = SCALES[point % len(SCALES)]
    r = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)  # noqa: E731
    if point % 2:
        y = torch.softmax(r(n) * 2, 0)                              # a soft target, sums to 1
    else:
        y = torch.zeros(n, dtype=torch.float64)
        y[torch.randint(n, (1,), generator=gen)] = 1.0             # one-hot
    return {"z": r(n) * scale, "W": r(n, N_INPUTS) * scale, "b": r(n) * scale, "x": r(N_INPUTS),
            "w": r(()), "a": r(n) * scale, "c": r(n) * scale, "y": y, "w_k": r(n)}


def f_of_w(s: dict):
    """A nonlinear f(x; w), so that df/dw is not constant: of one weight w (every logit depends on
    it) or, given a vector, elementwise (logit f_k depends on w_k alone)."""
    return lambda w: s["a"] * torch.sin(w) + s["c"] * w ** 2


def shared_weight_slopes(s: dict) -> torch.Tensor:
    """d f_j / d w for the shared weight."""
    return jacobian(f_of_w(s), s["w"])


def own_weight_slopes(s: dict) -> torch.Tensor:
    """f'_j = d f_j / d w_j, each logit's slope in its own weight."""
    return torch.diagonal(jacobian(f_of_w(s), s["w_k"]))


def _loss(loss: str, y):
    if loss == "ce":
        return lambda logits: -(y * torch.log_softmax(logits, 0)).sum()
    return lambda logits: ((torch.softmax(logits, 0) - y) ** 2).sum()


@dataclass(frozen=True)
class Oracle:
    """An identity's left-hand side by torch autograd: the softmax outputs (or, with a loss, the
    loss) differentiated with respect to the sample's input `wrt`, through `logits`."""
    wrt: str                                    # a key of sample(): "z", "W", "b", "w", "w_k"
    logits: Callable                            # (sample, value of wrt) -> logits
    slopes: Callable | None = None              # (sample) -> D_j, for closed forms with f' in them

    def function(self, s: dict, loss: str | None):
        outcome = (lambda t: torch.softmax(t, 0)) if loss is None else _loss(loss, s["y"])
        return lambda value: outcome(self.logits(s, value))

    def value(self, s: dict, loss: str | None = None) -> torch.Tensor:
        return jacobian(self.function(s, loss), s[self.wrt])

    def yhat(self, s: dict) -> torch.Tensor:
        return torch.softmax(self.logits(s, s[self.wrt]), 0)

    def slope_values(self, s: dict) -> torch.Tensor:
        if self.slopes is None:
            return torch.zeros(len(s["z"]), dtype=torch.float64)
        return self.slopes(s)

    def gradcheck(self, s: dict, loss: str | None) -> None:
        """Finite differences agree with autograd on the definition, or gradcheck raises."""
        torch.autograd.gradcheck(self.function(s, loss), (s[self.wrt].clone().requires_grad_(True),))


def closed_function(identity: Identity, n: int, loss):
    """numpy function of (YH, Y, X, D) returning the closed form at every index in the identity's
    case, row-major."""
    c = Concrete(n, numeric=True)
    values = list(closed_values(identity, c, loss).values())
    fn = sp.lambdify([c.YH, c.Y, c.X, c.D], values, modules="numpy")
    return lambda s, yh, d: np.array(fn(yh, s["y"].numpy(), s["x"].numpy(), d), dtype=float)


def verify(identity: Identity, n_values=range(2, 7), points: int = 20, seed: int = 0) -> dict:
    """Max absolute and relative error between the closed form and autograd, over all points."""
    gen = torch.Generator().manual_seed(seed)
    oracle = identity.oracle
    max_abs, max_rel = 0.0, 0.0
    for n in n_values:
        covered = np.array([in_case(identity, idx) for idx in full_grid(identity, n)])
        for loss in identity.losses:
            closed = closed_function(identity, n, loss)
            for point in range(points):
                s = sample(n, point, gen)
                yh, d = oracle.yhat(s).numpy(), oracle.slope_values(s).numpy()
                expected = oracle.value(s, loss).numpy().reshape(-1)[covered]
                got = closed(s, yh, d).reshape(-1)
                err = np.abs(got - expected)
                max_abs = max(max_abs, float(err.max()))
                big = np.abs(expected) > 1e-6  # relative error only where cancellation cannot dominate
                if big.any():
                    max_rel = max(max_rel, float((err[big] / np.abs(expected[big])).max()))
                if point == 0:
                    oracle.gradcheck(s, loss)
    return {"max_abs_err": max_abs, "max_rel_err": max_rel, "n_values": list(n_values),
            "points": points}
