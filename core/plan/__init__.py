"""Passthrough planning: pure functions from host values and user choices to edits."""
