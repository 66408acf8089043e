"""What the benchmarks say about the machine they ran on, so their tables can be compared."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path


def host_lines() -> list[str]:
    """Markdown list lines: platform, CPU model and cores, Python."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()}" + (f" ({usable} usable)" if usable is not None else "")
    return [
        f"- platform: {platform.platform()}",
        f"- CPU: {cpu}, {cores} cores",
        f"- Python: {platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable})",
    ]


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
