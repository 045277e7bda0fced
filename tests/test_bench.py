"""make bench: its floors' inputs, the CPU it records, the profile's parts and the table it prints.
No test here reads a time against a number: the machine may be shared."""
import dataclasses

import pytest
import torch

from experiments import bench
from pipeline.tasks import Q1

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 avx f16c avx2 avx512f avx512_bf16 aes

processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse
"""
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes sve\nCPU implementer\t: 0x41\n"


def test_the_cpu_record_names_the_model_and_its_vector_extensions_only(tmp_path):
    (tmp_path / "x86").write_text(X86)
    info = bench.cpu_info(tmp_path / "x86")
    assert info["cpu_model"] == "AMD EPYC (family 25, model 17)"
    assert info["cpu_vector_extensions"] == ["sse", "sse2", "ssse3", "fma", "sse4_1", "avx", "f16c",
                                             "avx2", "avx512f", "avx512_bf16"]
    assert info["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    (tmp_path / "arm").write_text(ARM)
    assert bench.cpu_info(tmp_path / "arm")["cpu_vector_extensions"] == ["asimd", "sve"]


def test_without_a_cpuinfo_file_the_record_still_has_a_model_and_no_extensions(tmp_path):
    info = bench.cpu_info(tmp_path / "missing")
    assert isinstance(info["cpu_model"], str) and info["cpu_vector_extensions"] == []


def test_the_data_floor_reads_every_row_once_in_order_and_the_compute_floor_none_past_a_batch():
    x = torch.arange(10 * 3, dtype=torch.float32).view(10, 3)
    copied = [rows.clone() for rows in bench.floor_inputs(x, 4, bench.COPIED)]
    assert [len(r) for r in copied] == [4, 4, 2] and torch.equal(torch.cat(copied), x)
    in_place = list(bench.floor_inputs(x, 4, bench.IN_PLACE))
    assert torch.equal(torch.cat(in_place), x) and all(r.data_ptr() >= x.data_ptr() for r in in_place)
    cached = list(bench.floor_inputs(x, 4, bench.CACHED))
    assert [len(r) for r in cached] == [4, 4, 2] and all(torch.equal(r, x[:len(r)]) for r in cached)
    # the copies land in one batch buffer, as a gather's batch would, not in views of x
    buffers = {r.data_ptr() for r in bench.floor_inputs(x, 4, bench.COPIED)}
    assert len(buffers) == 1 and x.data_ptr() not in buffers


def _tiny(n=96):
    gen = torch.Generator().manual_seed(0)
    cfg = dataclasses.replace(Q1(), hidden=[8, 4], batch_size=16)
    data = {"x_train": torch.randn(n, 784, generator=gen), "y_train": torch.randint(0, 10, (n,), generator=gen)}
    return cfg, data, torch.randperm(n, generator=gen)


@pytest.mark.parametrize("source", [bench.CACHED, bench.COPIED, bench.IN_PLACE])
def test_every_floor_runs_on_a_ragged_last_batch(source):
    cfg, data, _ = _tiny(50)
    bench.matmul_floor(cfg, data["x_train"], 16, source=source)


def test_the_profile_splits_the_epoch_into_its_four_parts_without_printing(capfd):
    cfg, data, order = _tiny()
    parts = bench.epoch_breakdown(cfg, data, order, epoch_s=100.0)
    assert list(parts) == ["gather_s", "matmuls_s", "elementwise_s", "python_s"]
    assert parts["gather_s"] > 0 and parts["matmuls_s"] > 0 and parts["elementwise_s"] > 0
    assert parts["python_s"] == pytest.approx(100.0 - sum(v for k, v in parts.items() if k != "python_s"))
    assert bench.epoch_breakdown(cfg, data, order, epoch_s=0.0)["python_s"] == 0.0  # never negative
    out, err = capfd.readouterr()
    assert out == "" and err == "", "the profiler's own lines stay off the terminal"


def _result(**changes):
    r = {"scratch_epoch_s": 0.6, "matmul_floor_epoch_s": 0.45, "data_floor_epoch_s": 0.5,
         "eval_epoch_s": 0.06, "eval_matmul_floor_s": 0.05, "torch_nn_epoch_s": 1.5,
         "dataloader_epoch_s": 6.0, "ratio_scratch_vs_matmul_floor": 0.6 / 0.45,
         "ratio_scratch_vs_data_floor": 1.2, "ratio_eval_vs_epoch": 0.1,
         "ratio_eval_matmul_floor_vs_epoch": 0.083, "ratio_scratch_vs_torch_nn": 0.4,
         "ratio_scratch_vs_dataloader": 0.1}
    return {**r, **changes}


def test_the_budget_of_1_3_is_held_against_the_data_floor_and_the_compute_floor_informs():
    lines = bench._table(_result())
    data_floor = next(line for line in lines if line.startswith("data floor"))
    compute_floor = next(line for line in lines if line.startswith("compute floor"))
    assert "1.20" in data_floor and "budget <= 1.3)" in data_floor
    assert "1.33" in compute_floor and "information only" in compute_floor
    over = next(line for line in bench._table(_result(ratio_scratch_vs_data_floor=1.4))
                if line.startswith("data floor"))
    assert "budget <= 1.3: OVER" in over


def test_the_breakdown_line_gives_each_part_in_seconds_and_share_of_the_epoch():
    r = _result(breakdown={"gather_s": 0.03, "matmuls_s": 0.36, "elementwise_s": 0.12, "python_s": 0.09})
    assert bench._breakdown_line(r) == ("where the scratch epoch goes (torch profile): gather 0.030 s (5%), "
                                        "matrix products 0.360 s (60%), elementwise 0.120 s (20%), "
                                        "Python and the rest 0.090 s (15%)")



def test_the_grid_is_measured_both_ways_against_the_floor_of_its_arithmetic():
    seconds = {"matmul_floor": 0.4, "eval_matmul_floor": 0.1, "grid_one_at_a_time": 5.0,
               "grid_together": 2.5}
    grid = bench.grid_throughput(seconds, 5, 60_000)
    assert grid["grid_floor_epoch_s"] == pytest.approx(2.5)  # 5 seeds of (0.4 + 0.1) s
    assert grid["grid_one_at_a_time_images_per_s"] == pytest.approx(60_000)
    assert grid["grid_together_images_per_s"] == pytest.approx(120_000)
    assert grid["ratio_grid_one_at_a_time_vs_floor"] == pytest.approx(2.0)
    assert grid["ratio_grid_together_vs_floor"] == pytest.approx(1.0)
    assert grid["ratio_grid_together_speedup"] == pytest.approx(2.0)
    lines = bench._grid_lines(grid)
    assert lines[0] == "grid epoch of 5 seeds (training and per-epoch evaluation):"
    assert "60,000 images/s   2.00 x the floor" in lines[1] and lines[1].lstrip().startswith("one at a time")
    assert "120,000 images/s   1.00 x the floor" in lines[2] and lines[2].lstrip().startswith("together")
    assert lines[-1].endswith("together / one at a time: 2.00 x the images per second")


def test_both_ways_of_the_grid_train_and_evaluate_the_same_networks(monkeypatch):
    cfg, data, _ = _tiny()
    cfg = dataclasses.replace(cfg, hidden=[16, 8])  # every slice 64-byte aligned (hw1.task1.stacks)
    gen = torch.Generator().manual_seed(1)
    orders = torch.stack([torch.randperm(96, generator=gen) for _ in range(3)])
    evaluated = {True: [], False: []}
    for together in evaluated:
        monkeypatch.setattr(bench, "eval_epoch", lambda cfg, data, params: evaluated[together].append(params))
        bench.grid_epoch(cfg, data, orders, together)
    assert len(evaluated[True]) == 3
    for stacked, alone in zip(evaluated[True], evaluated[False]):  # aligned: bit for bit
        assert all(torch.equal(stacked[k], alone[k]) for k in alone)
