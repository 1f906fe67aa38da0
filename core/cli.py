"""The command line: ``vfio-deck inspect`` and ``vfio-deck snapshot``, for scripting and bug reports.

Without a sub-command ``vfio-deck`` opens the window (see vfiodeck.gui.launcher); the options that
the window understands (--root, --demo, --connect) are parsed here too so ``--help`` lists them all.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys

from vfiodeck.core.errors import VfioDeckError

# Sub-command -> the module under vfiodeck.core.commands whose run(args) carries it out. A module
# is imported only when its command runs, so `inspect` pays for nothing it does not use.
COMMANDS = {
    "inspect": "inspect",
    "check": "check",
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

    check = sub.add_parser("check", help="the readiness checklist: what to fix before passthrough works")
    check.add_argument("--json", action="store_true", help="print {schema: 1, checks: [...]}")
    check.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS, help="directory or snapshot to read"
    )

    snapshot = sub.add_parser("snapshot", help="capture the files VFIO Deck reads, for a bug report")
    snapshot.add_argument(
        "-o",
        "--output",
        metavar="FILE.tar.gz",
        required=True,
        help="where to write the snapshot (.tar.gz, .tar.bz2, .tar.xz or .tar; - for standard output)",
    )
    snapshot.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS, help="capture this root, not /"
    )
    return parser


# Writing the output failed (``> /dev/full``, a full disk or quota, a vanished terminal). Files of a
# host root are read through readers that turn their errors into recorded problems.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def run(args: argparse.Namespace) -> int:
    """Run a sub-command. Errors are one line on stderr and exit status 2, never a traceback."""
    import logging  # here, not at the top: the window's start-up does not need it

    from vfiodeck.core.host.scratch import install_signal_cleanup
    from vfiodeck.core.text import safe, safe_text

    class _SafeFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return safe_text(super().format(record))

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter("%(levelname)s %(message)s"))
    install_signal_cleanup()
    module_name = COMMANDS.get(args.command)
    if module_name is None:
        print(f"vfio-deck: unknown command {safe(args.command)!r}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"vfiodeck.core.commands.{module_name}")
        code = int(module.run(args))
        sys.stdout.flush()  # a full disk or a closed pipe shows here, while we can still say so
        return code
    except VfioDeckError as exc:
        print(f"vfio-deck: {safe(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _discard_stdout()  # `inspect | head`: the reader has all it wanted; say nothing
        return 141  # as a shell reports a process ended by SIGPIPE
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
            raise
        _discard_stdout()
        print(f"vfio-deck: cannot write the output ({exc.strerror or exc})", file=sys.stderr)
        return 2


def _discard_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's last flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m vfiodeck.core.cli`` (no Qt needed)."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
