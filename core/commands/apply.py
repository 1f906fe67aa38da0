"""``vfio-deck apply``: write the plan (one journal entry) and, on the live host, run its commands."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.commands.plan import build_plan, print_plan
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.hostchanges.apply import ApplyFailed, apply

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
    try:
        done = apply(HostRoot.open(args.root), plan, _summary(args))
    except ApplyFailed as exc:
        print(f"vfio-deck: {exc}", file=sys.stderr)
        return 1
    print(f"Journal entry {done.entry}" if done.entry else "Nothing written.")
    for command in done.not_run:
        print(f"Not run (not the live host): {' '.join(command)}")
    return 0


def _summary(args: argparse.Namespace) -> str:
    parts = (["--iommu"] if args.iommu else []) + [f"--bind {a}" for a in args.bind or ()]
    return "vfio-deck apply " + " ".join(parts + [f"--unbind {a}" for a in args.unbind or ()])
