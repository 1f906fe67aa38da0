"""``vfio-deck inspect``: what the host can pass through, and why (text or schema-1 JSON)."""

from __future__ import annotations

import argparse
import json
import sys


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.report import inspect_dict, text_report
    from vfiodeck.core.text import safe_text

    root = HostRoot.open(args.root)
    host = scan_host(root)
    if args.json:
        json.dump(inspect_dict(host, root), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(safe_text(text_report(host, root)))
    return 0
