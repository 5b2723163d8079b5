"""The label sets of the exposure rubric of Eloundou et al. (2023), shared by heads, aggregation and evaluation.

>>> EXPOSURE_CLASSES, AUTOMATION_CLASSES[-1]
(('E0', 'E1', 'E2'), 'T4')
"""

__all__ = ["EXPOSURE_CLASSES", "AUTOMATION_CLASSES"]

#: The exposure rubric: no exposure, direct exposure, exposure through software built on the model.
EXPOSURE_CLASSES = ("E0", "E1", "E2")
#: GPT-4's automation levels, T0 (none) to T4 (full automation).
AUTOMATION_CLASSES = ("T0", "T1", "T2", "T3", "T4")
