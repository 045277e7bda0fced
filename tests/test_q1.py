"""Task 1: the course's rules, the hand-made gradients against autograd, and the runner's behaviour."""
import dataclasses
import inspect
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from conftest import repository_copy
from helpers import rule_violations

from experiments import q1
from hw1 import scratch_mlp as mlp
from hw1 import task1
from pipeline import cli, config, paths, tasks

@pytest.mark.parametrize("module", [mlp, task1, q1])
def test_the_trainer_obeys_the_course_rules(module):
    assert rule_violations(inspect.getsource(module)) == []


@pytest.mark.parametrize("snippet", [
    "import torch.nn as nn", "from torch import nn", "from torch.nn import functional as F",
    "import torch.optim", "loss.backward()", "a = torch.relu(z)", "p = torch.softmax(z, 1)",
    "p = torch.nn.functional.softmax(z, 1)",
    "from torch.autograd import grad", "w = torch.zeros(3, requires_grad=True)",
    "a = torch.sigmoid(z)", "a = F.log_softmax(z)", "opt = torch.optim.SGD(p, 0.1)",
])
def test_the_rule_check_catches_each_broken_rule(snippet):
    assert rule_violations(snippet), snippet


def _oracle_loss(params, x, labels, activation, loss):
    """The same network written with torch's built-ins, differentiated by autograd."""
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    h = x
    last = len(params) // 2
    for l in range(1, last + 1):
        z = h @ params[f"W{l}"] + params[f"b{l}"]
        h = act(z) if l < last else z
    if loss == "ce":
        return torch.nn.functional.cross_entropy(h, labels)
    p = torch.softmax(h, dim=1)
    y = torch.nn.functional.one_hot(labels, p.shape[1]).to(p.dtype)
    return ((p - y) ** 2).sum(dim=1).mean()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("batch", [1, 7])
def test_every_hand_made_gradient_matches_autograd(activation, loss, batch):
    gen = torch.Generator().manual_seed(3)
    params = mlp.init_params([20, 16, 8, 5], activation, gen, dtype=torch.float64)
    params = {k: v + 0.1 * torch.randn(v.shape, generator=gen, dtype=torch.float64)
              for k, v in params.items()}  # nonzero biases: their gradients are tested too
    x = torch.randn(batch, 20, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (batch,), generator=gen)

    cache = mlp.forward(params, x, activation)
    ours = mlp.backward_pass(params, cache, mlp.one_hot(labels, 5, torch.float64), activation, loss)
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    oracle = dict(zip(leaves, torch.autograd.grad(_oracle_loss(leaves, x, labels, activation, loss),
                                                  list(leaves.values()))))
    for name in params:
        diff = (ours[name] - oracle[name]).abs().max().item()
        assert diff <= 1e-10, f"{name}: max |ours - autograd| = {diff:.3g}"
    ours_loss = mlp.LOSSES[loss][0](cache["z3"], cache["p"], mlp.one_hot(labels, 5, torch.float64))
    assert abs(ours_loss.item() - _oracle_loss(params, x, labels, activation, loss).item()) < 1e-12


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_the_fused_step_equals_a_gradient_step(activation, loss):
    gen = torch.Generator().manual_seed(4)
    params = mlp.init_params([20, 16, 8, 5], activation, gen, dtype=torch.float64)
    x = torch.randn(7, 20, generator=gen, dtype=torch.float64)
    y = mlp.one_hot(torch.randint(0, 5, (7,), generator=gen), 5, torch.float64)
    cache = mlp.forward(params, x, activation)
    stepped = {k: v.clone() for k, v in params.items()}
    mlp.sgd_step(stepped, mlp.backward_pass(params, cache, y, activation, loss), lr=0.5)
    mlp.backward_sgd_step(params, cache, y, activation, loss, lr=0.5)  # updates params in place
    for name in params:
        diff = (params[name] - stepped[name]).abs().max().item()
        assert diff <= 1e-12, f"{name}: max |fused - backward_pass + sgd_step| = {diff:.3g}"


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_evaluate_gives_the_whole_sets_loss_and_accuracy_whatever_the_chunk(loss):
    gen = torch.Generator().manual_seed(5)
    params = mlp.init_params([20, 16, 8, 5], "relu", gen, dtype=torch.float64)
    x = torch.randn(10, 20, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (10,), generator=gen)
    oracle_loss = _oracle_loss(params, x, labels, "relu", loss).item()
    oracle_acc = (mlp.predict(params, x, "relu", chunk=10).argmax(1) == labels).double().mean().item()
    for chunk in (3, 10, 64):  # a ragged last chunk, one exact chunk, one larger than the set
        value, acc = mlp.evaluate(params, x, labels, "relu", loss, chunk=chunk)
        assert abs(value - oracle_loss) < 1e-12 and acc == pytest.approx(oracle_acc, abs=1e-7)


