"""`make bench`: one epoch of Task 1 measured several ways, side by side in one run -> results/bench.json.

    python -m experiments.bench

1. scratch: this project's trainer (hw1.scratch_mlp.train_epoch) on one network, and where its
   epoch goes: a torch profile split into gather, matrix products, elementwise kernels and Python;
2. floors, the same epoch's matrix products alone at the same shapes and batch count:
   matmul_floor (compute) on rows already in the cache, and data_floor, which also reads every
   training row once, in order, into the batch (what a gather would cost if the order were not
   shuffled: the least any epoch over the data must do);
3. eval: the per-epoch evaluation, loss and accuracy over the test set and the fixed 10,000-image
   training subset (hw1.task1.train_monitor), beside its own matmul floor (the forward products over both sets, in the same chunks);
4. torch_nn: the same network, loss, batch and batch order with torch.nn + autograd + optim.SGD;
5. dataloader: the torch.nn version fed the way typical solutions do it, a DataLoader over
   torchvision's MNIST with a per-sample ToTensor transform (information only, no budget);
6. grid: what the experiment grid does per epoch for the main configuration's seeds, training
   and per-epoch evaluation, the seeds one at a time (each a stack of one, as the grid ran them
   before stacking) and together (one stack, as the grid runs them), in images per second and
   against the compute floor of the same arithmetic (the seeds' matmul floors, training's and
   evaluation's).
All use one thread (as the suite's runs do), the main configuration of config.toml and its
[data] dataset (MNIST and Fashion-MNIST have the same shapes, so the same costs). All but
the DataLoader alternate for REPEATS rounds and report their median CPU time: the machine may be
shared, and alternating exposes every measurement to the same load.
Budgets: scratch / torch_nn <= 1.0, scratch / data_floor <= 1.3, eval / scratch <= 0.25.
The CPU model and vector extensions are recorded beside the times: the ratios differ by CPU.
"""
from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from experiments import datasets, q1
from hw1.names import DATASETS as TORCHVISION_CLASSES
from hw1 import scratch_mlp as mlp
from hw1 import task1
from pipeline import cli, config, paths, provenance

REPEATS = 5
BUDGETS = {"ratio_scratch_vs_torch_nn": 1.0, "ratio_scratch_vs_data_floor": 1.3,
           "ratio_eval_vs_epoch": 0.25}
# Where each input batch of a floor comes from (see matmul_floor).
CACHED, COPIED, IN_PLACE = "cached", "copied", "in place"
# The profile's parts: torch operators by name; every other operator counts as elementwise
# (views and reductions included), and the epoch's time outside all operators as Python.
PROFILE_PARTS = {"gather": {"aten::index_select"},
                 "matmuls": {"aten::bmm", "aten::baddbmm", "aten::baddbmm_", "aten::mm",
                             "aten::addmm", "aten::addmm_", "aten::matmul"}}
VECTOR_EXTENSION = re.compile(r"(sse|ssse|avx|fma|f16c|amx|asimd|sve|neon)", re.IGNORECASE)


def _timed(fn) -> float:
    """CPU seconds of this process. Every pipeline here runs on one thread, so on an idle
    machine this is the wall time; on a shared one it leaves out the time others held the core."""
    start = time.process_time()
    fn()
    return time.process_time() - start


@torch.no_grad()  # as in training: the course forbids autograd
def scratch_epoch(cfg, data, order):
    """One epoch of one network (a stack of one); its weights after it."""
    return stacked_epoch(cfg, data, order.view(1, -1))[0]


def stacked_epoch(cfg, data, orders, first_seed=0):
    """One epoch of a stack of networks, network s initialised from seed first_seed + s and
    trained on orders[s]; the networks' weights after it."""
    stacked = mlp.stack([mlp.init_params([784, *cfg.hidden, 10], cfg.activation,
                                         torch.Generator().manual_seed(first_seed + s))
                         for s in range(len(orders))])
    y = mlp.one_hot(data["y_train"], 10)
    mlp.train_epoch(stacked, data["x_train"], y, orders, cfg.batch_size, cfg.activation, cfg.loss, cfg.lr)
    return [mlp.network(stacked, s) for s in range(len(orders))]


@torch.no_grad()
def grid_epoch(cfg, data, orders, together: bool):
    """An epoch of the grid for len(orders) seeds: training, all seeds as one stack or each seed
    alone, then each network's per-epoch evaluation (as hw1.task1.train_together does)."""
    if together:
        networks = stacked_epoch(cfg, data, orders)
    else:
        networks = [stacked_epoch(cfg, data, orders[s:s + 1], first_seed=s)[0]
                    for s in range(len(orders))]
    for params in networks:
        eval_epoch(cfg, data, params)


