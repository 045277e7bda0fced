"""Task 2: the Task 1 architecture in torch.nn memorises 128 images with random Bernoulli(1/2) labels.

    python -m experiments.q2 run        # results/q2/: metrics.json, history.json, q2_weights.pkl
    python -m experiments.q2 evaluate   # accuracy of the saved model on the random-labelled test
                                        # set, as the grader's hw1_<id>_q2_eval.py computes it

Training and evaluation are hw1.task2's, the code the graders receive. Three runs per seed:
`random` (the task: labels drawn once from a seeded generator, fixed for every epoch), `control`
(the same 128 images labelled by the parity of their digit or class number, a real binary label,
as in Zhang et al. 2017) and
`draft` (the draft's stated setting, plain SGD at lr 0.01 for 20 epochs). The test set is all
10,000 test images; for `random` their labels are independent Bernoulli(1/2) draws from the same
generator, after the training labels, so any seed reproduces them. The images are [data] dataset's
(MNIST by default; results/<dataset>/q2/ for another, pipeline.paths.task_results).
"""
from __future__ import annotations

import dataclasses
import math
import statistics
import time
from pathlib import Path

from experiments import datasets
from hw1 import task2, weights
from hw1.atomic import atomic_folder
from hw1.names import weights_name
from pipeline import cli, config, ledger, paths, provenance
from pipeline.tasks import BY_NAME, Q2

TASK = BY_NAME["q2"]

LOSS_THRESHOLDS = (0.1, 0.01, 0.001)
LN2 = math.log(2)
KINDS = ("random", "control", "draft")
# the config.toml keys that set each kind's step: the one to change when it diverges
RATE_KEYS = {"random": "lr", "control": "lr", "draft": "draft_lr"}


class DivergedError(cli.UserError):
    """A run produced non-finite numbers: its metrics would be NaN and its weights useless."""


def check_diverged(runs: dict, out_dir) -> None:
    """Stop before anything is written when any run diverged, naming the setting to change."""
    for kind, kind_runs in runs.items():
        for r in kind_runs:
            if r["diverged_epoch"] is not None:
                key = RATE_KEYS[kind]
                raise DivergedError(
                    f"the {kind} run of Task 2 diverged at epoch {r['diverged_epoch']} (seed "
                    f"{r['seed']}, {r['optimizer']} at lr {r['lr']:g}): its loss overflowed, so "
                    f"no model is saved; lower [q2] {key} in config.toml and run again. "
                    f"{paths.relative(out_dir)} was left as it was")


def settings_for(kind: str, seed: int, cfg: Q2) -> task2.Settings:
    optimizer, lr, epochs = ((cfg.draft_optimizer, cfg.draft_lr, cfg.draft_epochs)
                             if kind == "draft" else (cfg.optimizer, cfg.lr, cfg.epochs))
    return task2.Settings(hidden=tuple(cfg.hidden), n_train=cfg.n_train, optimizer=optimizer,
                          lr=lr, epochs=epochs, seed=seed,
                          labels="parity" if kind == "control" else "random")


def train_one(kind: str, seed: int, cfg: Q2, data: dict) -> dict:
    settings = settings_for(kind, seed, cfg)
    start = time.perf_counter()
    run = task2.train(settings, data)
    return {**run, "kind": kind, "seed": seed, "settings": settings, "optimizer": settings.optimizer,
            "lr": settings.lr, "epochs": settings.epochs, "wall_time_s": time.perf_counter() - start}


def epochs_to_loss(train_loss: list[float], threshold: float) -> int | None:
    return next((e for e, v in enumerate(train_loss, start=1) if v < threshold), None)


