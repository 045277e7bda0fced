"""A fixed thread count for torch: the same arithmetic in training and in every later evaluation."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def fixed_threads(n: int):
    """Run torch with n threads, then restore: a matrix product's rounding depends on the thread
    count, so training and every later evaluation use the same one to get identical numbers."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
