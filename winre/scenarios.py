"""What a restore is for and which loss it answers: the seed's recovery matrix, as types.

``winre.runbook`` re-exports these names (callers import them from there); they live here so that
``winre.wbadmin`` can use them without importing the runbook.
"""

from __future__ import annotations

from typing import Literal

Purpose = Literal["bmr", "systemstate"]
Scenario = Literal["os-damaged", "server-lost-data-intact", "server-lost-data-lost"]
