"""The theory answer's mathematics: SymPy derives and proves the softmax Jacobian, the chain rule
to the weights and the cross-entropy and MSE gradients (softmax.py, identities.py), checks each
against torch autograd at random points (verify.py), reads claimed formulas without evaluating
them (formula.py and its .lark grammars; formula_check.py proves or refutes them), and writes
results/derivations.json (build.py). `python -m derivations check` is the command line.

May import: pipeline (paths, provenance, cli); nothing of experiments/ or report/.
"""
