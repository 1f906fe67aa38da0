"""The ``vfio-deck`` command. Sub-commands run without importing Qt; no sub-command opens the window."""

from __future__ import annotations

import sys

from vfiodeck.core import cli


def main(argv: list[str] | None = None) -> int:
    args = cli.build_parser().parse_args(argv)
    if args.command is not None:
        return int(cli.run(args))
    from vfiodeck.gui.app import run_app  # Qt is imported only when a window is wanted

    return int(run_app(args))


if __name__ == "__main__":
    sys.exit(main())
