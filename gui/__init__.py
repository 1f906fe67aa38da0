"""VFIO Deck desktop interface (PySide6)."""
