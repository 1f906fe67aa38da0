"""Readiness checks: firmware and kernel facts, each with evidence and a fix."""
