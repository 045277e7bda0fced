"""Task 1: the from-scratch MLP on MNIST, the main configuration over seeds, and its ablations.

    python -m experiments.q1 run        # results/q1/{metrics,history}.json, weights, predictions
    python -m experiments.q1 evaluate   # loads results/q1/q1_weights.pkl, prints test accuracy

The main configuration is `[q1]` of config.toml; each ablation changes one of activation,
learning rate or loss and runs over the same seeds. Runs are independent single-threaded
processes, two at a time: on 2 cores that is twice the throughput of one two-threaded run, and a
fixed thread count keeps every run bit-reproducible.
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import statistics
import sys
import time
from dataclasses import dataclass

import torch

from pipeline import cli, config, paths, provenance
from experiments import mnist
from hw1 import scratch_mlp as mlp

N_CLASSES = 10
WEIGHTS = "q1_weights.pkl"


@dataclass(frozen=True)
class RunSpec:
    """One training run: a variant of the main configuration and a seed."""
    activation: str
    loss: str
    lr: float
    seed: int

    @property
    def variant(self) -> str:
        return f"{self.activation}-{self.loss}-lr{self.lr:g}"


def load_data(standardize: bool, device: str = "cpu") -> dict:
    """Train and test sets as whole tensors on `device` (see mnist.load_standardized)."""
    data = mnist.load_standardized(standardize)
    return {k: v.to(device) if k[0] in "xy" else v for k, v in data.items()}


def _evaluate(params, x, labels, activation, loss):
    p = mlp.predict(params, x, activation)
    z = torch.log(p.clamp_min(1e-30))  # log p is a valid logit vector for p's softmax
    loss_value = mlp.LOSSES[loss][0](z, p, mlp.one_hot(labels, N_CLASSES, p.dtype)).item()
    return loss_value, mlp.accuracy(p, labels)


@torch.no_grad()  # the course forbids autograd: it is off for the whole run, whoever calls
def train_run(spec: RunSpec, cfg: config.Q1, data: dict, show_progress: bool = False) -> dict:
    """Train one network; per epoch record train/test loss and accuracy. Stops on NaN or inf."""
    from tqdm import tqdm
    torch.manual_seed(spec.seed)
    generator = torch.Generator().manual_seed(spec.seed)  # init and batch order, nothing else
    sizes = [data["x_train"].shape[1], *cfg.hidden, N_CLASSES]
    params = mlp.init_params(sizes, spec.activation, generator, device=data["x_train"].device)
    x, labels = data["x_train"], data["y_train"]
    y = mlp.one_hot(labels, N_CLASSES)
    history = {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    diverged_epoch = None
    start = time.perf_counter()
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=f"q1 {spec.variant} seed {spec.seed}",
                      disable=not show_progress, leave=False):
        order = torch.randperm(len(x), generator=generator).to(x.device)
        mlp.train_epoch(params, x, y, order, cfg.batch_size, spec.activation, spec.loss, spec.lr)
        train = _evaluate(params, x, labels, spec.activation, spec.loss)
        test = _evaluate(params, data["x_test"], data["y_test"], spec.activation, spec.loss)
        if not all(math.isfinite(v) for v in (*train, *test)) or not all(
                torch.isfinite(p).all() for p in params.values()):
            diverged_epoch = epoch
            break
        for key, value in zip(history, (*train, *test)):
            history[key].append(value)
    return {"spec": dataclasses.asdict(spec), "variant": spec.variant, "history": history,
            "diverged_epoch": diverged_epoch, "wall_time_s": time.perf_counter() - start,
            "params": params}


def run_specs(cfg: config.Q1) -> list[RunSpec]:
    """Main configuration and every one-factor ablation, over all seeds, without duplicates."""
    variants = [(cfg.activation, cfg.loss, cfg.lr)]
    variants += [(a, cfg.loss, cfg.lr) for a in cfg.ablate_activation]
    variants += [(cfg.activation, cfg.loss, lr) for lr in cfg.ablate_lr]
    variants += [(cfg.activation, loss, cfg.lr) for loss in cfg.ablate_loss]
    unique = list(dict.fromkeys(variants))
    return [RunSpec(a, loss, lr, seed) for a, loss, lr in unique for seed in cfg.seeds]


# --- summaries ----------------------------------------------------------------------------------

def epochs_to_reach(test_acc: list[float], target: float) -> int | None:
    return next((epoch for epoch, acc in enumerate(test_acc, start=1) if acc >= target), None)


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values) if len(values) > 1 else 0.0


def summarise(runs: list[dict], cfg: config.Q1) -> dict:
    """mean ± std of the final epoch's metrics over seeds; diverged runs are counted, not averaged."""
    ok = [r for r in runs if r["diverged_epoch"] is None]
    out = {"seeds": [r["spec"]["seed"] for r in runs], "n_runs": len(runs),
           "diverged": [{"seed": r["spec"]["seed"], "epoch": r["diverged_epoch"]}
                        for r in runs if r["diverged_epoch"] is not None]}
    for key in ("test_acc", "train_acc", "test_loss", "train_loss"):
        out[f"{key}_mean"], out[f"{key}_std"] = _mean_std([r["history"][key][-1] for r in ok])
    # test accuracy after the first epoch: how fast, when every variant reaches the target at once
    out["test_acc_epoch1_mean"], _ = _mean_std([r["history"]["test_acc"][0] for r in ok])
    reach = [epochs_to_reach(r["history"]["test_acc"], cfg.target_test_acc) for r in ok]
    out["epochs_to_target"] = reach
    out["epochs_to_target_mean"] = (statistics.fmean(reach) if reach and None not in reach else None)
    out["wall_time_s_mean"] = statistics.fmean(r["wall_time_s"] for r in runs)
    out["spec"] = {k: v for k, v in runs[0]["spec"].items() if k != "seed"}
    return out


