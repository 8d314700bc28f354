"""The dashboards' PromQL as Prometheus reads it: `promtool check rules` (Debian package
`prometheus`) accepts every panel query of both dashboards, each as a recording rule. The panels'
shape is unit-tested in tests/builders/test_dashboards.py.

    .venv/bin/python -m pytest -q e2e/test_dashboards_promtool.py
"""

from components import constants as c
from components.builders import dashboards
from e2e.harness.promtool import check_rules


def test_promtool_parses_every_panel_query(tmp_path):
    specs = dashboards.dashboard_specs(list(c.FLUX_DEFAULT_CONTROLLERS), c.PROMETHEUS_CLUSTER_LABEL)
    queries = [query for spec in specs.values() for query in dashboards.dashboard_queries(spec)]
    recorded = [{"record": f"dashboard:query_{index}", "expr": query} for index, query in enumerate(queries)]
    check_rules([{"name": "dashboards", "rules": recorded}], tmp_path)
