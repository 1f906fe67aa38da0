"""``vfio-deck history``: the journal's entries, oldest first."""

from __future__ import annotations

import argparse
import json
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.hostchanges import journal

    root = HostRoot.open(args.root)
    entries = journal.entries(root.path)
    if args.json:
        json.dump({"schema": 1, "entries": [e.summary_dict() for e in entries]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not entries:
        print("No changes recorded.")
    for entry in entries:
        print(f"{entry.id}  {entry.state:<11} {entry.summary}")
        for record in entry.files:
            print(f"    {record.path}")
    return 0
