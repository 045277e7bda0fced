"""A multilayer perceptron written from torch tensor operations only (Task 1's rules).

No autograd, no torch.nn, no built-in activations, losses or optimisers: every forward step has
its backward step written beside it, and tests compare each gradient with torch autograd.

    params = init_params([784, 128, 64, 10], "relu", torch.Generator().manual_seed(0))
    cache = forward(params, x, "relu")              # cache["p"]: softmax probabilities (B, 10)
    grads = backward_pass(params, cache, y_onehot, "relu", "mse")
    sgd_step(params, grads, lr=0.01)     # or both at once: backward_sgd_step(..., lr=0.01)
    train_loss, train_acc = evaluate(params, x_train, labels_train, "relu", "mse")

Training runs on a stack of networks, one per seed, that share the architecture and settings:
stack([params_0, params_1, ...]) puts each weight along a leading seed dimension, train_epoch
steps every network at once through batched matrix products (torch.bmm, baddbmm_), each network
on its own batch order, and network(stacked, s) takes seed s's weights out again. A single
network is a stack of one (forward and the rest above): there is one code path.

This file imports nothing but torch and math; the graders receive it unchanged (package hw1).
"""
import math

import torch


# --- activations: (forward, derivative given the pre-activation z and the output a) ------------

def relu(z):
    return z.clamp_min(0.0)


def relu_grad(z, a):
    # 1 where z > 0, else 0, read off a = max(z, 0) >= 0: one float kernel, where (z > 0)
    # takes two (compare, then convert the booleans): 4 % of an epoch
    return a.sign()


def sigmoid(z):
    # exp(-z) overflows to inf for z << 0 and 1 / (1 + inf) = 0: the right limit, no NaN.
    return 1.0 / (1.0 + torch.exp(-z))


def sigmoid_grad(z, a):
    return a * (1.0 - a)


def tanh(z):
    return 2.0 * sigmoid(2.0 * z) - 1.0


def tanh_grad(z, a):
    return 1.0 - a * a


ACTIVATIONS = {"relu": (relu, relu_grad), "sigmoid": (sigmoid, sigmoid_grad),
               "tanh": (tanh, tanh_grad)}


def softmax(z):
    """exp(z_i) / sum_j exp(z_j) over the last dimension (the classes), shifted by max z so that
    exp never overflows."""
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))           # (..., B, C)
    return e.div_(e.sum(dim=-1, keepdim=True))


def log_softmax_of(z):
    shifted = z - z.amax(dim=-1, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))


# --- losses on the softmax output: value and gradient w.r.t. the logits z -----------------------
# z, p, y: (B, C) for one network, (S, B, C) for a stack; a loss is one value per network.

def mse_loss(z, p, y):
    """L = (1/B) sum_b sum_i (p_bi - y_bi)^2: summed over classes, averaged over the batch."""
    return ((p - y) ** 2).sum(dim=-1).mean(dim=-1)


def mse_dz(p, y):
    dp = (p - y).mul_(2.0 / p.shape[-2])                       # (S, B, C)
    # softmax Jacobian dp_i/dz_k = p_i (delta_ik - p_k), applied without forming it
    return (dp - (dp * p).sum(dim=-1, keepdim=True)).mul_(p)   # (S, B, C)


def ce_loss(z, p, y):
    """L = -(1/B) sum_b sum_i y_bi log p_bi, from the logits for stability."""
    return -(y * log_softmax_of(z)).sum(dim=-1).mean(dim=-1)


def ce_dz(p, y):
    return (p - y) / p.shape[-2]                               # (S, B, C)


LOSSES = {"mse": (mse_loss, mse_dz), "ce": (ce_loss, ce_dz)}


# Rows per forward pass when predicting or evaluating: each layer's output (0.5 MB at most) stays
# in the core's cache, where 10,000 rows ran 6 % slower. predict and evaluate share it, so
# training's evaluation and the graders' eval script compute the same numbers.
EVAL_CHUNK = 1024


# --- one network, and a stack of them -----------------------------------------------------------

