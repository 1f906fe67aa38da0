"""``vfio-deck check``: the readiness checklist alone (text, or ``{schema: 1, checks: [...]}``).

Exit status 0 when nothing fails, 1 when a check fails (unknowns never fail), 2 on a bad root.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def check_json(readiness: Any) -> dict[str, Any]:
    from vfiodeck.core.checks.model import check_to_dict

    return {
        "schema": 1,
        "summary": readiness.summary,
        "root_note": readiness.root_note,
        "snapshot_note": readiness.snapshot_note,
        "checks": [check_to_dict(check) for check in readiness.checks],
        "devices": [
            {
                "address": row.address,
                "name": row.name,
                "kind": row.kind,
                "status": row.status.value,
                "items": [{"aspect": i.aspect, "status": i.status.value, "text": i.text} for i in row.items],
            }
            for row in readiness.devices
        ],
    }


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.checks.readiness import assess
    from vfiodeck.core.checks.text import checklist_text
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.host.sysfs import Reader
    from vfiodeck.core.text import safe_text

    root = HostRoot.open(args.root)
    host = scan_host(root)
    readiness = assess(host, Reader(root), host.candidates)
    if args.json:
        json.dump(check_json(readiness), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(safe_text(checklist_text(readiness, host.source)))
    return 1 if readiness.failed else 0
