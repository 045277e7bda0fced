"""`make names`: every value a template may print, by task, with what it means, its value in this
build and the expression to write; then the declared-claim factors and the claims calls.

    make names            # from results/ (the full build's values)
    QUICK=1 make names    # from results/quick/ (each config value also shows the full one)
"""
from __future__ import annotations

import re

from pipeline import cli, paths
from report.render import context as context_mod
from report.render.marks import TrackedFloat, TrackedInt, TrackedStr

# What a key means, by its last part (the first pattern that matches)
MEANINGS = [
    (r"test_acc_mean$", "mean test accuracy over seeds (a fraction: print with |pct(2))"),
    (r"train_acc_mean$", "mean train accuracy over seeds (|pct)"),
    (r"_std$", "sample standard deviation over seeds (None with one seed); pass as pct(2, std)"),
    (r"test_acc_over_epochs_mean$", "mean test accuracy over the epochs: the speed of convergence"),
    (r"epochs_to_target_mean$", "epochs to reach target_test_acc, mean over seeds (None: never)"),
    (r"saved_test_acc$", "test accuracy of the saved weights the graders load (print |pct(2): required)"),
    (r"saved_seed$", "seed of the saved weights"), (r"n_runs$", "runs averaged (one per seed)"),
    (r"test_acc_epoch1_mean$", "mean test accuracy after the first epoch"),
    (r"test_loss_mean$", "mean final test loss (nats)"), (r"train_loss_mean$", "mean final train loss"),
    (r"final_train_loss_mean$", "mean final training loss"), (r"wall_time_s_mean$", "seconds per run"),
    (r"config\.epochs$", "epochs of the main run (config.toml)"), (r"config\.lr$", "learning rate"),
    (r"config\.batch_size$", "mini-batch size"), (r"config\.hidden\[\d\]$", "units in a hidden layer"),
    (r"layers\[\d\]$", "units in a layer (input, hidden..., output)"), (r"n_train$", "training images"),
    (r"n_test$", "test images"), (r"seeds\|length$", "number of seeds"),
    (r"target_test_acc$", "the accuracy 'epochs to reach' counts to"), (r"ln2$", "ln 2, the coin's entropy"),
    (r"draft_lr$", "the draft's learning rate"), (r"draft_epochs$", "the draft's epochs"),
]
SKIPPED = re.compile(r"provenance|per_seed|\.seeds\[|epochs_to_target\[|weights_sha256|classes|variant$")


def rows(ctx: dict, task: str) -> list[tuple[str, str, str]]:
    from report.audit.suggest import _full_config  # the full run's settings, in a quick build
    full = {f"{task}.config.{key}": value for key, value in _full_config(ctx).get(task, {}).items()}
    out, stack = [], [ctx[task]]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
            for name, seeds in value.items():
                if name == "seeds" and hasattr(seeds, "_source"):
                    out.append((f"{seeds._source}|length", str(len(seeds)), "number of seeds"))
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, (TrackedFloat, TrackedInt, TrackedStr)) and not SKIPPED.search(value._source):
            meaning = next((m for p, m in MEANINGS if re.search(p, value._source)), "")
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            if value._source in full and full[value._source] != value:
                shown += f" (full: {full[value._source]})"
            out.append((value._source, shown, meaning))
    return out


def listing(ctx: dict) -> str:
    lines = []
    for task in ctx["tasks"]:
        lines += [f"{task} (templates/{task}.tex.j2)", f"  {'expression':58} {'value':>10}  meaning"]
        lines += [f"  ((( {e} ))){' ' * max(1, 50 - len(e))} {v:>10}  {m}" for e, v, m in rows(ctx, task)]
        lines.append("")
    claims = ctx["claims"]._claims
    lines.append('declared claims: ((* call claim("<factor>", "<a>", ">"|"<"|"~", "<b>") *))your words((* endcall *))')
    for factor, table in claims.q1["ablations"].items():
        lines.append(f"  {factor:12} {', '.join(table['variants'])}")
    lines += ["", "claims calls (worded from the numbers): " + ", ".join(
        f"claims.{n}()" for n in dir(claims) if not n.startswith("_") and callable(getattr(claims, n)))]
    return "\n".join(lines)


def _names_line(args) -> str:
    return listing(context_mod.build_context(None, args.mode.results))


if __name__ == "__main__":
    cli.run("report.render.names", __doc__, {"list": cli.Command(_names_line, "list every name a template may print")})