def ablation_tables(by_variant: dict[str, dict], cfg: config.Q1) -> dict:
    """Each factor: the baseline value and the other values, keyed by the value as a string."""
    def table(factor, values):
        rows = {}
        for value in dict.fromkeys([getattr(cfg, factor), *values]):
            spec = RunSpec(**{"activation": cfg.activation, "loss": cfg.loss, "lr": cfg.lr,
                              factor: value, "seed": 0})
            rows[f"{value:g}" if isinstance(value, float) else value] = by_variant[spec.variant]
        return {"baseline": f"{getattr(cfg, factor):g}" if factor == "lr" else getattr(cfg, factor),
                "variants": rows}
    return {"activation": table("activation", cfg.ablate_activation),
            "lr": table("lr", cfg.ablate_lr), "loss": table("loss", cfg.ablate_loss)}


# --- running the suite --------------------------------------------------------------------------

_SHARED: dict = {}


def _worker(spec: RunSpec) -> dict:
    torch.set_num_threads(1)
    return train_run(spec, _SHARED["cfg"], _SHARED["data"], _SHARED["progress"])


def run_all(cfg: config.Q1, data: dict, workers: int = 2, progress: bool = False) -> list[dict]:
    """Every run, two processes at a time on CPU; one summary line per finished run."""
    specs = run_specs(cfg)
    _SHARED.update(cfg=cfg, data=data, progress=progress)
    if cfg.device == "cuda" or workers == 1:
        results = map(_worker, specs)
    else:  # fork: the workers share the loaded tensors instead of reloading MNIST
        pool = multiprocessing.get_context("fork").Pool(workers)
        results = pool.imap(_worker, specs)
    runs = []
    for run in results:
        h = run["history"]
        status = (f"diverged at epoch {run['diverged_epoch']}" if run["diverged_epoch"]
                  else f"test acc {h['test_acc'][-1]:.4f}, train acc {h['train_acc'][-1]:.4f}")
        print(f"q1: {run['variant']} seed {run['spec']['seed']}: {status}, "
              f"{run['wall_time_s']:.1f} s", flush=True)
        runs.append(run)
    if cfg.device != "cuda" and workers > 1:
        pool.close()
    return runs


