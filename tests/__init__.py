"""The fast suite: the package's own logic under Pulumi mocks, laid out like the package (config/,
builders/, resources/, tooling/), with properties across it (properties/), the examples and the
benchmarks' cheap parts. Its helpers are in helpers.py; what it shares with the real tier is in
e2e/harness/."""
