"""The real-runtime tier: upstream programs built from their Go modules, and tests that run them."""
