"""Vector PDF figures from the results files (never from a live run).

    python -m experiments.plots q1   # results/q1/q1_{accuracy,ablations,confusion,misclassified}.pdf
    python -m experiments.plots q2   # results/q2/q2_loss.pdf

(results/<dataset>/... for [data] dataset other than MNIST; class names from metrics.json.)
Sized in inches for the report's text width (A4, 1.8 cm margins: 6.85 in) and set in Computer
Modern, the document's font family, so figure text matches the page.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hw1.atomic import atomic_write  # noqa: E402
from pipeline import cli, config, paths  # noqa: E402
from pipeline.tasks import TASKS  # noqa: E402

TEXT_WIDTH_IN = 6.85
STYLE = {"font.family": "serif", "font.serif": ["cmr10"], "mathtext.fontset": "cm",
         "axes.formatter.use_mathtext": True, "axes.unicode_minus": False, "font.size": 8,
         "axes.titlesize": 8, "legend.fontsize": 6.5, "axes.labelsize": 8, "lines.linewidth": 1.1,
         "pdf.fonttype": 42, "axes.spines.top": False, "axes.spines.right": False}
logging.getLogger("fontTools").setLevel(logging.ERROR)  # cmr10's header dates are harmlessly odd
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
ABLATION_TITLES = {"lr": "by learning rate", "hidden": "by hidden layers"}
# Task 1's two figures share a row of the page (each panel has its own y range); 1.7 in rather
# than 1.9 keeps the two-page body within budget with the fourth ablation panel and its table rows
Q1_ROW_HEIGHT_IN = 1.7


class ResultsMissing(cli.UserError):
    pass


def _read(path: Path) -> dict:
    if not path.exists():
        raise ResultsMissing(f"{paths.relative(path)} is missing; run "
                             f"`{paths.make_command('experiments')}` first")
    return json.loads(path.read_text())


def _save(fig, path: Path) -> None:
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", pad_inches=0.02)
    plt.close(fig)


def band(ax, runs: list[dict], key: str, label: str, color, scale: float = 1.0) -> None:
    """Mean over seeds with a min-max band; runs that diverged end early and are left out."""
    lengths = [len(r[key]) for r in runs]
    full = [r[key] for r in runs if len(r[key]) == max(lengths)] if lengths else []
    if not full or not full[0]:
        return
    values = np.array(full) * scale
    epochs = np.arange(1, values.shape[1] + 1)
    ax.plot(epochs, values.mean(0), color=color, label=label)
    if len(values) > 1:
        ax.fill_between(epochs, values.min(0), values.max(0), color=color, alpha=0.25, lw=0)


def _results(task: str) -> Path:
    """The task's results folder for [data] dataset."""
    return paths.task_results(task, config.read_dataset())


def q1_figures(folder: Path = None) -> list[Path]:
    folder = folder or _results("q1")
    history, metrics = _read(folder / "history.json"), _read(folder / "metrics.json")
    plt.rcParams.update(STYLE)
    main = history["runs"][history["main_variant"]]
    out = []

    fig, ax = plt.subplots(figsize=(TEXT_WIDTH_IN * 0.34, Q1_ROW_HEIGHT_IN))
    band(ax, main, "train_acc", "train", COLORS[0], 100)
    band(ax, main, "test_acc", "test", COLORS[1], 100)
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Task 1: main configuration")
    ax.legend(frameon=False, loc="lower right")
    out.append(folder / "q1_accuracy.pdf")
    _save(fig, out[-1])

    target = metrics["config"]["target_test_acc"] * 100
    ablations = metrics["ablations"]
    fig, axes = plt.subplots(1, len(ablations), figsize=(TEXT_WIDTH_IN * 0.66, Q1_ROW_HEIGHT_IN))
    for ax, (factor, table) in zip(axes, ablations.items()):
        for color, (value, summary) in zip(COLORS, table["variants"].items()):
            band(ax, history["runs"][summary["variant"]], "test_acc", value, color, 100)
        ax.axhline(target, color="0.5", lw=0.6, ls=":")
        ax.set(xlabel="epoch", title=ABLATION_TITLES.get(factor, f"by {factor}"))
        ax.legend(frameon=False, loc="best")
    axes[0].set_ylabel("test accuracy (%)")
    out.append(folder / "q1_ablations.pdf")
    _save(fig, out[-1])

    predictions = _read(folder / "test_predictions.json")
    predicted, labels = np.array(predictions["predicted"]), np.array(predictions["labels"])
    dataset = metrics["dataset"]
    out.append(_confusion(predicted, labels, dataset, folder / "q1_confusion.pdf"))
    out.append(_misclassified(predicted, labels, dataset,
                              folder / "q1_misclassified.pdf"))
    return out


