"""Command line of the derivations.

    python -m derivations build                                    # results/derivations.json
    python -m derivations check "y_i*(KroneckerDelta(i,k) - y_k)"   # exit 0 verified, 1 refuted
    python -m derivations check --wrt w --cases diagonal "y_i*(fp_i - y_i)"
"""
import argparse
import json
import sys

from derivations import build, claims
from pipeline import paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derivations")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="prove, verify and write results/derivations.json")
    check = sub.add_parser("check", help="check a claimed formula for d yhat_i / d z_k (or w_k)")
    check.add_argument("formula", help="in y_i, y_k, fp_i, fp_k, KroneckerDelta(i, k)")
    check.add_argument("--wrt", choices=("z", "w"), default="z",
                       help="z: logits; w: weight w_k of logit f_k (the draft's setting)")
    check.add_argument("--cases", choices=("all", "diagonal", "offdiagonal"), default="all")
    args = parser.parse_args(argv)

    if args.command == "build":
        payload = build.build()
        for r in payload["identities"]:
            print(f"derivations: {r['id']}: {r['status']} (max abs err {r['max_abs_err']:.1e})")
        print(f"derivations: wrote {paths.DERIVATIONS_JSON}")
        return 0
    try:
        result = claims.check(args.formula, args.wrt, args.cases)
    except claims.ClaimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{result['status']}: {args.formula}")
    if result["status"] == "refuted":
        print("counterexample: " + json.dumps(result["counterexample"]))
        return 1
    print(f"max |claim - autograd| = {result['max_abs_err']:.1e} over n = 2..6, "
          f"{result['points']} points each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
