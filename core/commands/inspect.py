"""``vfio-deck inspect``: what the host can pass through, and why (text or schema-1 JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def json_text(report: dict[str, Any], pretty: bool) -> str:
    """Indented for a person at a terminal; compact for a pipe or a file, where ``json.dumps``
    without indent runs in C (the indented form goes through the pure-Python encoder, which
    took 215 ms at 5000 devices)."""
    if pretty:
        return json.dumps(report, indent=2)
    return json.dumps(report, separators=(",", ":"))


def run(args: argparse.Namespace) -> int:
    from vfiodeck.core.host.root import HostRoot
    from vfiodeck.core.host.scan import scan_host
    from vfiodeck.core.report import inspect_dict, text_report
    from vfiodeck.core.text import safe_text

    root = HostRoot.open(args.root)
    host = scan_host(root)
    if args.json:
        sys.stdout.write(json_text(inspect_dict(host, root), sys.stdout.isatty()) + "\n")
    else:
        sys.stdout.write(safe_text(text_report(host, root)))
    return 0