def summarise(runs: list[dict]) -> dict:
    """mean ± sample std (n - 1) over seeds, the std None for one seed (no spread was measured);
    'test_loss' is the final model's mean loss over the 10,000 test images."""
    def stats(values):
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None
    last = lambda key: [r["history"][key][-1] for r in runs]  # noqa: E731
    out = {"seeds": [r["seed"] for r in runs], "optimizer": runs[0]["optimizer"],
           "lr": runs[0]["lr"], "epochs": runs[0]["epochs"]}
    out["final_train_loss_mean"], out["final_train_loss_std"] = stats(last("train_loss"))
    out["final_train_loss_max"] = max(last("train_loss"))
    out["test_loss_mean"], out["test_loss_std"] = stats(last("test_loss"))
    out["test_loss_per_seed"] = last("test_loss")  # the report compares each seed with ln 2
    out["test_loss_over_epochs_mean"], _ = stats(
        [statistics.fmean(r["history"]["test_loss"]) for r in runs])
    out["test_acc_mean"], out["test_acc_std"] = stats(last("test_acc"))
    out["train_acc_mean"], _ = stats(last("train_acc"))
    out["epochs_to_train_loss"] = {
        f"{t:g}": [epochs_to_loss(r["history"]["train_loss"], t) for r in runs]
        for t in LOSS_THRESHOLDS}
    out["wall_time_s_mean"] = statistics.fmean(r["wall_time_s"] for r in runs)
    return out


def _status(r: dict) -> str:
    h = r["history"]
    if r["diverged_epoch"] is not None:
        return f"q2: {r['kind']} seed {r['seed']}: diverged at epoch {r['diverged_epoch']}"
    return (f"q2: {r['kind']} seed {r['seed']}: train loss {h['train_loss'][-1]:.2e}, "
            f"test loss {h['test_loss'][-1]:.3f}, test acc {h['test_acc'][-1]:.4f}, "
            f"{r['wall_time_s']:.1f} s")


def run(mode: paths.Mode, out_dir: Path | None = None) -> dict:
    """Train the task's runs from the config sections of `mode` and write them to its results."""
    sections = config.read_sections(mode.results, names=("data", "q2"))
    cfg, dataset = sections["q2"], datasets.DATASETS[sections["data"].dataset]
    out_dir = out_dir or paths.task_results("q2", dataset.name, mode.results)
    start = time.perf_counter()
    loaded = datasets.load_verified(dataset)
    data = task2.prepare(loaded, cfg.n_train)
    runs = {kind: [train_one(kind, seed, cfg, data) for seed in cfg.seeds] for kind in KINDS}
    for r in (r for rs in runs.values() for r in rs):
        print(_status(r), flush=True)
    check_diverged(runs, out_dir)
    saved = runs["random"][0]
    with atomic_folder(out_dir) as staging:
        path = staging / weights_name(task2.TASK)
        task2.save(path, saved["model"], saved["settings"], data)
        metrics = {kind: summarise(rs) for kind, rs in runs.items()}
        metrics["random"]["saved_seed"] = saved["seed"]
        metrics["random"]["saved_test_acc"] = task2.evaluate(path, paths.DATA)  # the grader's way
        metrics.update(
            ln2=LN2, layers=[data["x_train"].shape[1], *cfg.hidden, 2], n_train=cfg.n_train,
            n_test=len(data["x_test"]), config=dataclasses.asdict(cfg), dataset=dataset.describe(),
            weights_sha256=weights.sha256(path),  # the report refuses to state them for others
            provenance=provenance.record("q2", config.section_hash(cfg), cfg.seeds,
                                         time.perf_counter() - start, quick=mode.quick,
                                         dataset=dataset.name, data_md5=loaded["data_md5"]))
        history = {kind: [{"seed": r["seed"], **r["history"]} for r in rs] for kind, rs in runs.items()}
        history["provenance"] = metrics["provenance"]
        provenance.write_json(staging / "history.json", history)
        provenance.write_json(staging / "metrics.json", metrics)
        ledger.record_folder(staging)  # renamed into place with the results
    return metrics


def _run_line(args) -> str:
    metrics = run(args.mode)
    m = metrics["random"]
    return (f"q2: {metrics['dataset']['title']}: random labels: final train loss "
            f"{m['final_train_loss_mean']:.2e}, test loss {m['test_loss_mean']:.3f} "
            f"(ln 2 = {LN2:.3f}), test acc {m['test_acc_mean']:.4f}")


if __name__ == "__main__":
    cli.run("experiments.q2", __doc__, {
        "run": cli.Command(_run_line, "train the random-label, control and draft runs"),
        "evaluate": cli.Command(
            lambda args: f"q2: random-label test accuracy {datasets.evaluate_saved(TASK, args.mode.results):.4f}",
            "accuracy of the saved weights on the random-labelled test set")})
