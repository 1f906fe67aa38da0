"""Readiness checks: firmware and kernel facts, each with evidence and a fix."""

from vfiodeck.core.checks.model import Check, Status, check_to_dict
from vfiodeck.core.checks.run import CHECK_IDS, run_checks

__all__ = ["CHECK_IDS", "Check", "Status", "check_to_dict", "run_checks"]
