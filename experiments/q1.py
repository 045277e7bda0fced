"""Task 1: the from-scratch MLP on [data] dataset (MNIST by default), the main configuration over
seeds, and its ablations.

    python -m experiments.q1 run        # results/q1/: metrics.json, history.json, weights, predictions
    python -m experiments.q1 evaluate   # test accuracy of results/q1/q1_weights.pkl, as the grader's
                                        # hw1_<id>_q1_eval.py computes it

(results/<dataset>/q1/ for a dataset other than MNIST: pipeline.paths.task_results.)
Training and evaluation are hw1.task1's, the code the graders receive. The main configuration is
`[q1]` of config.toml; each ablation changes one of activation, learning rate, loss or hidden layer
sizes and runs over the same seeds. The seeds of a variant train together as one stack of
networks (hw1.task1.train_together: batched matrix products, each seed from its own initialisation
and batch order, bit for bit as that seed alone). Stacks are independent single-threaded
processes, two at a time: on 2 cores that is twice the throughput of one two-threaded run, and a
fixed thread count keeps every run bit-reproducible. All outputs are written to a temporary
folder that replaces the results folder only when the whole suite has finished.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import statistics
import time
from pathlib import Path

import torch

from experiments import datasets
from hw1 import scratch_mlp as mlp
from hw1 import task1, weights
from hw1.atomic import atomic_folder
from hw1.names import weights_name
from hw1.threads import fixed_threads
from pipeline import cli, config, ledger, paths, provenance
from pipeline.tasks import BY_NAME, Q1

TASK = BY_NAME["q1"]


class DivergedError(cli.UserError):
    """The main configuration produced non-finite numbers: there is no model to save."""


def variant(settings: task1.Settings) -> str:
    return (f"{settings.activation}-{settings.loss}-lr{settings.lr:g}-"
            f"h{layers_name(settings.hidden)}")


def layers_name(hidden) -> str:
    """Hidden layer sizes as the ablation table names them: 128-64."""
    return "-".join(str(size) for size in hidden)


def settings_for(cfg: Q1, seed: int, **change) -> task1.Settings:
    values = {"hidden": tuple(cfg.hidden), "activation": cfg.activation, "loss": cfg.loss,
              "lr": cfg.lr, "batch_size": cfg.batch_size, "epochs": cfg.epochs,
              "standardize": cfg.standardize, "seed": seed}
    return task1.Settings(**{**values, **change})


def run_settings(cfg: Q1) -> list[task1.Settings]:
    """Main configuration and every one-factor ablation, over all seeds, without duplicates."""
    changes = [{}]
    changes += [{"activation": a} for a in cfg.ablate_activation]
    changes += [{"lr": lr} for lr in cfg.ablate_lr]
    changes += [{"loss": loss} for loss in cfg.ablate_loss]
    changes += [{"hidden": tuple(hidden)} for hidden in cfg.ablate_hidden]
    unique = {}
    for change in changes:  # an ablation equal to the main configuration is run once
        unique.setdefault(variant(settings_for(cfg, 0, **change)), change)
    return [settings_for(cfg, seed, **c) for c in unique.values() for seed in cfg.seeds]


# --- summaries ----------------------------------------------------------------------------------

def epochs_to_reach(test_acc: list[float], target: float) -> int | None:
    return next((epoch for epoch, acc in enumerate(test_acc, start=1) if acc >= target), None)


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1) over seeds. One seed has no spread: None, so
    that the report prints the mean alone rather than a "± 0" no experiment measured."""
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def summarise(runs: list[dict], target_test_acc: float) -> dict:
    """mean ± sample std of the final epoch's metrics over seeds; diverged runs are counted, not averaged."""
    ok = [r for r in runs if r["diverged_epoch"] is None]
    out = {"seeds": [r["settings"]["seed"] for r in runs], "n_runs": len(runs),
           "diverged": [{"seed": r["settings"]["seed"], "epoch": r["diverged_epoch"]}
                        for r in runs if r["diverged_epoch"] is not None]}
    for key in task1.HISTORY_KEYS:
        out[f"{key}_mean"], out[f"{key}_std"] = _mean_std([r["history"][key][-1] for r in ok])
    # test accuracy after the first epoch: how fast, when every variant reaches the target at once
    out["test_acc_epoch1_mean"], _ = _mean_std([r["history"]["test_acc"][0] for r in ok])
    # Speed over the whole run: mean test accuracy over the epochs, the area under the test-accuracy
    # curve. Every ReLU variant passes a 90 % target in epoch 1, so epochs-to-target cannot rank
    # them; this can. Per seed, so that the report can compare a difference with the seeds' spread.
    over_epochs = [statistics.fmean(r["history"]["test_acc"]) for r in ok]
    out["test_acc_over_epochs_per_seed"] = over_epochs
    out["test_acc_over_epochs_mean"], out["test_acc_over_epochs_std"] = _mean_std(over_epochs)
    reach = [epochs_to_reach(r["history"]["test_acc"], target_test_acc) for r in ok]
    out["epochs_to_target"] = reach
    out["epochs_to_target_mean"] = (statistics.fmean(reach) if reach and None not in reach else None)
    out["wall_time_s_mean"] = statistics.fmean(r["wall_time_s"] for r in runs)
    out["variant"] = runs[0]["variant"]
    return out


