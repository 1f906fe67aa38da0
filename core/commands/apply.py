"""``vfio-deck apply``: write the plan (one journal entry) and, on the live host, run its commands."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from vfiodeck.core.hostchanges.model import Plan


def _helper(argv: list[str]) -> int:
    return subprocess.run(["pkexec", "vfio-deck-helper", *argv], check=False).returncode


def _apply_live(plan: Plan) -> int:
    if plan.changes:
        fd, path = tempfile.mkstemp(prefix="vfio-deck-plan-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(plan.to_dict(), handle)
            status = _helper(["apply", path])
        finally:
            os.unlink(path)
        if status != 0:
            return 1
    for command in plan.commands:
        argv = list(command[1:]) if command[0] == "vfio-deck-helper" else ["run", *command]
        if _helper(argv) != 0:
            print(f"vfio-deck: {' '.join(command)} failed", file=sys.stderr)
            return 1
    return 0


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.commands.plan import build_plan, print_plan
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.hostchanges import journal

    if not args.yes:
        print(
            "vfio-deck: apply changes the host: look at `vfio-deck plan` first, then add --yes",
            file=sys.stderr,
        )
        return 2
    plan = build_plan(args)
    print_plan(plan)
    if plan.refused:
        return 1
    root = HostRoot.open(args.root)
    if root.live:
        return _apply_live(plan)
    try:
        entry = journal.apply_plan(root.path, plan, _summary(args))
    except journal.JournalError as exc:
        print(f"vfio-deck: {exc}", file=sys.stderr)
        return 1
    print(f"Journal entry {entry.id}" if entry else "Nothing written.")
    for command in plan.commands:
        print(f"Not run (not the live host): {' '.join(command)}")
    return 0


def _summary(args: argparse.Namespace) -> str:
    parts = (["--iommu"] if args.iommu else []) + [f"--bind {a}" for a in args.bind or ()]
    return "vfio-deck apply " + " ".join(parts + [f"--unbind {a}" for a in args.unbind or ()])
