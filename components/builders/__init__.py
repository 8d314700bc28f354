"""Pure builders: validated settings in, plain Python data out (Kubernetes objects, collector
configs, chart values, alert rules, dashboards, OTTL). No Pulumi here, so each is tested directly."""