def init_params(sizes, activation, generator, dtype=torch.float32, device="cpu"):
    """He-normal weights for ReLU (std sqrt(2/fan_in)), Glorot-normal for sigmoid and tanh
    (std sqrt(2/(fan_in+fan_out))); zero biases. W_l has shape (fan_in, fan_out): h @ W + b."""
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        gain = 2.0 / fan_in if activation == "relu" else 2.0 / (fan_in + fan_out)
        w = torch.randn(fan_in, fan_out, generator=generator, dtype=dtype) * math.sqrt(gain)
        params[f"W{l}"] = w.to(device)
        params[f"b{l}"] = torch.zeros(fan_out, dtype=dtype, device=device)
    return params


def stack(networks):
    """Networks of one architecture as one stack: W_l (S, fan_in, fan_out), b_l (S, fan_out)."""
    return {name: torch.stack([params[name] for params in networks]) for name in networks[0]}


def network(stacked, s):
    """Network s of a stack, as a copy of its own (W_l (fan_in, fan_out), b_l (fan_out,)): saved
    alone, it holds its weights only, and it sits where a freshly loaded network would."""
    return {name: value[s].clone() for name, value in stacked.items()}


def as_stack(params):
    """One network as a stack of one: views, so that an update of the stack updates params."""
    return {name: value.unsqueeze(0) for name, value in params.items()}


def n_layers(params):
    return len(params) // 2


def layers_of(stacked):
    """[(W_l, b_l, W_l^T)] for l = 1..L, b_l as (S, 1, fan_out) to broadcast over the batch. Views
    of the stack, which the SGD step updates in place, so one list serves a whole epoch: no name
    lookups and no new views per batch."""
    return [(stacked[f"W{l}"], stacked[f"b{l}"].unsqueeze(1), stacked[f"W{l}"].transpose(1, 2))
            for l in range(1, n_layers(stacked) + 1)]


# torch.bmm rather than @, and elementwise steps in place (add_, mul_, div_) on tensors just made:
# a step makes about 40 calls into torch, whose Python side is, after the matrix products, the
# largest cost of a step; a stack pays it once for all its networks.

def forward_layers(layers, x, activation):
    """Every layer's output h_l (h_0 = x; the last, h_L, the softmax probabilities p) and
    pre-activation z_l, kept for the backward pass; x is (S, B, fan_in), one batch per network."""
    act = ACTIVATIONS[activation][0]
    hs, zs = [x], []                                           # hs[0]: (S, B, 784)
    for l, (w, b, _) in enumerate(layers, start=1):
        z = torch.bmm(hs[-1], w).add_(b)                       # (S, B, fan_out)
        zs.append(z)
        hs.append(act(z) if l < len(layers) else softmax(z))
    return hs, zs                                              # hs[-1]: (S, B, C)


def forward(params, x, activation):
    """One network on x (B, fan_in): h0..hL outputs, z1..zL pre-activations, p = hL."""
    hs, zs = forward_layers(layers_of(as_stack(params)), x.unsqueeze(0), activation)
    cache = {f"h{l}": h[0] for l, h in enumerate(hs)}
    cache.update({f"z{l}": z[0] for l, z in enumerate(zs, start=1)})
    cache["p"] = cache[f"h{len(zs)}"]                          # (B, C) probabilities
    return cache


def _cached_lists(params, cache):
    """forward's cache as the stack of one that layer_errors reads."""
    return ([cache[f"h{l}"].unsqueeze(0) for l in range(n_layers(params) + 1)],
            [cache[f"z{l}"].unsqueeze(0) for l in range(1, n_layers(params) + 1)])


def layer_errors(layers, hs, zs, y, activation, loss):
    """Yield (l, h_{l-1}, dz_l) from the last layer down, dz_l = dL/dz_l; y is one-hot (S, B, C).
    Each layer's gradients follow: dW_l = h_{l-1}^T dz_l and db_l = dz_l summed over the batch.
    dz_{l-1} is formed before dz_l is yielded, so the caller may already update W_l in place."""
    act_grad = ACTIVATIONS[activation][1]
    dz = LOSSES[loss][1](hs[-1], y)                            # (S, B, C)
    for l in range(len(layers), 1, -1):
        h_prev = hs[l - 1]
        dh = torch.bmm(dz, layers[l - 1][2])                   # dz_l W_l^T: (S, B, fan_in)
        dz_below = dh.mul_(act_grad(zs[l - 2], h_prev))        # (S, B, fan_in)
        yield l, h_prev, dz
        dz = dz_below
    yield 1, hs[0], dz


