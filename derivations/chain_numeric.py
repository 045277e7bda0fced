"""The numeric half of a step's check: both sides in torch float64 at random points, every
derivative taken by autograd (the same oracle as the identities: derivations/verify.py).

A batch of points is evaluated at once, each row with its own index values (env maps an index
letter to a tensor of classes, one per row), so every entry of every point costs one pass: logits z (a leaf, or f(w) of the weights when the
chain differentiates by w: verify.f_of_w, z_m = a_m sin(w_m) + c_m w_m^2 with a weight per
logit, or of one shared weight), targets y (summing to 1 only where the chain declares it, so
that a step that needs it and does not say so is refuted), and the slopes f' = df/dw.
"""
from __future__ import annotations

import torch

from derivations import chain_tree as ast

SCALES = (1.0, 2.0, 3.0)   # logit magnitudes, cycled over the points: values stay readable


class Point:
    """A batch of `points` random inputs for n classes, in a setting: "z" (logits are the leaf),
    "own" (z_m = f_m(w_m)) or "shared" (z_m = f_m(w))."""

    def __init__(self, n: int, points: int, setting: str, sum_one: bool, seed: int):
        gen = torch.Generator().manual_seed(seed)
        r = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)  # noqa: E731
        scale = torch.tensor([SCALES[p % len(SCALES)] for p in range(points)],
                             dtype=torch.float64)[:, None]
        self.n, self.setting = n, setting
        a, c = r(points, n) * scale, r(points, n)
        if setting == "z":
            self.weight = None
            self.z = (r(points, n) * scale).requires_grad_(True)
            self.slope = r(points, n)  # f' means nothing here; a value keeps it a free symbol
        else:
            shape = (points, n) if setting == "own" else (points, 1)
            self.weight = r(*shape).requires_grad_(True)
            w = self.weight
            self.z = a * torch.sin(w) + c * w ** 2
            self.slope = (a * torch.cos(w) + 2 * c * w).detach()
        if sum_one:
            self.y = torch.softmax(r(points, n) * 2, 1)
        else:
            self.y = torch.rand(points, n, generator=gen, dtype=torch.float64)
        self.yhat = torch.softmax(self.z, 1)
        self.rows = torch.arange(points)
        self.inexact = torch.zeros(points, dtype=torch.bool)  # an e^x overflowed or underflowed
        self.constants, self.gradients, self.free = {}, {}, {}

    def constant(self, m: int) -> torch.Tensor:
        """Class m in every row: one tensor per m, so that memo keys can use its identity."""
        if m not in self.constants:
            self.constants[m] = torch.full_like(self.rows, m)
        return self.constants[m]

    def shown(self, p: int) -> dict:
        """The inputs of point p, rounded, for a counterexample."""
        out = {"z": [round(v, 4) for v in self.z[p].tolist()]}
        out["f'"] = [round(v, 4) for v in self.slope[p].tolist()]
        out["y"] = [round(v, 4) for v in self.y[p].tolist()]
        return out


def value(node, env: dict, pt: Point, loss: str) -> torch.Tensor:
    """The side at every point of the batch, shape (points,)."""
    go = lambda child, e=env: value(child, e, pt, loss)  # noqa: E731
    if isinstance(node, ast.Num):
        return torch.full((pt.z.shape[0],), float(node.value), dtype=torch.float64)
    if isinstance(node, ast.Add):
        return sum((go(t) for t in node.terms[1:]), go(node.terms[0]))
    if isinstance(node, ast.Mul):
        out = go(node.factors[0])
        for factor in node.factors[1:]:
            out = out * go(factor)
        return out
    if isinstance(node, ast.Pow):
        return go(node.base) ** node.exp
    if isinstance(node, ast.Exp):
        arg = go(node.arg)
        out = torch.exp(arg)
        lost = (torch.isinf(out) | (out == 0)) & torch.isfinite(arg)  # beyond float64's range
        pt.inexact |= lost.detach().expand(pt.inexact.shape)
        return out
    if isinstance(node, ast.Log):
        return torch.log(go(node.arg))
    if isinstance(node, ast.Indexed):
        table = {"yhat": pt.yhat, "logit": pt.z, "slope": pt.slope, "target": pt.y}
        return table[node.kind][pt.rows, env[node.index] - 1]
    if isinstance(node, ast.Delta):
        return (env[node.a] == env[node.b]).to(torch.float64)
    if isinstance(node, ast.Loss):
        kind = loss if node.kind == "any" else node.kind
        if kind == "ce":
            return -(pt.y * torch.log(pt.yhat)).sum(1)
        return ((pt.yhat - pt.y) ** 2).sum(1)
    if isinstance(node, ast.Sum):
        return sum(go(node.body, {**env, node.var: pt.constant(m)})
                   for m in range(1, pt.n + 1))
    if isinstance(node, ast.Deriv):
        return _derivative(node, env, pt, loss)
    raise TypeError(node)


def _derivative(node: ast.Deriv, env: dict, pt: Point, loss: str) -> torch.Tensor:
    """Autograd: the points are independent, so the gradient of the batch's sum is each row's.
    The whole gradient is kept, so d yhat_j / d z_k under a sum over k is one backward pass."""
    if id(node.body) not in pt.free:
        pt.free[id(node.body)] = sorted(ast.free_indices(node.body))
    key = (id(node.body), node.wrt, tuple(id(env[i]) for i in pt.free[id(node.body)]))
    if key not in pt.gradients:
        body = value(node.body, env, pt, loss)
        by = {"z": pt.z, "yhat": pt.yhat, "w": pt.weight}[node.wrt]
        grad = None
        if body.requires_grad:
            (grad,) = torch.autograd.grad(body.sum(), by, create_graph=True, allow_unused=True)
        pt.gradients[key] = (body, grad)
    body, grad = pt.gradients[key]
    if grad is None:
        return torch.zeros_like(body)
    if node.wrt == "w" and node.index is None:
        return grad[:, 0]
    return grad[pt.rows, env[node.index] - 1]
