"""The project's plumbing, shared by derivations/, experiments/ and report/: the task list
(tasks), where files live and the build mode (paths), config.toml and its defaults (config,
defaults), each output's source files read off the imports (sources), what produced a results
file and whether it is stale (provenance), and the one command-line runner (cli).

May import: hw1 (the graders' code), the standard library (paths, tasks, config and sources are
read by the Makefile with the system Python); nothing of derivations/, experiments/ or report/.
"""
