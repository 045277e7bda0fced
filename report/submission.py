"""`make submission`: the zip the course receives -> report/hw1_<id>.zip

    python -m report.submission

It holds the report, per task a train and an eval script, and the two weights files. The
scripts are standalone (torch and torchvision only) and generated: the model, data and label code
is copied verbatim from experiments/ (scratch_mlp.py, mnist_reader.py, random_label_net.py), the
settings come from the config the results were produced with, and one constant names each weights
file in both the train and the eval script. Packing is refused when the report is missing,
stale, a quick run, or longer than two pages of main body.
"""
from __future__ import annotations

import json
import pprint
import sys
import zipfile
from pathlib import Path

from pipeline import config, paths
from report import context
from report.claims import ReportError

BODY_PAGE_LIMIT = 2
PARTS = {"q1": ["hw1/data.py", "hw1/scratch_mlp.py"],
         "q2": ["hw1/data.py", "hw1/random_label_net.py"]}

Q1_TRAIN = '''
def main(epochs=SETTINGS["epochs"]):
    torch.set_num_threads(1)  # the thread count the report's runs used: identical arithmetic
    folder = Path(__file__).resolve().parent
    x_train, y_train = read_mnist(folder, train=True, download=True)
    x_test, y_test = read_mnist(folder, train=False, download=True)
    if SETTINGS["standardize"]:
        mean, std = x_train.mean(), x_train.std()
    else:
        mean, std = torch.tensor(0.0), torch.tensor(1.0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    seed, act = SETTINGS["seed"], SETTINGS["activation"]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)  # initialisation, then batch order
    params = init_params([x_train.shape[1], *SETTINGS["hidden"], 10], act, generator)
    y = one_hot(y_train, 10)
    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            order = torch.randperm(len(x_train), generator=generator)
            train_epoch(params, x_train, y, order, SETTINGS["batch_size"], act,
                        SETTINGS["loss"], SETTINGS["lr"])
            print(f"epoch {epoch}: train accuracy {accuracy(predict(params, x_train, act), y_train):.4f}, "
                  f"test accuracy {accuracy(predict(params, x_test, act), y_test):.4f}")
    torch.save({**params, "input_mean": mean, "input_std": std}, folder / WEIGHTS)
    print(f"saved {folder / WEIGHTS}")
'''

Q1_EVAL = '''
def evaluate_hw1():
    """Average accuracy of the trained network on the 10,000 MNIST test images."""
    folder = Path(__file__).resolve().parent
    weights = torch.load(folder / WEIGHTS)
    x_test, y_test = read_mnist(folder, train=False, download=True)
    x_test = (x_test - weights["input_mean"]) / weights["input_std"]  # as in training
    params = {name: t for name, t in weights.items() if name[0] in "Wb"}
    torch.set_num_threads(1)
    with torch.no_grad():
        return float(accuracy(predict(params, x_test, SETTINGS["activation"]), y_test))
'''

Q2_TRAIN = '''
def main(epochs=SETTINGS["epochs"]):
    torch.set_num_threads(2)  # the thread count the report's runs used: identical arithmetic
    folder = Path(__file__).resolve().parent
    x_train, _ = read_mnist(folder, train=True, download=True)
    x_test, _ = read_mnist(folder, train=False, download=True)
    mean, std = x_train.mean(), x_train.std()
    x = (x_train[:SETTINGS["n_train"]] - mean) / std  # the first images, in dataset order
    x_test = (x_test - mean) / std
    y, y_test = random_labels(SETTINGS["seed"], SETTINGS["n_train"], len(x_test))  # drawn once
    torch.manual_seed(SETTINGS["seed"])
    net = build_net(SETTINGS["hidden"])
    optimizer = make_optimizer(SETTINGS["optimizer"], net.parameters(), SETTINGS["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        full_batch_step(net, optimizer, x, y)
        with torch.no_grad():
            print(f"epoch {epoch}: train loss {loss_fn(net(x), y).item():.5f}, "
                  f"test loss {loss_fn(net(x_test), y_test).item():.4f}")
    torch.save({**net.state_dict(), "input_mean": mean, "input_std": std}, folder / WEIGHTS)
    print(f"saved {folder / WEIGHTS}")
'''

Q2_EVAL = '''
def evaluate_hw1():
    """Accuracy on the 10,000 MNIST test images labelled by independent Bernoulli(1/2) draws,
    the same draws as in training (seeded), so the number is reproducible."""
    folder = Path(__file__).resolve().parent
    weights = torch.load(folder / WEIGHTS)
    x_test, _ = read_mnist(folder, train=False, download=True)
    x_test = (x_test - weights.pop("input_mean")) / weights.pop("input_std")  # as in training
    _, y_test = random_labels(SETTINGS["seed"], SETTINGS["n_train"], len(x_test))
    net = build_net(SETTINGS["hidden"])
    net.load_state_dict(weights)
    torch.set_num_threads(2)
    with torch.no_grad():
        return float((net(x_test).argmax(1) == y_test).float().mean())
'''

