"""The project's plumbing, shared by derivations/, experiments/ and report/: where files live
(paths), config.toml (config), what produced a results file (provenance), and the one command-line
runner (cli). It builds on hw1/, the graders' code, and on nothing else of the project."""
