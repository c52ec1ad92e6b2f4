"""Benchmark results: timing helpers, one result row, and the BENCHMARKS.md writer."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of `values` (pct in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def measure(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds of `repeat` calls of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


@dataclass
class Result:
    """One line of the table: a measured path beside its floor and its target."""

    what: str
    backend: str
    size: str  # "10k", "100k", "1M" or a load description
    median: float  # ms
    p95: float  # ms
    floor_p95: float | None = None  # ms; the same-run floor's p95
    floor_what: str = ""
    target: str = ""
    passed: bool | None = None  # None: no target to judge
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.floor_p95 is None or self.floor_p95 <= 0:
            return None
        return self.p95 / self.floor_p95


def timed_result(
    what: str,
    backend: str,
    size: str,
    app_ms: list[float],
    floor_ms: list[float] | None,
    target: str,
    judge: Callable[[float, float | None], bool] | None,
    **kwargs: Any,
) -> Result:
    """A Result from raw timings; `judge(p95, floor_p95)` decides pass or miss."""
    p95 = percentile(app_ms, 95)
    floor_p95 = percentile(floor_ms, 95) if floor_ms else None
    return Result(
        what=what,
        backend=backend,
        size=size,
        median=statistics.median(app_ms),
        p95=p95,
        floor_p95=floor_p95,
        target=target,
        passed=None if judge is None else judge(p95, floor_p95),
        **kwargs,
    )


def within(factor: float) -> Callable[[float, float | None], bool]:
    """Judge: p95 is at most `factor` times the floor's p95."""
    return lambda p95, floor: floor is not None and p95 <= factor * floor


def at_most(ms: float) -> Callable[[float, float | None], bool]:
    """Judge: p95 is at most `ms` milliseconds."""
    return lambda p95, _floor: p95 <= ms


def machine() -> dict[str, str]:
    """Cores, RAM, CPU model and Python of this machine."""
    ram = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
            ram = f"{kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "ram": ram,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }


def _fmt(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def _verdict(result: Result) -> str:
    return {True: "pass", False: "**miss**", None: "—"}[result.passed]


def table(results: Iterable[Result]) -> str:
    """The results as one Markdown table."""
    lines = [
        "| what | db | data | median ms | p95 ms | floor p95 ms | ratio | target | result "
        "| notes |",
        "|---|---|---|--:|--:|--:|--:|---|---|---|",
    ]
    for r in results:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        floor = _fmt(r.floor_p95) + (f" ({r.floor_what})" if r.floor_what else "")
        lines.append(
            f"| {r.what} | {r.backend} | {r.size} | {_fmt(r.median)} | {_fmt(r.p95)} | "
            f"{floor} | {ratio} | {r.target} | {_verdict(r)} | {r.note} |"
        )
    return "\n".join(lines)


def document(
    results: list[Result],
    *,
    command: str,
    pg_version: str,
    seconds: float,
    sections: list[tuple[str, str]] | None = None,
    at: datetime | None = None,
) -> str:
    """The whole BENCHMARKS.md: how it was run, on what, the table, then extra sections."""
    info = machine()
    when = (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    misses = sum(1 for r in results if r.passed is False)
    judged = sum(1 for r in results if r.passed is not None)
    parts = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {when} in {seconds / 60:.1f} min. "
        "Do not edit by hand: run it again.",
        "",
        f"- machine: {info['cores']} cores ({info['cpu']}), {info['ram']} RAM, {info['os']}",
        f"- PostgreSQL: {pg_version or 'not run (set TEST_DATABASE_URL)'}; Python {info['python']}",
        "- every figure sits beside its floor, measured in the same run on the same data: "
        "for SQL paths the bare statement typed by hand (rolled back), for HTTP `/healthz` "
        "through the same server stack with the same load tool and concurrency. The ratio "
        "(p95 / floor p95) is the meaningful part on a shared machine.",
        f"- {judged - misses} of {judged} judged targets met.",
        "",
        table(results),
        "",
    ]
    for title, body in sections or []:
        parts += [f"## {title}", "", body.rstrip(), ""]
    return "\n".join(parts)