def backward_pass(params, cache, y, activation, loss):
    """Gradients of one network's mean batch loss w.r.t. every W_l and b_l; y is one-hot (B, C)."""
    grads = {}
    for l, h_prev, dz in layer_errors(layers_of(as_stack(params)), *_cached_lists(params, cache),
                                      y.unsqueeze(0), activation, loss):
        grads[f"W{l}"] = torch.bmm(h_prev.transpose(1, 2), dz)[0]  # (fan_in, fan_out)
        grads[f"b{l}"] = dz.sum(dim=1)[0]                          # (fan_out,)
    return grads


def sgd_step(params, grads, lr):
    for name, g in grads.items():
        params[name].add_(g, alpha=-lr)                        # p -= lr g, without a temporary lr g


def backward_sgd_layers(layers, hs, zs, y, activation, loss, lr):
    """sgd_step(params, backward_pass(...), lr) in one sweep for every network of the stack, each
    W_l -= lr h_{l-1}^T dz_l as one batched product accumulated into W_l: the (S, fan_in, fan_out)
    gradient is never stored and read back."""
    for l, h_prev, dz in layer_errors(layers, hs, zs, y, activation, loss):
        w, b, _ = layers[l - 1]
        w.baddbmm_(h_prev.transpose(1, 2), dz, alpha=-lr)     # (S, fan_in, fan_out)
        b.add_(dz.sum(dim=1, keepdim=True), alpha=-lr)         # (S, 1, fan_out)


def backward_sgd_step(params, cache, y, activation, loss, lr):
    """backward_sgd_layers on one network and forward's cache."""
    backward_sgd_layers(layers_of(as_stack(params)), *_cached_lists(params, cache), y.unsqueeze(0),
                        activation, loss, lr)


def train_epoch(stacked, x, y_onehot, orders, batch_size, activation, loss, lr):
    """One epoch of mini-batch SGD for every network of the stack, network s taking its batches
    in orders[s] (orders: (S, N)); the stack is updated in place."""
    layers, n_networks = layers_of(stacked), len(orders)
    for batch in orders.split(batch_size, dim=1):              # (S, B)
        # index_select, not x[batch]: advanced indexing took 2.5 times as long (7 % of the
        # epoch). Gathering the whole epoch up front is slower still: a copy of the training set,
        # written out and read back. All networks' rows in one call, network by network.
        rows = batch.reshape(-1)
        x_batch = x.index_select(0, rows).view(n_networks, -1, x.shape[1])
        y_batch = y_onehot.index_select(0, rows).view(n_networks, -1, y_onehot.shape[1])
        hs, zs = forward_layers(layers, x_batch, activation)
        backward_sgd_layers(layers, hs, zs, y_batch, activation, loss, lr)


def one_hot(labels, n_classes, dtype=torch.float32):
    y = torch.zeros(len(labels), n_classes, dtype=dtype, device=labels.device)
    return y.scatter_(1, labels.view(-1, 1), 1.0)


def predict(params, x, activation, chunk=EVAL_CHUNK):
    """One network's probabilities for a whole set, in chunks to bound memory."""
    return torch.cat([forward(params, x[i:i + chunk], activation)["p"]
                      for i in range(0, len(x), chunk)])


def accuracy(p, labels):
    return (p.argmax(dim=1) == labels).float().mean().item()


def evaluate(params, x, labels, activation, loss, chunk=EVAL_CHUNK):
    """One network's (mean loss, accuracy) over a whole set, from one forward pass in chunks: the
    loss from the logits and probabilities that pass computed, the accuracy exactly as predict
    gives it."""
    last = n_layers(params)
    logits, probs = [], []
    for i in range(0, len(x), chunk):
        cache = forward(params, x[i:i + chunk], activation)
        logits.append(cache[f"z{last}"])
        probs.append(cache["p"])
    z, p = torch.cat(logits), torch.cat(probs)                 # (N, C)
    y = one_hot(labels, p.shape[1], p.dtype)
    return LOSSES[loss][0](z, p, y).item(), accuracy(p, labels)
