"""Task 2: the Task 1 architecture in torch.nn memorises 128 images with random Bernoulli(1/2) labels.

    python -m experiments.q2 run        # results/q2/{metrics,history}.json, q2_weights.pkl
    python -m experiments.q2 evaluate   # accuracy of the saved model on the random-labelled test set

Three runs per seed: `random` (the task: labels drawn once from a seeded generator, fixed for
every epoch), `control` (the same 128 images labelled by digit parity, a real binary label, as in
Zhang et al. 2017) and `draft` (the draft's stated setting, plain SGD at lr 0.01 for 20 epochs).
The test set is all 10,000 test images; for `random` their labels are independent Bernoulli(1/2)
draws from the same generator, after the training labels, so any seed reproduces them.
"""
from __future__ import annotations

import math
import statistics
import sys
import time

import torch
from torch import nn

from pipeline import cli, config, paths, provenance
from experiments import mnist
from hw1.random_label_net import build_net, full_batch_step, make_optimizer, random_labels

WEIGHTS = "q2_weights.pkl"
LOSS_THRESHOLDS = (0.1, 0.01, 0.001)
LN2 = math.log(2)


def load_data(n_train: int) -> dict:
    """The first n_train training images in dataset order and the whole test set, standardised
    as in Task 1 (with the full training set's pixel mean and std)."""
    data = mnist.load_standardized()
    return {"x_train": data["x_train"][:n_train], "digits_train": data["y_train"][:n_train],
            "x_test": data["x_test"], "digits_test": data["y_test"],
            "input_mean": data["input_mean"], "input_std": data["input_std"],
            "data_md5": data["data_md5"]}


def labels_for(kind: str, seed: int, data: dict) -> tuple[torch.Tensor, torch.Tensor]:
    if kind == "control":  # a real binary label: the digit's parity
        return data["digits_train"] % 2, data["digits_test"] % 2
    return random_labels(seed, len(data["x_train"]), len(data["x_test"]))


