"""What the PromQL a stack ships reads: each builder names a metric through `metric` as it writes
an expression, and `recording` collects those names, so the gateway's scrape filter keeps exactly
what the alert rules and dashboards read (tests check the names against a PromQL parser)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from .. import constants as c

# The names being recorded, while a `recording` block runs.
_READ: ContextVar[set[str] | None] = ContextVar("read_metrics", default=None)


def metric(name: str) -> str:
    """A metric (or one series of a histogram) for an expression, noted as read."""
    read = _READ.get()
    if read is not None:
        read.add(name)
    return name


@contextmanager
def recording() -> Iterator[set[str]]:
    """The names `metric` gives out within the block."""
    read: set[str] = set()
    token = _READ.set(read)
    try:
        yield read
    finally:
        _READ.reset(token)


def scraped_series(name: str) -> list[str]:
    """A histogram's _bucket series is scraped together with its _count and _sum."""
    bucket = c.HISTOGRAM_SERIES_SUFFIXES[0]
    if not name.endswith(bucket):
        return [name]
    family = name.removesuffix(bucket)
    return [family + suffix for suffix in c.HISTOGRAM_SERIES_SUFFIXES]