def _value_name(value) -> str:
    """An ablated value as the tables name it: 0.05, relu, 256-128."""
    if isinstance(value, float):
        return f"{value:g}"
    return layers_name(value) if isinstance(value, tuple) else value


def ablation_tables(by_variant: dict[str, dict], cfg: Q1) -> dict:
    """Each factor: the baseline value and the other values, keyed by the value as a string."""
    def table(factor, values):
        baseline = getattr(settings_for(cfg, 0), factor)
        rows = {}
        for value in dict.fromkeys([baseline, *values]):
            name = variant(settings_for(cfg, 0, **{factor: value}))
            rows[_value_name(value)] = by_variant[name]
        return {"baseline": _value_name(baseline), "variants": rows}
    return {"activation": table("activation", cfg.ablate_activation),
            "lr": table("lr", cfg.ablate_lr), "loss": table("loss", cfg.ablate_loss),
            "hidden": table("hidden", [tuple(h) for h in cfg.ablate_hidden])}


# --- running the suite --------------------------------------------------------------------------

def train_one(settings: task1.Settings, data: dict) -> dict:
    return train_stack([settings], data)[0]


def train_stack(stack: list[task1.Settings], data: dict) -> list[dict]:
    """The seeds of one setting trained together (hw1.task1.train_together); each run's wall time
    is its share of the stack's."""
    start = time.perf_counter()
    runs = task1.train_together(stack, data)
    share = (time.perf_counter() - start) / len(stack)
    return [{**run, "settings": dataclasses.asdict(settings), "variant": variant(settings),
             "wall_time_s": share} for run, settings in zip(runs, stack)]


_worker_data: dict = {}  # one worker process's copy of the data, set once when it starts


def _start_worker(data: dict, parent: int) -> None:
    """Under fork, `data` reaches the worker by inheritance, not by pickling 200 MB per run (and
    pickling tensors to shared memory can deadlock after a fork). One thread for good: a forked
    child that starts OpenMP threads (as returning tensors to the parent would) can hang. Ctrl-C is
    left to the parent, which stops the pool: one message, not one traceback per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cli.end_with_parent(parent)  # kill -9 of the run ends its workers too
    torch.set_num_threads(1)
    _worker_data.update(data)


def _train_in_worker(indexed: tuple[int, list[task1.Settings]]) -> tuple[int, list[dict]]:
    index, stack = indexed
    return index, train_stack(stack, _worker_data)


def _status(run: dict) -> str:
    h = run["history"]
    status = (f"diverged at epoch {run['diverged_epoch']}" if run["diverged_epoch"]
              else f"test acc {h['test_acc'][-1]:.4f}, train acc {h['train_acc'][-1]:.4f}")
    return (f"q1: {run['variant']} seed {run['settings']['seed']}: {status}, "
            f"{run['wall_time_s']:.1f} s")


def _work(settings: task1.Settings) -> int:
    """One network's products per image, which rank the stacks by cost; at equal width a sigmoid
    or tanh (an exp per unit) before ReLU."""
    sizes = [784, *settings.hidden, task1.N_CLASSES]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + (settings.activation != "relu")


def run_all(cfg: Q1, data: dict, workers: int = 2) -> list[dict]:
    """Every run, the seeds of each variant trained together as one stack (task1.stacks), two
    stacks at a time on CPU, the costliest first so that the two processes finish together; one
    summary line per finished run. The runs come back in run_settings' order."""
    stacks = task1.stacks(run_settings(cfg), tuple(data["x_train"].shape))
    if cfg.device == "cuda" or workers == 1:
        return _collect((i, train_stack(stack, data)) for i, stack in enumerate(stacks))
    costliest_first = sorted(enumerate(stacks), key=lambda item: -_work(item[1][0]) * len(item[1]))
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, _start_worker, (data, os.getpid())) as pool:
        return _collect(pool.imap_unordered(_train_in_worker, costliest_first))


def _collect(finished) -> list[dict]:
    """The runs of (index, stack's runs) pairs as they finish, in the stacks' index order."""
    by_index = {}
    for index, runs in finished:
        for run in runs:
            print(_status(run), flush=True)
        by_index[index] = runs
    return [run for index in sorted(by_index) for run in by_index[index]]


