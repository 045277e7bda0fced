"""Vector PDF figures from the results files (never from a live run).

    python -m experiments.plots q1   # results/q1/q1_{accuracy,ablations,confusion,misclassified}.pdf
    python -m experiments.plots q2   # results/q2/q2_loss.pdf

(results/<dataset>/... for [data] dataset other than MNIST; class names from metrics.json.)
Sized in inches for the report's text width (A4, 1.8 cm margins: 6.85 in) at the width the
report includes each one, so 8 pt here is 8 pt on the page, and set in Computer Modern, the
document's font family, so figure text matches the page.
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
from matplotlib.ticker import MaxNLocator  # noqa: E402

from hw1.atomic import atomic_write  # noqa: E402
from pipeline import cli, config, ledger, paths  # noqa: E402
from pipeline.tasks import TASKS  # noqa: E402

TEXT_WIDTH_IN = 6.85
# CMU Serif is Computer Modern as TrueType with a Unicode map (Debian's fonts-cmu, which
# `make setup` installs): embedded whole (pdf.fonttype 42), every label, the minus of 10^-1
# included, copies and reads back as typed. cmr10 and cmsy10, matplotlib's own Computer Modern,
# map the minus to the code of "¡". DejaVu Serif (bundled with matplotlib) stands in without it.
SERIF = ["CMU Serif", "DejaVu Serif"]
STYLE = {"font.family": "serif", "font.serif": SERIF,
         "mathtext.fontset": "custom", "mathtext.rm": "serif", "mathtext.it": "serif:italic",
         "mathtext.bf": "serif:bold", "axes.formatter.use_mathtext": True,
         "axes.unicode_minus": True, "font.size": 8, "axes.titlesize": 8, "legend.fontsize": 6.5,
         "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.1,
         "legend.handlelength": 1.4, "legend.borderaxespad": 0.3, "legend.labelspacing": 0.25,
         "pdf.fonttype": 42, "axes.spines.top": False, "axes.spines.right": False}
# CMU Serif's files all declare weight 500, which matplotlib names as a mismatch at every lookup;
# fontTools says it cannot subset their "TeX" table (kept whole, harmlessly)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
ABLATION_TITLES = {"lr": "by learning rate", "hidden": "by hidden layers"}
# config.toml's values as the report's prose spells them (hidden sizes and rates stay as they are)
VALUE_NAMES = {"relu": "ReLU", "mse": "MSE", "ce": "cross-entropy"}
# Task 1's two figures share a row of the page (each panel has its own y range); 1.7 in rather
# than 1.9 keeps the two-page body within budget with the fourth ablation panel and its table rows
Q1_ROW_HEIGHT_IN = 1.7
# Where a legend may go, most wanted first: the learning curves rise from the lower left, so the
# lower right is usually free; the one that needs the least extra room in the y range wins.
LEGEND_CORNERS = ["lower right", "upper left", "lower left", "upper right"]
LEGEND_GAP = 0.03  # of the axes height, between a legend and the nearest data


class ResultsMissing(cli.UserError):
    pass


def _read(path: Path) -> dict:
    """A results file of the task's run, as the run recorded it (pipeline/ledger.py)."""
    command = paths.make_command("experiments", path.parent.parent)
    if not path.exists():
        raise ResultsMissing(f"{paths.relative(path)} is missing; run `{command}` first")
    ledger.check(path, command)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:  # recorded so, yet unreadable: the run itself was cut short
        raise ResultsMissing(f"{paths.relative(path)} is damaged; delete it and run `{command}` "
                             f"to write it again") from None


def _save(fig, path: Path) -> None:
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", pad_inches=0.02)
    ledger.record(path)  # the report typesets it only as drawn here
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


def _outline(ax) -> np.ndarray:
    """Display coordinates along everything drawn in the axes (curves, bands, reference lines),
    with points between the vertices, so that a legend between two epochs still meets a line."""
    shapes = [line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
              for line in ax.get_lines()]
    shapes += [collection.get_transform().transform(path.vertices)
               for collection in ax.collections for path in collection.get_paths()]
    dense = [start + (end - start) * t for shape in shapes if len(shape) > 1
             for start, end in zip(shape[:-1], shape[1:]) for t in np.linspace(0, 1, 9)]
    return np.array(dense) if dense else np.empty((0, 2))


def _room_needed(ax, legend, at_bottom: bool) -> float:
    """How much the y range must grow on the legend's side, as a fraction of it, for the legend
    to clear the data by LEGEND_GAP. The legend keeps its place in the axes, so the data move
    away from it: a data point at fraction a from that side lands at (a + x) / (1 + x)."""
    ax.figure.canvas.draw()
    box, frame = legend.get_window_extent(), ax.bbox
    points = _outline(ax)
    under = points[(points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)]
    if not len(under):
        return 0.0
    if at_bottom:
        need = (box.y1 - frame.y0) / frame.height + LEGEND_GAP
        nearest = (under[:, 1].min() - frame.y0) / frame.height
    else:
        need = (frame.y1 - box.y0) / frame.height + LEGEND_GAP
        nearest = (frame.y1 - under[:, 1].max()) / frame.height
    return max(0.0, (need - nearest) / (1 - need)) if need < 1 else math.inf


def _grow(ax, room: float, at_bottom: bool) -> None:
    """Widen the y range by `room` of itself on one side, in the axis' scale (log for q2)."""
    scale = ax.yaxis.get_transform()
    low, high = scale.transform(np.array(ax.get_ylim(), dtype=float))
    low, high = (low - room * (high - low), high) if at_bottom else (low, high + room * (high - low))
    ax.set_ylim(*scale.inverted().transform(np.array([low, high])))


