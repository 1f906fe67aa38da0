"""``vfio-deck snapshot``: capture the files VFIO Deck reads, for a bug report."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.snapshot import write_snapshot
    from vfiodeck.core.text import size_text

    root = HostRoot.open(args.root)
    summary = write_snapshot(root, Path(args.output))
    print(f"wrote {args.output}: {summary.files} files, {size_text(summary.bytes_written)}")
    return 0