def _check_device(cfg: Q1) -> None:
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise config.ConfigError("config.toml: [q1] device = 'cuda' but no CUDA device is "
                                 "available here; set device = 'cpu'")


def load_data(cfg: Q1, dataset: datasets.Dataset) -> dict:
    data = datasets.load_verified(dataset, cfg.standardize)
    return {k: v.to(cfg.device) if k[0] in "xy" else v for k, v in data.items()}


def run(mode: paths.Mode, out_dir: Path | None = None) -> dict:
    """Train the task's runs from the config sections of `mode` and write them to its results."""
    sections = config.read_sections(mode.results, names=("data", "q1"))
    cfg, dataset = sections["q1"], datasets.DATASETS[sections["data"].dataset]
    out_dir = out_dir or paths.task_results("q1", dataset.name, mode.results)
    _check_device(cfg)
    start = time.perf_counter()
    data = load_data(cfg, dataset)
    runs = run_all(cfg, data)
    by_variant = {}
    for r in runs:
        by_variant.setdefault(r["variant"], []).append(r)
    main_variant = variant(run_settings(cfg)[0])
    saved = by_variant[main_variant][0]
    if saved["diverged_epoch"]:
        raise DivergedError(
            f"the main configuration ([q1] in config.toml) diverged at epoch {saved['diverged_epoch']} "
            f"(seed {saved['settings']['seed']}): its numbers overflowed, so there is no model to "
            f"save; lower [q1] lr and run again. {paths.relative(out_dir)} was left as it was")
    target = cfg.target_test_acc[dataset.name]
    summaries = {v: summarise(rs, target) for v, rs in by_variant.items()}
    with atomic_folder(out_dir) as staging:
        saved_test_acc = _save_model(saved, data, staging)
        metrics = {
            "main": {**summaries[main_variant], "saved_seed": saved["settings"]["seed"],
                     "saved_test_acc": saved_test_acc},
            "ablations": ablation_tables(summaries, cfg),
            # as run: the target of this dataset alone
            "config": {**dataclasses.asdict(cfg), "target_test_acc": target},
            "dataset": dataset.describe(),
            "layers": [data["x_train"].shape[1], *cfg.hidden, task1.N_CLASSES],
            "n_train": len(data["x_train"]), "n_test": len(data["x_test"]),
            "train_monitor_size": min(task1.TRAIN_MONITOR_SIZE, len(data["x_train"])),
            # the weights these numbers describe: the report refuses to state them for others
            "weights_sha256": weights.sha256(staging / weights_name(task1.TASK)),
            "provenance": provenance.record("q1", config.section_hash(cfg), cfg.seeds,
                                            time.perf_counter() - start, quick=mode.quick,
                                            dataset=dataset.name, data_md5=data["data_md5"],
                                            device=cfg.device),
        }
        history = {v: [{"seed": r["settings"]["seed"], "diverged_epoch": r["diverged_epoch"],
                        "wall_time_s": r["wall_time_s"], **r["history"]} for r in rs]
                   for v, rs in by_variant.items()}
        provenance.write_json(staging / "history.json", {
            "main_variant": main_variant, "runs": history, "provenance": metrics["provenance"]})
        provenance.write_json(staging / "metrics.json", metrics)
        ledger.record_folder(staging)  # renamed into place with the results
    return metrics


def _save_model(run: dict, data: dict, folder) -> float:
    """The weights file the graders receive, its test predictions for the figures, and its test
    accuracy computed from the file by the graders' own evaluation."""
    settings = task1.Settings(**run["settings"])  # asdict of the run's own Settings
    path = folder / weights_name(task1.TASK)
    task1.save(path, run["model"], settings, data)
    params, meta = task1.load(path)
    with fixed_threads(task1.THREADS):
        p = mlp.predict(params, data["x_test"].cpu(), meta["activation"])
    provenance.write_json(folder / "test_predictions.json",
                          {"seed": settings.seed, "predicted": p.argmax(1).tolist(),
                           "labels": data["y_test"].tolist()})
    return task1.evaluate(path, paths.DATA)


def _run_line(args) -> str:
    metrics = run(args.mode)
    m = metrics["main"]
    spread = "" if m["test_acc_std"] is None else f" ± {m['test_acc_std']:.4f}"
    return (f"q1: {metrics['dataset']['title']}: main test accuracy {m['test_acc_mean']:.4f}"
            f"{spread} over seeds {m['seeds']}; saved weights "
            f"{m['saved_test_acc']:.4f}")


if __name__ == "__main__":
    cli.run("experiments.q1", __doc__, {
        "run": cli.Command(_run_line, "train the main configuration and the ablations"),
        "evaluate": cli.Command(
            lambda args: f"q1: test accuracy {datasets.evaluate_saved(TASK, args.mode.results):.4f}",
            "test accuracy of the saved weights")})