TRAIN_ENTRY = '''

if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    main(parser.parse_args().epochs)
'''
EVAL_ENTRY = '''

if __name__ == "__main__":
    print(f"average test accuracy: {evaluate_hw1():.4f}")
'''


def settings(task: str, metrics: dict) -> dict:
    """The hyperparameters the results were produced with (from the metrics' own config copy)."""
    c = metrics["config"]
    if task == "q1":
        keys = ("hidden", "activation", "loss", "lr", "batch_size", "epochs", "standardize")
        return {**{k: c[k] for k in keys}, "seed": metrics["main"]["saved_seed"]}
    keys = ("hidden", "n_train", "optimizer", "lr", "epochs")
    return {**{k: c[k] for k in keys}, "seed": metrics["random"]["saved_seed"]}


def script(task: str, kind: str, student: dict, metrics: dict) -> str:
    weights = f"hw1_{student['id']}_{task}_weights.pkl"
    purpose = {"train": "trains the network and saves its weights beside this script",
               "eval": "evaluate_hw1() returns the average test accuracy of the saved weights"}[kind]
    body = {("q1", "train"): Q1_TRAIN, ("q1", "eval"): Q1_EVAL,
            ("q2", "train"): Q2_TRAIN, ("q2", "eval"): Q2_EVAL}[task, kind]
    parts = [f'"""HW1 {task.upper()} {kind} script of {student["name"]} ({student["id"]}): {purpose}.\n\n'
             f'Standalone: needs torch and torchvision only; MNIST is read from ./MNIST/raw beside this\n'
             f'file (torchvision layout) or downloaded there. Generated by `make submission`.\n"""',
             "from pathlib import Path\n\nimport torch"]
    for rel in PARTS[task]:
        parts.append(f"# ---- {rel} (verbatim) ----\n" + (paths.ROOT / rel).read_text())
    parts.append(f"# ---- settings the report's results were produced with ----\n"
                 f"SETTINGS = {pprint.pformat(settings(task, metrics), sort_dicts=False)}\n"
                 f"WEIGHTS = {weights!r}\n")
    parts.append(body + (TRAIN_ENTRY if kind == "train" else EVAL_ENTRY))
    return "\n\n".join(parts)


def check_report(results: Path = paths.RESULTS, build: Path = paths.BUILD,
                 pdf: Path = paths.PDF, allow_quick: bool = False) -> dict:
    """Refuse a missing, stale, quick or over-long report; return the build info."""
    if not pdf.exists() or not (build / "build.json").exists():
        raise ReportError(f"{context.rel(pdf)} is missing; run `make report` first")
    info = json.loads((build / "build.json").read_text())
    if info["quick"] and not allow_quick:
        raise ReportError("the report is a quick run (QUICK=1); run `make report` for the full one")
    ctx = context.build_context(config.load(quick=info["quick"]), results)  # raises when stale
    newest = max(p.stat().st_mtime for p in [*paths.TEMPLATES.glob("*.j2"),
                                             *(results / name / "metrics.json" for name in ("q1", "q2"))])
    if pdf.stat().st_mtime < newest:
        raise ReportError(f"{context.rel(pdf)} is older than its templates or results; "
                          f"run `make report`")
    if info["body_pages"] > BODY_PAGE_LIMIT:
        raise ReportError(f"the main body has {info['body_pages']} pages; the course allows "
                          f"{BODY_PAGE_LIMIT}: shorten the templates")
    return {"info": info, "context": ctx}


def pack(out: Path | None = None, results: Path = paths.RESULTS, build: Path = paths.BUILD,
         pdf: Path = paths.PDF, allow_quick: bool = False) -> Path:
    """Check the report, then write the zip (to a temporary name, renamed when complete)."""
    checked = check_report(results, build, pdf, allow_quick)
    ctx = checked["context"]
    student_id = ctx["student"]["id"]
    out = out or paths.ROOT / "report" / f"hw1_{student_id}.zip"
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(pdf, f"hw1_{student_id}_report.pdf")
        for task in ("q1", "q2"):
            for kind in ("train", "eval"):
                z.writestr(f"hw1_{student_id}_{task}_{kind}.py", script(task, kind, ctx["student"], ctx[task]))
            z.write(results / task / f"{task}_weights.pkl", f"hw1_{student_id}_{task}_weights.pkl")
    tmp.replace(out)
    return out


def main() -> int:
    try:
        out = pack()
    except (ReportError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(out) as z:
        for item in z.infolist():
            print(f"  {item.file_size:>10,d}  {item.filename}")
    print(f"submission: wrote {out.relative_to(paths.ROOT)} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
