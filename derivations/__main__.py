"""Command line of the derivations.

    python -m derivations build                                    # results/derivations.json
    python -m derivations check "y_i*(KroneckerDelta(i,k) - y_k)"   # exit 0 verified, 1 refuted
    python -m derivations check --wrt w --cases diagonal "y_i*(fp_i - y_i)"
    python -m derivations check --latex '\\hat{y}_i(\\delta_{ik}-\\hat{y}_k)'
"""
import argparse
import json
import sys

from derivations import formula
from pipeline import paths

EXIT_CODES = """\
exit status:
  0  verified: the formula equals autograd's derivative at every entry checked
  1  refuted: it differs somewhere; a counterexample is printed
  2  the input was not understood: one line on stderr says why"""

FORMULA_HELP = r"""FORMULA, the claimed entry, in one of two spellings:
  plain:    y_i, y_k (softmax outputs), fp_i, fp_k (f' of the logits w.r.t. their weight),
            KroneckerDelta(i, k), numbers, + - * / ** ( ), e.g. "y_i*(KroneckerDelta(i,k) - y_k)"
  --latex:  the report's notation: \hat{y}_i or \hat y_i, f'_k, \delta_{ik}, \frac{}{}, ^{},
            \cdot, \times, \left( \right), factors side by side, e.g.
            '\hat{y}_i(\delta_{ik}-\hat{y}_k)'"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # a usage mistake is input not understood too: exit 2, one line, no usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _arguments() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m derivations", epilog="check's " + EXIT_CODES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="prove, verify and write results/derivations.json")
    check = sub.add_parser("check", help="check a claimed formula for d yhat_i / d z_k (or w_k)",
                           description=FORMULA_HELP, epilog=EXIT_CODES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("formula", nargs="?", metavar="FORMULA",
                       help="the claimed d yhat_i / d z_k or / d w_k (a leading minus is fine)")
    check.add_argument("--latex", action="store_true", help="the formula is LaTeX")
    check.add_argument("--wrt", choices=("z", "w"), default="z",
                       help="z: logits; w: weight w_k of logit f_k (the draft's setting)")
    check.add_argument("--cases", choices=("all", "diagonal", "offdiagonal"), default="all",
                       help="entries checked: all, k = i only, or k != i only")
    return parser


def _parse_args(argv):
    parser = _arguments()
    args, rest = parser.parse_known_args(argv)
    # argparse takes "-y_i*y_k" for an unknown option: a lone leftover is the formula
    if args.command == "check" and args.formula is None and len(rest) == 1:
        args.formula, rest = rest[0], []
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "check" and args.formula is None:
        parser.error("check needs a formula")
    return args


def run_build() -> int:
    from derivations import build  # imports torch; see run_check
    payload = build.build()
    for r in payload["identities"]:
        print(f"derivations: {r['id']}: {r['status']} (max abs err {r['max_abs_err']:.1e})")
    print(f"derivations: wrote {paths.DERIVATIONS_JSON}")
    return 0


def run_check(args) -> int:
    try:
        expr = formula.parse(args.formula, latex=args.latex)
        # torch takes seconds to import: unreadable input is refused before it is loaded
        from derivations import claims
        result = claims.check(expr, args.wrt, args.cases)
    except formula.ClaimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{result['status']}: {' '.join(args.formula.split())}")  # one line, as it was read
    if result["status"] == "refuted":
        print("counterexample: " + json.dumps(result["counterexample"]))
        return 1
    print(f"max |claim - autograd| = {result['max_abs_err']:.1e} over n = 2..6, "
          f"{result['points']} points each")
    return 0


def main(argv=None) -> int:
    args = _parse_args(argv)
    return run_build() if args.command == "build" else run_check(args)


if __name__ == "__main__":
    sys.exit(main())
