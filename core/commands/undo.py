"""``vfio-deck undo``: restore the files of a journal entry (the last applied one by default)."""

from __future__ import annotations

import argparse
import subprocess
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.hostchanges import journal

    if not args.yes:
        print("vfio-deck: undo changes the host: add --yes", file=sys.stderr)
        return 2
    root = HostRoot.open(args.root)
    if root.live:
        argv = ["pkexec", "vfio-deck-helper", "undo", *([args.id] if args.id else [])]
        return 0 if subprocess.run(argv, check=False).returncode == 0 else 1
    try:
        entry = journal.undo(root.path, args.id)
    except journal.JournalError as exc:
        print(f"vfio-deck: {exc}", file=sys.stderr)
        return 1
    print(f"Undone {entry.id}: {', '.join(f.path for f in entry.files)}")
    return 0
