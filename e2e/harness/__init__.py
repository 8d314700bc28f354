"""What the real tier and the benchmarks run the package's output with: the upstream programs,
built (programs.py) and started on loopback (kube.py, controllers.py, flux.py, collector.py,
prometheus.py, ...), the servers of Flux's sources, the Pulumi engine, and the render helpers both
test tiers need (render.py, pod_security.py, alert_rules.py)."""