def _check_device(cfg: config.Q1) -> None:
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise config.ConfigError("config.toml: [q1] device = 'cuda' but no CUDA device is "
                                 "available here; set device = 'cpu'")


def run(out_dir=None) -> dict:
    out_dir = out_dir or paths.Q1
    cfg = config.load()["q1"]
    _check_device(cfg)
    start = time.perf_counter()
    data = load_data(cfg.standardize, cfg.device)
    runs = run_all(cfg, data, progress=sys.stderr.isatty())
    by_variant = {}
    for r in runs:
        by_variant.setdefault(r["variant"], []).append(r)
    summaries = {v: summarise(rs, cfg) for v, rs in by_variant.items()}
    main_variant = run_specs(cfg)[0].variant
    saved = by_variant[main_variant][0]
    _save_model(saved, data, cfg, out_dir)
    metrics = {
        "main": {**summaries[main_variant], "saved_seed": saved["spec"]["seed"],
                 "saved_test_acc": saved["history"]["test_acc"][-1] if saved["history"]["test_acc"] else None},
        "ablations": ablation_tables(summaries, cfg),
        "config": config.as_dict(cfg),
        "layers": [data["x_train"].shape[1], *cfg.hidden, N_CLASSES],
        "n_train": len(data["x_train"]), "n_test": len(data["x_test"]),
        "provenance": provenance.record("q1", config.section_hash(cfg), cfg.seeds,
                                        time.perf_counter() - start, data["data_md5"],
                                        cfg.device),
    }
    history = {v: [{"seed": r["spec"]["seed"], "diverged_epoch": r["diverged_epoch"],
                    "wall_time_s": r["wall_time_s"], **r["history"]} for r in rs]
               for v, rs in by_variant.items()}
    provenance.write_json(out_dir / "history.json", {"main_variant": main_variant, "runs": history,
                                                      "provenance": metrics["provenance"]})
    provenance.write_json(out_dir / "metrics.json", metrics)  # last: it marks the run complete
    return metrics


def _save_model(run: dict, data: dict, cfg: config.Q1, out_dir) -> None:
    """Weights as torch.save of a dict of tensors, with the preprocessing they expect."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = {k: v.cpu() for k, v in run["params"].items()}
    weights.update(input_mean=data["input_mean"], input_std=data["input_std"])
    tmp = out_dir / f".{WEIGHTS}.tmp"
    torch.save(weights, tmp)
    tmp.replace(out_dir / WEIGHTS)
    p = mlp.predict(run["params"], data["x_test"], run["spec"]["activation"])
    provenance.write_json(out_dir / "test_predictions.json",
                          {"seed": run["spec"]["seed"], "predicted": p.argmax(1).tolist(),
                           "labels": data["y_test"].tolist()})


def evaluate(weights_path=None, activation: str | None = None) -> float:
    """Average test accuracy of the saved network on the MNIST test set."""
    weights_path = weights_path or paths.Q1 / WEIGHTS
    weights = torch.load(weights_path)
    activation = activation or config.load()["q1"].activation
    x, labels = mnist.load(train=False)
    x = (x - weights["input_mean"]) / weights["input_std"]
    params = {k: v for k, v in weights.items() if k[0] in "Wb"}
    torch.set_num_threads(1)  # the arithmetic of training's evaluation, so the numbers match exactly
    with torch.no_grad():
        return mlp.accuracy(mlp.predict(params, x, activation), labels)


def _run_line() -> str:
    m = run()["main"]
    return (f"q1: main test accuracy {m['test_acc_mean']:.4f} ± {m['test_acc_std']:.4f} "
            f"over seeds {m['seeds']}; wrote {paths.Q1}")


def main(argv: list[str]) -> int:
    return cli.run_command("experiments.q1", {
        "run": _run_line, "evaluate": lambda: f"q1: test accuracy {evaluate():.4f}"}, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
