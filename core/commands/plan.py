"""``vfio-deck plan``: what apply would write and run, as diffs; writes nothing."""

from __future__ import annotations

import argparse
import json
import sys

from vfiodeck.core.hostchanges.model import Plan


def build_plan(args: argparse.Namespace) -> Plan:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.hostchanges.files import RootFiles
    from vfiodeck.core.hostchanges.planner import Request, make_plan

    root = HostRoot.open(args.root)
    request = Request(
        iommu=bool(args.iommu),
        bind=tuple(args.bind or ()),
        unbind=tuple(args.unbind or ()),
        at=args.at,
        confirm_host_use=tuple(getattr(args, "confirm_host_use", None) or ()),
        vfs=tuple(getattr(args, "vfs", None) or ()),
    )
    return make_plan(root.label, RootFiles(root.path), scan_host(root), request, live=root.live)


def print_plan(plan: Plan) -> None:
    out = sys.stdout
    evidence = ", ".join(plan.bootloader.evidence) or "nothing found"
    out.write(f"Boot loader: {plan.bootloader.kind} ({evidence})\n")
    if plan.initramfs is not None:
        out.write(f"Initramfs: {plan.initramfs.kind} ({', '.join(plan.initramfs.evidence)})\n")
    for note in plan.notes:
        out.write(f"Note: {note}\n")
    for change in plan.changes:
        out.write(f"\n{change.action.value} {change.path}\n{change.diff()}")
    for command in plan.commands:
        out.write(f"Run: {' '.join(command)}\n")
    for refusal in plan.refused:
        out.write(f"Refused{' ' + refusal.address if refusal.address else ''}: {refusal.reason}\n")
    if plan.empty and not plan.refused:
        out.write("Nothing to change.\n")
    elif plan.reboot and not plan.refused:
        out.write("A reboot is needed to finish.\n")


def run(args: argparse.Namespace) -> int:
    plan = build_plan(args)
    if args.json:
        json.dump(plan.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_plan(plan)
    return 1 if plan.refused else 0
