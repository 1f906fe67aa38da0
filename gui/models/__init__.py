"""Qt item models over the core values."""
