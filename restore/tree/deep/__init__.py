"""Deep inspection: what the volume images of a recovery point hold (disk, partitions, file systems, Windows)."""

from __future__ import annotations

from restore.tree.deep.facts import DeepFacts
from restore.tree.deep.inspect import deep_inspect
from restore.tree.deep.reader import Limits

__all__ = ["DeepFacts", "Limits", "deep_inspect"]
