"""Command line of the derivations.

    python -m derivations build                                    # results/derivations.json
    python -m derivations check "y_i*(KroneckerDelta(i,k) - y_k)"   # exit 0 proven, 1 refuted
    python -m derivations check --wrt w --cases diagonal "y_i*(fp_i - y_i)"
    python -m derivations check --latex '\\hat{y}_i(\\delta_{ik}-\\hat{y}_k)'
    python -m derivations check --chain '\\frac{\\partial \\hat{y}_i}{\\partial z_k} = ... = ...'
"""
import json
import sys

from derivations import formula
from pipeline import cli, paths

EXIT_CODES = """\
exit status:
  0  verified: SymPy proves the formula equal to the derivative, for n = 2..6 and
     every entry checked (autograd agrees numerically)
  1  refuted: it differs somewhere, by however little; the difference and a
     counterexample from autograd are printed
  2  the input was not understood: one line on stderr says why"""

FORMULA_HELP = r"""FORMULA, the claimed entry, in one of two spellings:
  plain:    y_i, y_k (softmax outputs), fp_i, fp_k (f' of the logits w.r.t. their weight),
            KroneckerDelta(i, k), numbers, + - * / ** ( ), e.g. "y_i*(KroneckerDelta(i,k) - y_k)"
  --chain:  a whole derivation in LaTeX, A = B = C, e.g. '\frac{\partial \hat{y}_i}{\partial z_k}
            = \frac{\partial}{\partial z_k} \frac{e^{z_i}}{\sum_j e^{z_j}} = \hat{y}_i (\delta_{ik} - \hat{y}_k)'
            (the language: docs/audit.md, "Typed derivations")
  --latex:  the report's notation: \hat{y}_i or \hat y_i, f'_k, \delta_{ik}, \frac{}{}, ^{},
            \cdot, \times, \left( \right), factors side by side, e.g.
            '\hat{y}_i(\delta_{ik}-\hat{y}_k)'"""


def _check_arguments(check) -> None:
    check.add_argument("formula", nargs="?", metavar="FORMULA",
                       help="the claimed d yhat_i / d z_k or / d w_k (a leading minus is fine)")
    check.add_argument("--latex", action="store_true", help="the formula is LaTeX")
    check.add_argument("--chain", action="store_true",
                       help="FORMULA is a derivation A = B = C in LaTeX, checked step by step "
                            "(without its left side, or starting with =, the left side is the "
                            "entry d yhat_i / d z_k, or d w_k with --wrt w)")
    check.add_argument("--wrt", choices=("z", "w"), default="z",
                       help="z: logits; w: weight w_k of logit f_k (the draft's setting)")
    check.add_argument("--cases", choices=("all", "diagonal", "offdiagonal"), default="all",
                       help="entries checked: all, k = i only, or k != i only")


def run_build(args) -> str:
    from derivations import build  # imports torch; see run_check
    payload = build.build(args.mode.derivations_json, args.mode.quick)
    lines = [f"derivations: {r['id']}: {r['status']} (max abs err {r['max_abs_err']:.1e})"
             for r in payload["identities"]]
    return "\n".join([*lines, f"derivations: wrote {paths.relative(args.mode.derivations_json)}"])


def run_check(args) -> tuple[str, int]:
    """0 verified, 1 refuted; a formula.ClaimError (exit 2) when the input is not understood."""
    if args.chain:
        from derivations import chain_cli
        return chain_cli.run(args.formula, args.wrt, args.cases)
    expr = formula.parse(args.formula, latex=args.latex)
    # torch takes seconds to import: unreadable input is refused before it is loaded
    from derivations import formula_check
    result = formula_check.check(expr, args.wrt, args.cases)
    line = f"{result['status']}: {' '.join(args.formula.split())}"  # one line, as it was read
    n_values = f"n = {result['n_values'][0]}..{result['n_values'][-1]}"
    entries = {"all": "every entry", "diagonal": "every entry with k = i",
               "offdiagonal": "every entry with k != i"}[args.cases]
    if result["status"] == "refuted":
        at = result["difference_at"]
        return (f"{line}\nclaim - derivative = {result['difference']} at n = {at['n']}, "
                f"i = {at['i']}, k = {at['k']}\n"
                f"counterexample: {json.dumps(result['counterexample'])}"), 1
    return (f"{line}\nproven: claim - derivative = 0 (SymPy, exact) for {n_values}, {entries}\n"
            f"max |claim - autograd| = {result['max_abs_err']:.1e} over {n_values}, "
            f"{result['points']} points each"), 0


COMMANDS = {
    "build": cli.Command(run_build, "prove, verify and write results/derivations.json"),
    "check": cli.Command(run_check, "check a claimed formula for d yhat_i / d z_k (or w_k)",
                         _check_arguments, epilog=FORMULA_HELP + "\n\n" + EXIT_CODES,
                         dash_positional="formula"),
}


def main(argv=None) -> int:
    return cli.main("derivations", __doc__ + "\ncheck's " + EXIT_CODES, COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
