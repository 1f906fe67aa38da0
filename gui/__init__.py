"""VFIO Deck desktop interface (PySide6)."""

import os

# libvirt (>= 6.1) runs its default event loop on GLib's default main context, from its own
# thread (core/vm/events.py). Qt's GLib dispatcher iterates that same context on the GUI thread,
# and two threads iterating one context crash (a segfault in virEventRunDefaultImpl). Qt's own
# dispatcher avoids the sharing; this must be set before the QApplication exists.
os.environ.setdefault("QT_NO_GLIB", "1")
