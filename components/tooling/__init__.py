"""Developer tooling run from the command line (`python -m components <command>`): the offline
render, the pull-request render diff, and the generators of files derived from the configuration."""
