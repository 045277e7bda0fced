"""`python -m pipeline MODULE [ARGS...]`: how the Makefile starts each step (see cli.launch).

    python -m pipeline experiments.q1 run   # as `python -m experiments.q1 run`, with Ctrl-C during
                                            # its imports ending in one line, not a traceback
"""
import sys

from pipeline import cli

sys.exit(cli.launch(sys.argv[1:]))
