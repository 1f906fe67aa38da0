"""hugepages: memory reserved in huge pages for VM RAM (optional, but it helps latency)."""

from __future__ import annotations

from vfiodeck.core.checks.context import CheckContext
from vfiodeck.core.checks.kparam import add_param
from vfiodeck.core.checks.model import Check, Status
from vfiodeck.core.text import kib_text

MEMINFO = "proc/meminfo"
TITLE = "Hugepages reserved for VM memory"
PARAMS = "default_hugepagesz=1G hugepagesz=1G hugepages=16"
FIX = (
    f"Optional: reserve huge pages for the VM's RAM, e.g. `{PARAMS}` on the kernel command line "
    "(16 GiB), or vm.nr_hugepages for 2 MiB pages, and <memoryBacking><hugepages/></memoryBacking> "
    "in the domain XML."
)


def meminfo_hugepages(text: str) -> tuple[int | None, int | None]:
    """(HugePages_Total, Hugepagesize in kB) from /proc/meminfo text."""
    total = size = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        words = value.split()
        if not words or not (words[0].isascii() and words[0].isdigit()):
            continue
        if key == "HugePages_Total":
            total = int(words[0])
        elif key == "Hugepagesize":
            size = int(words[0])
    return total, size


def check_hugepages(ctx: CheckContext) -> Check:
    host, reader = ctx.host, ctx.reader
    parts: list[str] = []
    reserved_kib = 0
    nodes = [n for n in host.topology.numa_nodes if n.hugepages]
    for node in nodes:
        pages = [(size, count) for size, count in node.hugepages if count]
        reserved_kib += sum(size * count for size, count in pages)
        listed = ", ".join(f"{count} x {size} kB" for size, count in pages) or "none"
        parts.append(f"node{node.id}: {listed}")
    text = reader.text(MEMINFO)
    total, size = meminfo_hugepages(text) if text is not None else (None, None)
    if total is not None:
        parts.append(f"{MEMINFO}: HugePages_Total {total}" + (f" of {size} kB" if size else ""))
        if not nodes and size:
            reserved_kib = total * size
    if not parts:
        return Check("hugepages", Status.UNKNOWN, TITLE, f"{MEMINFO}: not captured", "")
    evidence = "; ".join(parts[:3]) + ("; ..." if len(parts) > 3 else "")
    if reserved_kib or total:
        return Check("hugepages", Status.PASS, TITLE, f"{kib_text(reserved_kib)} reserved ({evidence})", "")
    param = add_param(reader, PARAMS)
    fix = f"{FIX} {param.text}"
    return Check("hugepages", Status.WARN, TITLE, f"none reserved ({evidence})", fix, param.command)