def test_a_stacks_epoch_takes_each_networks_steps_of_the_dict_api_bit_for_bit():
    # the list of views made once per epoch must follow every in-place update of the weights, and
    # each network of the stack must take its own batches, in its own order
    gen = torch.Generator().manual_seed(1)
    x, labels = torch.randn(100, 784, generator=gen), torch.randint(0, 10, (100,), generator=gen)
    y = mlp.one_hot(labels, 10)
    orders = torch.stack([torch.randperm(100, generator=gen) for _ in range(3)])
    alone = [mlp.init_params([784, 8, 4, 10], "relu", torch.Generator().manual_seed(s)) for s in range(3)]
    stacked = mlp.stack(alone)
    mlp.train_epoch(stacked, x, y, orders, 16, "relu", "mse", 0.1)  # a ragged last batch of 4
    for params, order in zip(alone, orders):
        for batch in order.split(16):
            cache = mlp.forward(params, x.index_select(0, batch), "relu")
            mlp.backward_sgd_step(params, cache, y.index_select(0, batch), "relu", "mse", 0.1)
    for s, params in enumerate(alone):
        taken = mlp.network(stacked, s)
        assert all(torch.equal(taken[k], params[k]) for k in params), f"network {s}"
        assert all(taken[k].shape == params[k].shape for k in params)


def test_a_network_taken_from_a_stack_holds_its_own_weights_only():
    stacked = mlp.stack([mlp.init_params([6, 4, 3], "relu", torch.Generator().manual_seed(s))
                         for s in range(2)])
    taken = mlp.network(stacked, 1)
    assert taken["W1"].untyped_storage().nbytes() == 6 * 4 * 4  # saved alone, it saves itself alone
    taken["W1"].zero_()
    assert stacked["W1"][1].abs().sum() > 0


def test_softmax_and_sigmoid_are_stable_for_extreme_inputs():
    z = torch.tensor([[1000.0, 0.0, -1000.0]])
    assert torch.isfinite(mlp.softmax(z)).all() and mlp.softmax(z)[0, 0] == 1.0
    assert torch.equal(mlp.sigmoid(torch.tensor([-1000.0, 1000.0])), torch.tensor([0.0, 1.0]))
    assert torch.isfinite(mlp.log_softmax_of(z)).all()


def _tiny_data(n=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 784, generator=gen)
    labels = torch.randint(0, 10, (n,), generator=gen)
    return {"x_train": x, "y_train": labels, "x_test": x[:16], "y_test": labels[:16],
            "input_mean": 0.0, "input_std": 1.0}


def _tiny_cfg(**changes):
    return dataclasses.replace(tasks.Q1(), **{"epochs": 3, "batch_size": 16, "seeds": [0, 1], **changes})


def _settings(seed=0, **changes):
    return q1.settings_for(_tiny_cfg(), seed, **changes)