def train_run(kind: str, seed: int, cfg: config.Q2, data: dict) -> dict:
    """Full-batch training (batch = the 128 images, no shuffling); per-epoch train and test metrics."""
    optimizer_name, lr, epochs = ((cfg.draft_optimizer, cfg.draft_lr, cfg.draft_epochs)
                                  if kind == "draft" else (cfg.optimizer, cfg.lr, cfg.epochs))
    y_train, y_test = labels_for(kind, seed, data)
    torch.manual_seed(seed)
    net = build_net(cfg.hidden)
    optimizer = make_optimizer(optimizer_name, net.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    start = time.perf_counter()
    for _ in range(epochs):
        full_batch_step(net, optimizer, data["x_train"], y_train)
        with torch.no_grad():  # the loss after this epoch's step, on train and test
            for split, x, y in (("train", data["x_train"], y_train), ("test", data["x_test"], y_test)):
                logits = net(x)
                history[f"{split}_loss"].append(loss_fn(logits, y).item())
                history[f"{split}_acc"].append((logits.argmax(1) == y).float().mean().item())
    return {"kind": kind, "seed": seed, "optimizer": optimizer_name, "lr": lr, "epochs": epochs,
            "history": history, "wall_time_s": time.perf_counter() - start, "net": net}


def epochs_to_loss(train_loss: list[float], threshold: float) -> int | None:
    return next((e for e, v in enumerate(train_loss, start=1) if v < threshold), None)


def summarise(runs: list[dict]) -> dict:
    """mean ± std over seeds; 'test_loss' is the final model's mean loss over the 10,000 test images."""
    def stats(values):
        return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0
    last = lambda key: [r["history"][key][-1] for r in runs]  # noqa: E731
    out = {"seeds": [r["seed"] for r in runs], "optimizer": runs[0]["optimizer"],
           "lr": runs[0]["lr"], "epochs": runs[0]["epochs"]}
    out["final_train_loss_mean"], out["final_train_loss_std"] = stats(last("train_loss"))
    out["final_train_loss_max"] = max(last("train_loss"))
    out["test_loss_mean"], out["test_loss_std"] = stats(last("test_loss"))
    out["test_loss_over_epochs_mean"], _ = stats(
        [statistics.fmean(r["history"]["test_loss"]) for r in runs])
    out["test_acc_mean"], out["test_acc_std"] = stats(last("test_acc"))
    out["train_acc_mean"], _ = stats(last("train_acc"))
    out["epochs_to_train_loss"] = {
        f"{t:g}": [epochs_to_loss(r["history"]["train_loss"], t) for r in runs]
        for t in LOSS_THRESHOLDS}
    out["wall_time_s_mean"] = statistics.fmean(r["wall_time_s"] for r in runs)
    return out


def run(out_dir=None) -> dict:
    out_dir = out_dir or paths.Q2
    cfg = config.load()["q2"]
    start = time.perf_counter()
    torch.set_num_threads(2)  # fixed arithmetic: the evaluation command reproduces it exactly
    data = load_data(cfg.n_train)
    runs = {kind: [train_run(kind, seed, cfg, data) for seed in cfg.seeds]
            for kind in ("random", "control", "draft")}
    for kind, rs in runs.items():
        for r in rs:
            print(f"q2: {kind} seed {r['seed']}: train loss {r['history']['train_loss'][-1]:.2e}, "
                  f"test loss {r['history']['test_loss'][-1]:.3f}, "
                  f"test acc {r['history']['test_acc'][-1]:.4f}, {r['wall_time_s']:.1f} s", flush=True)
    saved = runs["random"][0]
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{WEIGHTS}.tmp"
    # the state dict plus the preprocessing it expects, so evaluation never reads training images
    torch.save({**saved["net"].state_dict(), "input_mean": data["input_mean"],
                "input_std": data["input_std"]}, tmp)
    tmp.replace(out_dir / WEIGHTS)
    metrics = {kind: summarise(rs) for kind, rs in runs.items()}
    metrics["random"]["saved_seed"] = saved["seed"]
    metrics["random"]["saved_test_acc"] = saved["history"]["test_acc"][-1]
    metrics.update(
        ln2=LN2, layers=[data["x_train"].shape[1], *cfg.hidden, 2], n_train=cfg.n_train, n_test=len(data["x_test"]), config=config.as_dict(cfg),
        provenance=provenance.record("q2", config.section_hash(cfg), cfg.seeds,
                                     time.perf_counter() - start, data["data_md5"]))
    history = {kind: [{"seed": r["seed"], **r["history"]} for r in rs] for kind, rs in runs.items()}
    history["provenance"] = metrics["provenance"]
    provenance.write_json(out_dir / "history.json", history)
    provenance.write_json(out_dir / "metrics.json", metrics)  # last: it marks the run complete
    return metrics


def evaluate(weights_path=None, seed: int | None = None) -> float:
    """Accuracy of the saved network on the 10,000 test images with the seed's random labels."""
    cfg = config.load()["q2"]
    seed = cfg.seeds[0] if seed is None else seed
    torch.set_num_threads(2)
    weights = torch.load(weights_path or paths.Q2 / WEIGHTS)
    x_test, _ = mnist.load(train=False)
    x_test = (x_test - weights.pop("input_mean")) / weights.pop("input_std")
    _, y_test = random_labels(seed, cfg.n_train, len(x_test))
    net = build_net(cfg.hidden)
    net.load_state_dict(weights)
    with torch.no_grad():
        return (net(x_test).argmax(1) == y_test).float().mean().item()


def _run_line() -> str:
    m = run()["random"]
    return (f"q2: random labels: final train loss {m['final_train_loss_mean']:.2e}, "
            f"test loss {m['test_loss_mean']:.3f} (ln 2 = {LN2:.3f}), "
            f"test acc {m['test_acc_mean']:.4f}; wrote {paths.Q2}")


def main(argv: list[str]) -> int:
    return cli.run_command("experiments.q2", {
        "run": _run_line,
        "evaluate": lambda: f"q2: random-label test accuracy {evaluate():.4f}"}, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
