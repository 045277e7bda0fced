"""A multilayer perceptron written from torch tensor operations only (Task 1's rules).

No autograd, no torch.nn, no built-in activations, losses or optimisers: every forward step has
its backward step written beside it, and tests compare each gradient with torch autograd.

    params = init_params([784, 128, 64, 10], "relu", torch.Generator().manual_seed(0))
    cache = forward(params, x, "relu")              # cache["p"]: softmax probabilities (B, 10)
    grads = backward_pass(params, cache, y_onehot, "relu", "mse")
    sgd_step(params, grads, lr=0.01)     # or both at once: backward_sgd_step(..., lr=0.01)
    train_loss, train_acc = evaluate(params, x_train, labels_train, "relu", "mse")

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
    """exp(z_i) / sum_j exp(z_j), shifted by max z so that exp never overflows."""
    e = torch.exp(z - z.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)


def log_softmax_of(z):
    shifted = z - z.amax(dim=1, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


# --- losses on the softmax output: value and gradient w.r.t. the logits z -----------------------

def mse_loss(z, p, y):
    """L = (1/B) sum_b sum_i (p_bi - y_bi)^2: summed over classes, averaged over the batch."""
    return ((p - y) ** 2).sum(dim=1).mean()


def mse_dz(p, y):
    dp = (p - y) * (2.0 / p.shape[0])                          # (B, C)
    # softmax Jacobian dp_i/dz_k = p_i (delta_ik - p_k), applied without forming it
    return p * (dp - (dp * p).sum(dim=1, keepdim=True))        # (B, C)


def ce_loss(z, p, y):
    """L = -(1/B) sum_b sum_i y_bi log p_bi, from the logits for stability."""
    return -(y * log_softmax_of(z)).sum(dim=1).mean()


def ce_dz(p, y):
    return (p - y) / p.shape[0]                                # (B, C)


LOSSES = {"mse": (mse_loss, mse_dz), "ce": (ce_loss, ce_dz)}


# Rows per forward pass when predicting or evaluating: each layer's output (0.5 MB at most) stays
# in the core's cache, where 10,000 rows ran 6 % slower. predict and evaluate share it, so
# training's evaluation and the graders' eval script compute the same numbers.
EVAL_CHUNK = 1024


# --- the network ------------------------------------------------------------------------------

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


def n_layers(params):
    return len(params) // 2


def forward(params, x, activation):
    """Keep every intermediate for the backward pass: z_l pre-activations, h_l outputs."""
    act = ACTIVATIONS[activation][0]
    cache = {"h0": x}                                          # (B, 784)
    last = n_layers(params)
    for l in range(1, last + 1):
        z = cache[f"h{l-1}"] @ params[f"W{l}"] + params[f"b{l}"]  # (B, fan_out)
        cache[f"z{l}"] = z
        cache[f"h{l}"] = act(z) if l < last else softmax(z)
    cache["p"] = cache[f"h{last}"]                             # (B, C) probabilities
    return cache


def layer_errors(params, cache, y, activation, loss):
    """Yield (l, h_{l-1}, dz_l) from the last layer down, dz_l = dL/dz_l; y is one-hot (B, C).
    Each layer's gradients follow: dW_l = h_{l-1}^T dz_l and db_l = dz_l summed over the batch.
    dz_{l-1} is formed before dz_l is yielded, so the caller may already update W_l in place."""
    act_grad = ACTIVATIONS[activation][1]
    dz = LOSSES[loss][1](cache["p"], y)                        # (B, C)
    for l in range(n_layers(params), 1, -1):
        h_prev = cache[f"h{l-1}"]
        dh = dz @ params[f"W{l}"].T                            # (B, fan_in)
        dz_below = dh * act_grad(cache[f"z{l-1}"], h_prev)     # (B, fan_in)
        yield l, h_prev, dz
        dz = dz_below
    yield 1, cache["h0"], dz


def backward_pass(params, cache, y, activation, loss):
    """Gradients of the mean batch loss w.r.t. every W_l and b_l; y is one-hot (B, C)."""
    grads = {}
    for l, h_prev, dz in layer_errors(params, cache, y, activation, loss):
        grads[f"W{l}"] = h_prev.T @ dz                         # (fan_in, fan_out)
        grads[f"b{l}"] = dz.sum(dim=0)                         # (fan_out,)
    return grads


def sgd_step(params, grads, lr):
    for name, g in grads.items():
        params[name].add_(g, alpha=-lr)                        # p -= lr g, without a temporary lr g


def backward_sgd_step(params, cache, y, activation, loss, lr):
    """sgd_step(params, backward_pass(...), lr) in one sweep, each W_l -= lr h_{l-1}^T dz_l as
    one matrix product accumulated into W_l: the (fan_in, fan_out) gradient is never stored and
    read back (7 % of an epoch)."""
    for l, h_prev, dz in layer_errors(params, cache, y, activation, loss):
        params[f"W{l}"].addmm_(h_prev.T, dz, alpha=-lr)        # (fan_in, fan_out)
        params[f"b{l}"].add_(dz.sum(dim=0), alpha=-lr)         # (fan_out,)


def train_epoch(params, x, y_onehot, order, batch_size, activation, loss, lr):
    """One epoch of mini-batch SGD, the batches taken in `order`."""
    for batch in order.split(batch_size):
        # index_select, not x[batch]: advanced indexing took 2.5 times as long (7 % of the
        # epoch). Gathering the whole epoch up front is slower still: a fresh copy of the
        # training set, written out and read back.
        x_batch, y_batch = x.index_select(0, batch), y_onehot.index_select(0, batch)
        cache = forward(params, x_batch, activation)
        backward_sgd_step(params, cache, y_batch, activation, loss, lr)


def one_hot(labels, n_classes, dtype=torch.float32):
    y = torch.zeros(len(labels), n_classes, dtype=dtype, device=labels.device)
    return y.scatter_(1, labels.view(-1, 1), 1.0)


def predict(params, x, activation, chunk=EVAL_CHUNK):
    """Probabilities for a whole set, in chunks to bound memory."""
    return torch.cat([forward(params, x[i:i + chunk], activation)["p"]
                      for i in range(0, len(x), chunk)])


def accuracy(p, labels):
    return (p.argmax(dim=1) == labels).float().mean().item()


def evaluate(params, x, labels, activation, loss, chunk=EVAL_CHUNK):
    """(mean loss, accuracy) over a whole set, from one forward pass in chunks: the loss from
    the logits and probabilities that pass computed, the accuracy exactly as predict gives it."""
    last = n_layers(params)
    logits, probs = [], []
    for i in range(0, len(x), chunk):
        cache = forward(params, x[i:i + chunk], activation)
        logits.append(cache[f"z{last}"])
        probs.append(cache["p"])
    z, p = torch.cat(logits), torch.cat(probs)                 # (N, C)
    y = one_hot(labels, p.shape[1], p.dtype)
    return LOSSES[loss][0](z, p, y).item(), accuracy(p, labels)
