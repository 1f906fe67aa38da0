"""The ``vfio-deck`` command. Sub-commands run without importing Qt; no sub-command opens the window."""

from __future__ import annotations

import os
import sys

from vfiodeck.core import cli

NO_DISPLAY = (
    "vfio-deck: no display: run under a desktop session, "
    "or add --demo with QT_QPA_PLATFORM=offscreen (or run it with xvfb-run)"
)


def display_missing(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when Qt would find no screen to open: no X or Wayland display named and no other
    platform chosen. Qt itself aborts there (exit 134) with a misleading hint about xcb-cursor."""
    if env.get("QT_QPA_PLATFORM"):
        return False
    if env.get("WAYLAND_DISPLAY"):
        return False
    display = env.get("DISPLAY", "")
    if not display:
        return True
    # A local display ":N" has a socket; a remote one (host:N, ssh -X) cannot be checked cheaply.
    if display.startswith(":"):
        number = display[1:].split(".", 1)[0]
        return not os.path.exists(f"/tmp/.X11-unix/X{number}")
    return False


def main(argv: list[str] | None = None) -> int:
    args = cli.build_parser().parse_args(argv)
    if args.command is not None:
        return int(cli.run(args))
    if display_missing():
        sys.stderr.write(NO_DISPLAY + "\n")
        return 2
    from vfiodeck.gui.app import run_app  # Qt is imported only when a window is wanted

    return int(run_app(args))


if __name__ == "__main__":
    sys.exit(main())
