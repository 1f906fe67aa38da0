"""The command line: ``vfio-deck inspect`` and ``vfio-deck snapshot``, for scripting and bug reports.

Without a sub-command ``vfio-deck`` opens the window (see vfiodeck.gui.launcher); the options that
the window understands (--root, --demo, --connect) are parsed here too so ``--help`` lists them all.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from vfiodeck.core.errors import VfioDeckError

# Sub-command -> the module under vfiodeck.core.commands whose run(args) carries it out. A module
# is imported only when its command runs, so `inspect` pays for nothing it does not use.
COMMANDS = {
    "inspect": "inspect",
    "snapshot": "snapshot",
}


class _VersionAction(argparse.Action):
    """--version, with the version looked up only when asked (it costs ~40 ms at startup)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        help_text = str(kwargs.get("help"))
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help_text)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from vfiodeck.core import __version__

        print(f"vfio-deck {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vfio-deck",
        description="See, check, assign and run VFIO/IOMMU passthrough. "
        "Without a command, opens the VFIO Deck window.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is read and why it failed")
    parser.add_argument(
        "--root",
        metavar="PATH",
        help="read the host from a directory or a snapshot (.tar.gz) instead of this machine",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo host (window only)")
    parser.add_argument(
        "--connect",
        metavar="URI",
        action="append",
        help="libvirt connection URI (window only; repeatable; default qemu:///system)",
    )
    parser.add_argument(
        "--show-domain-console",
        metavar="NAME",
        help="open the VMs page and the console of VM NAME (window only)",
    )
    parser.add_argument(
        "--show-domain-editor", metavar="NAME", help="open the VMs page and edit VM NAME's XML (window only)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    inspect = sub.add_parser("inspect", help="print what the host can pass through, and why")
    inspect.add_argument("--json", action="store_true", help="print the machine-readable report (schema 1)")
    inspect.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS, help="directory or snapshot to read"
    )

    snapshot = sub.add_parser("snapshot", help="capture the files VFIO Deck reads, for a bug report")
    snapshot.add_argument(
        "-o", "--output", metavar="FILE.tar.gz", required=True, help="where to write the snapshot"
    )
    snapshot.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS, help="capture this root, not /"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run a sub-command. Errors are one line on stderr and exit status 2, never a traceback."""
    import logging  # here, not at the top: the window's start-up does not need it

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    module_name = COMMANDS.get(args.command)
    if module_name is None:
        print(f"vfio-deck: unknown command {args.command!r}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"vfiodeck.core.commands.{module_name}")
        return int(module.run(args))
    except VfioDeckError as exc:
        print(f"vfio-deck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m vfiodeck.core.cli`` (no Qt needed)."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