def floor_inputs(x, rows, source):
    """Each batch's input rows for matmul_floor, `rows` at a time over x (see there)."""
    batch = torch.empty(rows, x.shape[1], dtype=x.dtype)
    for i in range(0, len(x), rows):
        n = min(rows, len(x) - i)
        if source == CACHED:
            yield x[:n]
        elif source == COPIED:
            yield batch[:n].copy_(x[i:i + n])
        else:
            yield x[i:i + n]


def matmul_floor(cfg, x, rows, backward=True, source=IN_PLACE):
    """The matrix products alone, `rows` rows of x at a time: the forward products h_{l-1} W_l
    and, with `backward`, h_{l-1}^T dz_l (weight gradients) and dz_l W_l^T (l > 1), at the
    network's shapes with fixed stand-in errors dz_l. No bias, activation, loss or update.
    Each batch's input: IN_PLACE the slice of x itself (as evaluation reads it), CACHED the first
    rows again and again (arithmetic alone), COPIED the slice copied into one batch buffer (every
    row read once, in order, and written where the products read it, as a gather does)."""
    sizes, gen = [x.shape[1], *cfg.hidden, 10], torch.Generator().manual_seed(0)
    weights = [torch.randn(fan_in, fan_out, generator=gen) / math.sqrt(fan_in)
               for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    errors = [torch.randn(rows, fan_out, generator=gen) for fan_out in sizes[1:]]
    transposed = [w.t() for w in weights]  # called as the trainer calls them, torch.mm on views
    for rows_in in floor_inputs(x, rows, source):
        n, h = len(rows_in), [rows_in]                          # h[l]: (n, sizes[l])
        for w in weights:
            h.append(torch.mm(h[-1], w))
        if not backward:
            continue
        for l in reversed(range(len(weights))):
            dz = errors[l][:n]                                  # (n, fan_out)
            torch.mm(h[l].t(), dz)                              # (fan_in, fan_out)
            if l > 0:
                torch.mm(dz, transposed[l])                     # (n, fan_in)


@contextlib.contextmanager
def _stderr_hidden():
    """The profiler's C++ library prints progress lines on stderr (file descriptor 2): kept off
    the terminal while it runs."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _profile_part(operator: str) -> str:
    return next((part for part, names in PROFILE_PARTS.items() if operator in names), "elementwise")


def epoch_breakdown(cfg, data, order, epoch_s: float) -> dict:
    """Seconds of the scratch epoch per part, from a torch profile of one epoch. Each operator's
    time is its fastest call of one shape times their number: the profiler reads the wall clock,
    and on a machine shared with other work many calls are stretched by whole time slices. Python
    is what is left of the epoch's median CPU time `epoch_s`: the Python side of every call into
    torch, and on a shared machine what other work's use of the caches cost the kernels."""
    with _stderr_hidden(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                                  record_shapes=True) as profile:
        scratch_epoch(cfg, data, order)
    calls = collections.defaultdict(list)
    for event in profile.events():
        calls[event.name, str(event.input_shapes)].append(event.self_cpu_time_total)
    seconds = dict.fromkeys([*PROFILE_PARTS, "elementwise"], 0.0)
    for (operator, _), micros in calls.items():
        seconds[_profile_part(operator)] += min(micros) * len(micros) / 1e6
    seconds["python"] = max(epoch_s - sum(seconds.values()), 0.0)
    return {f"{part}_s": s for part, s in seconds.items()}


def cpu_info(cpuinfo="/proc/cpuinfo") -> dict:
    """The CPU model and vector extensions (from /proc/cpuinfo where there is one) and the
    instruction set torch's own kernels were dispatched to."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    fields = {}
    for line in text.splitlines():  # the first processor's fields: all are alike
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    model = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:  # a virtual machine may say only "AMD EPYC"
        model += f" (family {fields['cpu family']}, model {fields['model']})"
    flags = (fields.get("flags") or fields.get("Features") or "").split()
    return {"cpu_model": model,
            "cpu_vector_extensions": [f for f in flags if VECTOR_EXTENSION.match(f)],
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


@torch.no_grad()
def eval_epoch(cfg, data, params):
    """What the training loop evaluates after each epoch: loss and accuracy on the test set and on
    the fixed training subset (hw1.task1.train_monitor)."""
    mlp.evaluate(params, data["x_monitor"], data["y_monitor"], cfg.activation, cfg.loss)
    mlp.evaluate(params, data["x_test"], data["y_test"], cfg.activation, cfg.loss)


def _torch_net(cfg):
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[cfg.activation]
    sizes, layers = [784, *cfg.hidden], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), act()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 10), nn.Softmax(dim=1))


def _torch_step(net, optimizer, x, labels):
    y = nn.functional.one_hot(labels, 10).float()
    optimizer.zero_grad()
    loss = ((net(x) - y) ** 2).sum(dim=1).mean()  # the same MSE as the scratch trainer
    loss.backward()
    optimizer.step()


def torch_nn_epoch(cfg, data, order):
    net = _torch_net(cfg)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    for i in range(0, len(order), cfg.batch_size):
        batch = order[i:i + cfg.batch_size]
        # gathered as the scratch trainer does, so the two differ in the network step alone
        _torch_step(net, optimizer, data["x_train"].index_select(0, batch),
                    data["y_train"].index_select(0, batch))


def dataloader_epoch(cfg, dataset_name: str):
    import torchvision.datasets
    from torch.utils.data import DataLoader
    from torchvision import transforms
    reader = getattr(torchvision.datasets, TORCHVISION_CLASSES[dataset_name])
    dataset = reader(str(paths.DATA), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    net = _torch_net(cfg)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    for images, labels in loader:
        _torch_step(net, optimizer, images.view(len(images), -1), labels)


def _alternating_medians(timed: dict, repeats: int) -> dict:
    """Run each function once per round, `repeats` rounds; the median seconds of each."""
    times = {name: [] for name in timed}
    for _ in range(repeats):
        for name, fn in timed.items():
            times[name].append(_timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def grid_throughput(seconds: dict, n_seeds: int, n_train: int) -> dict:
    """The grid's epoch of n_seeds seeds one at a time and together: seconds, training images per
    second, and each against the compute floor of the same arithmetic (n_seeds times one
    network's matmul floors, training's and evaluation's)."""
    floor = n_seeds * (seconds["matmul_floor"] + seconds["eval_matmul_floor"])
    out = {"grid_seeds": n_seeds, "grid_floor_epoch_s": floor,
           "grid_floor_images_per_s": n_seeds * n_train / floor}
    for way in ("one_at_a_time", "together"):
        out[f"grid_{way}_epoch_s"] = seconds[f"grid_{way}"]
        out[f"grid_{way}_images_per_s"] = n_seeds * n_train / seconds[f"grid_{way}"]
        out[f"ratio_grid_{way}_vs_floor"] = seconds[f"grid_{way}"] / floor
    out["ratio_grid_together_speedup"] = seconds["grid_one_at_a_time"] / seconds["grid_together"]
    return out


def run() -> dict:
    sections = config.load(quick=False)
    cfg, dataset = sections["q1"], datasets.DATASETS[sections["data"].dataset]
    torch.set_num_threads(1)
    data = q1.load_data(cfg, dataset)
    data["x_monitor"], data["y_monitor"] = task1.train_monitor(data["x_train"], data["y_train"])
    orders = torch.stack([torch.randperm(len(data["x_train"]), generator=torch.Generator().manual_seed(s))
                          for s in cfg.seeds])  # one per seed, as the grid shuffles
    order = orders[0]
    start = time.perf_counter()
    trained = scratch_epoch(cfg, data, order)  # evaluated below: a network one epoch in
    seconds = _alternating_medians({
        "scratch": lambda: scratch_epoch(cfg, data, order),
        "matmul_floor": lambda: matmul_floor(cfg, data["x_train"], cfg.batch_size, source=CACHED),
        "data_floor": lambda: matmul_floor(cfg, data["x_train"], cfg.batch_size, source=COPIED),
        "eval": lambda: eval_epoch(cfg, data, trained),
        "eval_matmul_floor": lambda: [matmul_floor(cfg, data[x], mlp.EVAL_CHUNK, backward=False)
                                      for x in ("x_monitor", "x_test")],
        "torch_nn": lambda: torch_nn_epoch(cfg, data, order),
        "grid_one_at_a_time": lambda: grid_epoch(cfg, data, orders, together=False),
        "grid_together": lambda: grid_epoch(cfg, data, orders, together=True),
    }, REPEATS)
    loader = _timed(lambda: dataloader_epoch(cfg, dataset.name))
    scratch = seconds["scratch"]
    breakdown = epoch_breakdown(cfg, data, order, scratch)
    q1_metrics = paths.task_results("q1", dataset.name, paths.FULL_RESULTS) / "metrics.json"
    result = {
        "scratch_epoch_s": scratch, "matmul_floor_epoch_s": seconds["matmul_floor"],
        "data_floor_epoch_s": seconds["data_floor"],
        "breakdown": breakdown,
        "eval_epoch_s": seconds["eval"], "eval_matmul_floor_s": seconds["eval_matmul_floor"],
        "torch_nn_epoch_s": seconds["torch_nn"],
        "dataloader_epoch_s": loader,
        "ratio_scratch_vs_matmul_floor": scratch / seconds["matmul_floor"],
        "ratio_scratch_vs_data_floor": scratch / seconds["data_floor"],
        "ratio_eval_vs_epoch": seconds["eval"] / scratch,
        "ratio_eval_matmul_floor_vs_epoch": seconds["eval_matmul_floor"] / scratch,
        "ratio_scratch_vs_torch_nn": scratch / seconds["torch_nn"],
        "ratio_scratch_vs_dataloader": scratch / loader,
        **grid_throughput(seconds, len(cfg.seeds), len(data["x_train"])),
        "budget": BUDGETS,
        "batch_size": cfg.batch_size, "threads": torch.get_num_threads(), "repeats": REPEATS,
        **cpu_info(),
        "q1_suite_wall_time_s": (json.loads(q1_metrics.read_text())["provenance"]["wall_time_s"]
                                 if q1_metrics.exists() else None),
        "provenance": provenance.record("q1", config.section_hash(cfg), [0],
                                        time.perf_counter() - start, quick=False,
                                        dataset=dataset.name, data_md5=data["data_md5"]),
    }
    provenance.write_json(paths.BENCH_JSON, result)
    return result


ROWS = [  # label, seconds key, ratio key, what the ratio divides
    ("scratch trainer", "scratch_epoch_s", None, ""),
    ("compute floor", "matmul_floor_epoch_s", "ratio_scratch_vs_matmul_floor", "scratch / compute"),
    ("data floor", "data_floor_epoch_s", "ratio_scratch_vs_data_floor", "scratch / data floor"),
    ("evaluation", "eval_epoch_s", "ratio_eval_vs_epoch", "eval / scratch"),
    ("  its matmul floor", "eval_matmul_floor_s", "ratio_eval_matmul_floor_vs_epoch", "floor / scratch"),
    ("torch.nn + autograd", "torch_nn_epoch_s", "ratio_scratch_vs_torch_nn", "scratch / torch.nn"),
    ("DataLoader+ToTensor", "dataloader_epoch_s", "ratio_scratch_vs_dataloader", "scratch / DataLoader"),
]


def _table(r: dict) -> list[str]:
    """One line per measurement: seconds, the ratio it enters, and that ratio's budget if any."""
    lines = []
    for label, seconds, ratio, quotient in ROWS:
        line = f"{label:20s} {r[seconds]:.3f} s"
        if ratio:
            budget = BUDGETS.get(ratio)
            verdict = ("information only" if budget is None else
                       f"budget <= {budget}{'' if r[ratio] <= budget else ': OVER'}")
            line += f"   {quotient:20s} {r[ratio]:.2f}  ({verdict})"
        lines.append(line)
    return lines


PART_LABELS = {"gather_s": "gather", "matmuls_s": "matrix products", "elementwise_s": "elementwise",
               "python_s": "Python and the rest"}


def _breakdown_line(r: dict) -> str:
    return "where the scratch epoch goes (torch profile): " + ", ".join(
        f"{PART_LABELS[part]} {s:.3f} s ({s / r['scratch_epoch_s']:.0%})"
        for part, s in r["breakdown"].items())


def _grid_lines(r: dict) -> list[str]:
    """The grid's epoch side by side: one line per way, then the speedup."""
    lines = [f"grid epoch of {r['grid_seeds']} seeds (training and per-epoch evaluation):"]
    for label, way in (("one at a time", "one_at_a_time"), ("together", "together"),
                       ("compute floor", "floor")):
        line = (f"  {label:18s} {r[f'grid_{way}_epoch_s']:.3f} s   "
                f"{r[f'grid_{way}_images_per_s']:,.0f} images/s")
        if way != "floor":
            line += f"   {r[f'ratio_grid_{way}_vs_floor']:.2f} x the floor"
        lines.append(line)
    lines.append(f"  together / one at a time: {r['ratio_grid_together_speedup']:.2f} x the images per second")
    return lines


def _bench_lines(args) -> str:
    r = run()
    return "\n".join([f"bench: one Task 1 epoch, batch {r['batch_size']}, {r['threads']} thread, "
                      f"median CPU seconds of {r['repeats']} rounds",
                      f"  cpu: {r['cpu_model']}; torch kernels: {r['torch_cpu_capability']}; "
                      f"vector extensions: {' '.join(r['cpu_vector_extensions']) or 'unknown'}",
                      *(f"  {line}" for line in _table(r)), f"  {_breakdown_line(r)}",
                      *(f"  {line}" for line in _grid_lines(r)),
                      f"bench: wrote {paths.BENCH_JSON}"])


if __name__ == "__main__":
    cli.run("experiments.bench", __doc__, {"run": cli.Command(_bench_lines, "measure and write results/bench.json")})
