"""Task 2's network, labels and training step, in torch.nn (imports only torch)."""
import torch
from torch import nn


def build_net(hidden, n_inputs=784, n_outputs=2):
    """Task 2: 784-hidden-2 with ReLU; logits out: CrossEntropyLoss applies log-softmax itself."""
    sizes, layers = [n_inputs, *hidden], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_outputs))


def random_labels(seed, n_train, n_test):
    """Bernoulli(1/2) labels drawn once: the training labels first, then the test labels."""
    gen = torch.Generator().manual_seed(seed)
    train = torch.bernoulli(torch.full((n_train,), 0.5), generator=gen).long()
    test = torch.bernoulli(torch.full((n_test,), 0.5), generator=gen).long()
    return train, test


def make_optimizer(name, params, lr):
    return torch.optim.Adam(params, lr=lr) if name == "adam" else torch.optim.SGD(params, lr=lr)


def full_batch_step(net, optimizer, x, y):
    """Task 2: one step on the whole training batch (no shuffling: it is one batch)."""
    optimizer.zero_grad()
    nn.CrossEntropyLoss()(net(x), y).backward()
    optimizer.step()