def _confusion(predicted, labels, dataset: dict, path: Path) -> Path:
    classes, noun = dataset["classes"], dataset["noun"]
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    fig, ax = plt.subplots(figsize=(TEXT_WIDTH_IN * 0.45, TEXT_WIDTH_IN * 0.4))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    for (t, p), count in np.ndenumerate(matrix):
        ax.text(p, t, str(count), ha="center", va="center", fontsize=5,
                color="white" if count > matrix.max() / 3 else "black")
    ticks = range(len(classes))
    ax.set(xlabel=f"predicted {noun}", ylabel=f"true {noun}", xticks=ticks, yticks=ticks,
           title=f"Task 1: confusion matrix ({dataset['title']} test set)")
    ax.set_xticklabels(classes, rotation=0 if _short(classes) else 90)
    ax.set_yticklabels(classes)
    _save(fig, path)
    return path


def _short(classes: list[str]) -> bool:
    """Digits fit side by side under a plot; names such as 'Ankle boot' need a line each."""
    return max(len(name) for name in classes) <= 2


def _misclassified(predicted, labels, dataset: dict, path: Path, count: int = 24) -> Path:
    from experiments import datasets
    images, _ = datasets.load(datasets.DATASETS[dataset["name"]], train=False)
    names = dataset["classes"]
    wrong = np.flatnonzero(predicted != labels)[:count]
    # class names take two lines and a wider column: "(true T-shirt/top)"
    cols, height = (12, 0.68) if _short(names) else (8, 0.95)
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(TEXT_WIDTH_IN, height * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, wrong):
        guess, truth = names[predicted[index]], names[labels[index]]
        title = f"{guess} (true {truth})" if _short(names) else f"{guess}\n(true {truth})"
        ax.imshow(images[index].reshape(28, 28).numpy(), cmap="gray_r")
        ax.set_title(title, fontsize=6 if _short(names) else 5, pad=2)
    _save(fig, path)
    return path


def q2_figures(folder: Path = None) -> list[Path]:
    folder = folder or _results("q2")
    history, metrics = _read(folder / "history.json"), _read(folder / "metrics.json")
    plt.rcParams.update(STYLE)
    titles = {"random": "random Bernoulli(1/2) labels", "control": "control: real labels (parity)"}
    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 1.95), sharey=True)
    for ax, (kind, title) in zip(axes, titles.items()):
        band(ax, history[kind], "train_loss", "train", COLORS[0])
        band(ax, history[kind], "test_loss", "test", COLORS[1])
        ax.axhline(metrics["ln2"], color="0.3", lw=0.7, ls="--", label=r"$\ln 2$")
        ax.set(yscale="log", xlabel="epoch", title=title)
        ax.legend(frameon=False, loc="lower left")
    axes[0].set_ylabel("cross-entropy (nats)")
    path = folder / "q2_loss.pdf"
    _save(fig, path)
    return [path]


def _figures_line(draw):
    return lambda args: f"plots: wrote {', '.join(p.name for p in draw())}"


if __name__ == "__main__":
    # each task's figures are drawn by <task>_figures(), its command named after the task
    cli.run("experiments.plots", __doc__, {
        task.name: cli.Command(_figures_line(globals()[f"{task.name}_figures"]),
                               f"{task.title}'s figures from results/{task.name}")
        for task in TASKS})