def test_the_trainer_learns_without_autograd_or_grad_tensors(monkeypatch):
    grad_mode, real_step = [], mlp.backward_sgd_layers
    monkeypatch.setattr(mlp, "backward_sgd_layers", lambda *args: (
        grad_mode.append(torch.is_grad_enabled()), real_step(*args)))
    run = task1.train(_settings(lr=0.5, loss="ce"), _tiny_data())
    assert grad_mode and not any(grad_mode), "every step runs with autograd off"
    assert not any(p.requires_grad for p in run["model"].values())
    losses = run["history"]["train_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]


def test_same_config_and_seed_give_identical_metrics():
    data = _tiny_data()
    first = task1.train(_settings(1), data)["history"]
    second = task1.train(_settings(1), data)["history"]
    other_seed = task1.train(_settings(2), data)["history"]
    assert first == second and first != other_seed


@pytest.mark.parametrize("changes", [{}, {"activation": "sigmoid", "loss": "ce", "hidden": (16, 8)}])
def test_seeds_trained_together_are_bit_for_bit_the_seeds_trained_alone(changes):
    data = _tiny_data(n=96)  # batches of 16 and a last batch of 0: every slice aligned
    seeds = [_settings(seed, **changes) for seed in (0, 1, 2)]
    together = task1.train_together(seeds, data)
    twice = task1.train_together(seeds, data)
    for settings, run, again in zip(seeds, together, twice):
        alone = task1.train(settings, data)
        assert run["history"] == alone["history"] == again["history"], settings.seed
        assert all(torch.equal(run["model"][k], alone["model"][k]) for k in alone["model"])
    assert together[0]["history"] != together[1]["history"], "each seed its own run"


def test_only_settings_whose_slices_align_are_stacked_and_only_alike_ones():
    cfg = _tiny_cfg(batch_size=32)
    runs = q1.run_settings(cfg)  # 8 variants over seeds 0 and 1
    grouped = task1.stacks(runs, (60_000, 784))
    assert len(grouped) == 8 and [s for stack in grouped for s in stack] == runs
    assert all(len({q1.variant(s) for s in stack}) == 1 for stack in grouped)
    assert len(task1.stacks(runs, (60_008, 784))) == 16, "a last batch of 8 rows: one seed at a time"
    ragged = [dataclasses.replace(s, batch_size=7) for s in runs]
    assert all(len(stack) == 1 for stack in task1.stacks(ragged, (60_000, 784)))
    narrow = [dataclasses.replace(s, hidden=(8, 4)) for s in runs[:2]]  # W3 of 4 x 10 floats
    assert task1.stacks(narrow, (60_000, 784)) == [[narrow[0]], [narrow[1]]]
    with pytest.raises(ValueError, match="more than the seed"):
        task1.train_together([_settings(0), _settings(1, lr=0.5)], _tiny_data())


def test_a_seed_that_diverges_in_a_stack_leaves_the_others_training(monkeypatch):
    real_init = mlp.init_params

    def second_overflows(sizes, activation, generator, **kw):
        params = real_init(sizes, activation, generator, **kw)
        if generator.initial_seed() == 1:
            params["W1"][0, 0] = float("inf")  # inf - inf in the first step: NaN
        return params
    monkeypatch.setattr(mlp, "init_params", second_overflows)
    data = _tiny_data(n=96)
    runs = task1.train_together([_settings(0), _settings(1), _settings(2)], data)
    assert [r["diverged_epoch"] for r in runs] == [None, 1, None]
    assert runs[1]["history"]["test_acc"] == [] and len(runs[2]["history"]["test_acc"]) == 3
    monkeypatch.setattr(mlp, "init_params", real_init)
    assert runs[2]["history"] == task1.train(_settings(2), data)["history"]


def test_a_diverging_run_stops_and_is_summarised_without_crashing():
    cfg, data = _tiny_cfg(), _tiny_data()
    data["x_train"] = data["x_train"] * 1e38  # overflows to inf in the first layer
    run = q1.train_one(_settings(), data)
    assert run["diverged_epoch"] == 1 and run["history"]["test_acc"] == []
    summary = q1.summarise([run], 0.9)
    assert summary["diverged"] == [{"seed": 0, "epoch": 1}] and summary["test_acc_mean"] is None


def test_a_diverging_main_configuration_ends_in_one_line_and_keeps_the_previous_results(
        tmp_path, monkeypatch, capsys):
    cfg = _tiny_cfg(seeds=[0], ablate_activation=[], ablate_lr=[], ablate_loss=[])
    data = _tiny_data()
    data["x_train"] = data["x_train"] * 1e38  # overflows in the first epoch, as lr = 1000 with ce does
    monkeypatch.setattr(config, "read_sections", lambda *a, **k: {"q1": cfg, "data": config.Data()})
    monkeypatch.setattr(q1, "load_data", lambda cfg, dataset: data)
    out = tmp_path / "q1"
    out.mkdir()
    (out / "metrics.json").write_text("the previous run's")
    code = cli.main("experiments.q1", q1.__doc__, {"run": cli.Command(lambda args: q1.run(paths.QUICK_MODE, out), "")},
                    ["run"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "diverged at epoch 1" in err and "lower [q1] lr" in err
    assert [p.name for p in tmp_path.iterdir()] == ["q1"], "no staging folder is left"
    assert [p.name for p in out.iterdir()] == ["metrics.json"], "no weights, history or predictions"
    assert (out / "metrics.json").read_text() == "the previous run's"


def _run_with_test_acc(seed: int, test_acc: list[float]) -> dict:
    history = {key: test_acc for key in task1.HISTORY_KEYS}
    return {"settings": {"seed": seed, "activation": "relu", "loss": "mse", "lr": 0.01},
            "variant": "relu-mse-lr0.01-h128-64", "history": history, "diverged_epoch": None,
            "wall_time_s": 1.0}


def test_the_speed_measure_separates_variants_that_reach_the_target_in_the_same_epoch():
    quick = q1.summarise([_run_with_test_acc(0, [0.95, 0.97, 0.98]),
                          _run_with_test_acc(1, [0.94, 0.97, 0.98])], 0.9)
    slow = q1.summarise([_run_with_test_acc(0, [0.91, 0.93, 0.97])], 0.9)
    assert quick["epochs_to_target_mean"] == slow["epochs_to_target_mean"] == 1
    assert quick["test_acc_over_epochs_per_seed"] == pytest.approx([0.9667, 0.9633], abs=1e-4)
    assert quick["test_acc_over_epochs_mean"] == pytest.approx(0.965)
    assert slow["test_acc_over_epochs_mean"] == pytest.approx(0.9367, abs=1e-4)


def test_run_specs_cover_main_and_each_ablation_over_every_seed():
    cfg = tasks.Q1()
    variants = [q1.variant(s) for s in q1.run_settings(cfg)]
    assert list(dict.fromkeys(variants)) == [
        "relu-mse-lr0.01-h128-64", "sigmoid-mse-lr0.01-h128-64", "relu-mse-lr0.05-h128-64",
        "relu-mse-lr0.1-h128-64", "relu-ce-lr0.01-h128-64", "relu-mse-lr0.01-h64",
        "relu-mse-lr0.01-h256-128", "relu-mse-lr0.01-h128-64-32"]
    assert len(variants) == 8 * len(cfg.seeds)
    duplicated = dataclasses.replace(cfg, ablate_activation=["relu", "tanh"], ablate_lr=[0.01],
                                     ablate_hidden=[[128, 64], [32]])
    assert len(q1.run_settings(duplicated)) == 4 * len(cfg.seeds)  # main, tanh, ce, 32


def test_the_width_and_depth_ablation_has_one_row_per_hidden_layout():
    cfg = tasks.Q1()
    summaries = {q1.variant(s): {"variant": q1.variant(s)} for s in q1.run_settings(cfg)}
    hidden = q1.ablation_tables(summaries, cfg)["hidden"]
    assert hidden["baseline"] == "128-64"
    assert list(hidden["variants"]) == ["128-64", "64", "256-128", "128-64-32"]
    assert hidden["variants"]["128-64-32"]["variant"] == "relu-mse-lr0.01-h128-64-32"


def test_epochs_to_reach_a_target():
    assert q1.epochs_to_reach([0.5, 0.89, 0.91, 0.95], 0.9) == 3
    assert q1.epochs_to_reach([0.5, 0.6], 0.9) is None


# --- through make: a failed, diverged or interrupted run never costs the last good results -------

TINY_Q1 = {"hidden": "[16]", "epochs": "1", "seeds": "[0]", "batch_size": "256",
           "ablate_activation": "[]", "ablate_lr": "[]", "ablate_loss": "[]", "ablate_hidden": "[]"}


def _set_q1(repo, **values):
    """config.toml's [q1] keys set to the given TOML values."""
    path = repo / "config.toml"
    text = path.read_text()
    head, rest = text.split("[q1]\n", 1)
    body, tail = rest.split("\n[q2]", 1)
    for key, value in values.items():
        body, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", body)
        assert count == 1, key
    path.write_text(f"{head}[q1]\n{body}\n[q2]{tail}")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _start_training(repo):
    """make of Task 1's results in its own session, returned once the run's workers train."""
    make = subprocess.Popen(["make", "--no-print-directory", "results/q1/metrics.json"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    for _ in range(1200):
        runs = [p for p in _children(make.pid) if _children(p)]  # the run, once its pool exists
        if runs:
            return make, runs[0]
        assert make.poll() is None, make.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never started its workers")


def _result_bytes(repo) -> dict:
    folder = repo / "results" / "q1"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith((".json", ".pkl"))}


@pytest.mark.slow
def test_through_make_the_last_good_results_survive_divergence_ctrl_c_and_kill_9(tmp_path):
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    _set_q1(repo, **TINY_Q1)
    make = ["make", "--no-print-directory", "results/q1/metrics.json"]
    first = subprocess.run(make, cwd=repo, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    good = _result_bytes(repo)
    assert set(good) == {"metrics.json", "history.json", "test_predictions.json", "q1_weights.pkl",
                         ".written.json"}  # the run's record of what it wrote
    assert oct((repo / "results" / "q1").stat().st_mode & 0o777) == "0o755"
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in (repo / "results" / "q1").iterdir())

    for mistake in ({"lr": "1000", "loss": '"ce"'},):  # diverges in epoch 1
        _set_q1(repo, **mistake)
        failed = subprocess.run(make, cwd=repo, capture_output=True, text=True)
        assert failed.returncode != 0 and "diverged at epoch 1" in failed.stderr, failed.stderr
        assert "Deleting file" not in failed.stderr + failed.stdout
        assert _result_bytes(repo) == good

    _set_q1(repo, lr="0.01", loss='"mse"', epochs="30")  # long enough to be stopped while training
    for stop in (signal.SIGINT, signal.SIGKILL):
        running, run = _start_training(repo)
        workers = _children(run)
        if stop == signal.SIGINT:
            os.killpg(running.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        else:
            os.kill(run, signal.SIGKILL)
        out, err = running.communicate(timeout=120)
        assert running.returncode != 0 and "Deleting file" not in out + err, err
        assert _result_bytes(repo) == good, stop
        for _ in range(200):  # the workers end with their run, killed or not
            if not any(Path(f"/proc/{w}").exists() for w in workers):
                break
            time.sleep(0.05)
        assert not any(Path(f"/proc/{w}").exists() for w in workers), stop

    _set_q1(repo, epochs="1")  # as at first: the same weights, byte for byte
    again = subprocess.run(make, cwd=repo, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert _result_bytes(repo)["q1_weights.pkl"] == good["q1_weights.pkl"]
    assert not list((repo / "results").glob(".q1.*")), "no staging folder is left"