def legend_off_the_data(ax) -> None:
    """The legend in the corner of LEGEND_CORNERS that needs the least extra room, and that room
    added, so that no curve or band runs under it (matplotlib's "best" may still cover a line)."""
    rooms = {}
    for corner in LEGEND_CORNERS:
        rooms[corner] = _room_needed(ax, ax.legend(loc=corner, frameon=False), corner.startswith("lower"))
        if rooms[corner] == 0:
            break
    corner = min(rooms, key=lambda c: (rooms[c], LEGEND_CORNERS.index(c)))
    legend = ax.legend(loc=corner, frameon=False)
    data_range = ax.get_ylim()
    for _ in range(3):  # new ticks may move the axes a little: check again
        room = _room_needed(ax, legend, corner.startswith("lower"))
        if room == 0 or not math.isfinite(room):
            break
        _grow(ax, room, corner.startswith("lower"))
    if ax.get_ylim() != data_range:
        _axis_over(ax, *data_range)


def _axis_over(ax, low: float, high: float) -> None:
    """The y axis line and its labels over the data's range alone: the room made for a legend
    shows no tick such as 102 % that no accuracy can reach."""
    ticks = [tick for tick in ax.get_yticks() if low <= tick <= high]
    ax.set_yticks(ticks)
    ax.spines["left"].set_bounds(low, high)


def _few_ticks(ax, y_ticks: int = 4) -> None:
    """Whole epochs on x; few labels on y, so that narrow panels' labels stay apart."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=2))
    if ax.get_yscale() == "linear":
        ax.yaxis.set_major_locator(MaxNLocator(nbins=y_ticks))


def _panels(columns: int, width_in: float, height_in: float, **options):
    """A row of panels laid out by matplotlib's constrained layout, which keeps each panel's tick
    labels clear of the next panel, with a little extra space between them."""
    fig, axes = plt.subplots(1, columns, figsize=(width_in, height_in), layout="constrained",
                             squeeze=False, **options)
    fig.get_layout_engine().set(w_pad=2 / 72, wspace=0.06)
    return fig, list(axes.flat)


def _results(task: str, mode: paths.Mode) -> Path:
    """The task's results folder for [data] dataset."""
    return paths.task_results(task, config.read_dataset(mode.results), mode.results)


def q1_figures(folder: Path) -> list[Path]:
    history, metrics = _read(folder / "history.json"), _read(folder / "metrics.json")
    plt.rcParams.update(STYLE)
    main = history["runs"][history["main_variant"]]
    out = []

    # widths as the report includes them (0.335 and 0.655 of the text width): drawn at size
    fig, (ax,) = _panels(1, TEXT_WIDTH_IN * 0.335, Q1_ROW_HEIGHT_IN)
    band(ax, main, "train_acc", "train", COLORS[0], 100)
    band(ax, main, "test_acc", "test", COLORS[1], 100)
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Task 1: main configuration")
    _few_ticks(ax)
    legend_off_the_data(ax)
    out.append(folder / "q1_accuracy.pdf")
    _save(fig, out[-1])

    target = metrics["config"]["target_test_acc"] * 100
    ablations = metrics["ablations"]
    fig, axes = _panels(max(1, len(ablations)), TEXT_WIDTH_IN * 0.655, Q1_ROW_HEIGHT_IN)
    for ax, (factor, table) in zip(axes, ablations.items()):
        for color, (value, summary) in zip(COLORS, table["variants"].items()):
            band(ax, history["runs"][summary["variant"]], "test_acc", VALUE_NAMES.get(value, value),
                 color, 100)
        ax.axhline(target, color="0.5", lw=0.6, ls=":")
        ax.set(xlabel="epoch", title=ABLATION_TITLES.get(factor, f"by {factor}"))
        _few_ticks(ax, y_ticks=3)
    axes[0].set_ylabel("test accuracy (%)")
    for ax in axes[:len(ablations)]:  # after the label, which narrows the first panel
        legend_off_the_data(ax)
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


def q2_figures(folder: Path) -> list[Path]:
    history, metrics = _read(folder / "history.json"), _read(folder / "metrics.json")
    plt.rcParams.update(STYLE)
    titles = {"random": "random Bernoulli(1/2) labels", "control": "control: real labels (parity)"}
    fig, axes = _panels(2, TEXT_WIDTH_IN, 1.95, sharey=True)
    for ax, (kind, title) in zip(axes, titles.items()):
        band(ax, history[kind], "train_loss", "train", COLORS[0])
        band(ax, history[kind], "test_loss", "test", COLORS[1])
        ax.axhline(metrics["ln2"], color="0.3", lw=0.7, ls="--", label=r"$\ln 2$")
        ax.set(yscale="log", xlabel="epoch", title=title)
        _few_ticks(ax)
    axes[0].set_ylabel("cross-entropy (nats)")
    for ax in axes:  # the shared y range grows for whichever legend needs it
        legend_off_the_data(ax)
    path = folder / "q2_loss.pdf"
    _save(fig, path)
    return [path]


def _figures_line(task: str, draw):
    return lambda args: f"plots: wrote {', '.join(p.name for p in draw(_results(task, args.mode)))}"


if __name__ == "__main__":
    # each task's figures are drawn by <task>_figures(), its command named after the task
    cli.run("experiments.plots", __doc__, {
        task.name: cli.Command(_figures_line(task.name, globals()[f"{task.name}_figures"]),
                               f"{task.title}'s figures from results/{task.name}")
        for task in TASKS})
