"""``vfio-deck undo``: restore the files of a journal entry (the last applied one by default)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.hostchanges.apply import ApplyFailed, undo

    if not args.yes:
        print("vfio-deck: undo changes the host: add --yes", file=sys.stderr)
        return 2
    try:
        entry = undo(HostRoot.open(args.root), args.id)
    except ApplyFailed as exc:
        print(f"vfio-deck: {exc}", file=sys.stderr)
        return 1
    print(f"Undone {entry}")
    return 0
