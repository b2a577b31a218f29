"""Orchestration: the recovery-point model, the checks and copies, and the ``bmr`` command line (``restore.cli``)."""

__version__ = "0.1.0"
