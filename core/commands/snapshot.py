"""``vfio-deck snapshot``: capture the files VFIO Deck reads, for a bug report."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.snapshot import write_snapshot
    from vfiodeck.core.text import safe, size_text

    root = HostRoot.open(args.root)
    summary = write_snapshot(root, args.output)
    where = "standard output" if args.output == "-" else safe(args.output)
    # With -o - the archive is on standard output: the summary goes to standard error.
    out = sys.stderr if args.output == "-" else sys.stdout
    print(f"wrote {where}: {summary.files} files, {size_text(summary.bytes_written)}", file=out)
    return 0
