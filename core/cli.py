"""The command line: ``vfio-deck inspect``, ``snapshot``, and the host changes (``plan``, ``apply``,
``undo``, ``history``), for scripting and bug reports.

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
    "plan": "plan",
    "apply": "apply",
    "undo": "undo",
    "history": "history",
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
    parser.add_argument(
        "--show-domain-performance",
        metavar="NAME",
        help="open the VMs page on the live graphs of VM NAME (window only)",
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
    _add_host_change_parsers(sub)
    return parser


def _add_host_change_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    root_help = "the host root to change (a directory; default /, the running host)"
    for name, help_text in (
        ("plan", "show what apply would write and run, as diffs (writes nothing)"),
        ("apply", "make the host changes (one journal entry; commands run only on /)"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--root", metavar="PATH", default=argparse.SUPPRESS, help=root_help)
        if name == "plan":
            cmd.add_argument("--json", action="store_true", help="print the plan as JSON (schema 1)")
        cmd.add_argument("--iommu", action="store_true", help="add the kernel parameters passthrough needs")
        cmd.add_argument("--bind", metavar="ADDR", action="append", help="bind this candidate to vfio-pci")
        cmd.add_argument("--unbind", metavar="ADDR", action="append", help="give this candidate back")
        cmd.add_argument(
            "--at", choices=("boot", "now"), default="boot", help="at every boot, or now (/ only)"
        )
        cmd.add_argument(
            "--confirm-host-use",
            metavar="ADDR",
            action="append",
            help="bind this candidate although the running host uses it (its disk, display, network)",
        )
        cmd.add_argument(
            "--vfs", metavar="ADDR=N", action="append", help="create N SR-IOV virtual functions on ADDR"
        )
        if name == "apply":
            cmd.add_argument("--yes", action="store_true", help="really change the host")
    undo = sub.add_parser("undo", help="restore the files of a journal entry (the last one by default)")
    undo.add_argument("--root", metavar="PATH", default=argparse.SUPPRESS, help=root_help)
    undo.add_argument("id", nargs="?", metavar="ID", help="journal entry id (see history)")
    undo.add_argument("--yes", action="store_true", help="really change the host")
    history = sub.add_parser("history", help="list the recorded host changes")
    history.add_argument("--root", metavar="PATH", default=argparse.SUPPRESS, help=root_help)
    history.add_argument("--json", action="store_true", help="print the entries as JSON")


# Writing the output failed (``> /dev/full``, a full disk or quota, a vanished terminal). Files of a
# host root are read through readers that turn their errors into recorded problems.
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def run(args: argparse.Namespace) -> int:
    """Run a sub-command. Errors are one line on stderr and exit status 2, never a traceback."""
    from vfiodeck.core.text import safe

    if args.verbose or "logging" in sys.modules:
        # Otherwise never imported: a plain run pays nothing for logging (~5 ms with traceback
        # and threading), and core modules log only when it is loaded. The scratch folders'
        # signal cleanup is installed by the first unpack (scratch.new_folder), not here.
        _configure_logging(args.verbose)
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


def _configure_logging(verbose: bool) -> None:
    import logging

    from vfiodeck.core.text import safe_text

    class _SafeFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return safe_text(super().format(record))

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter("%(levelname)s %(message)s"))


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
