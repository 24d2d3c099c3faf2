"""For the workbook's authors: make notebooks/ from solutions/ (release) and each stage's CHANGES.diff (diffs).

Run them as ``python -m workbook release`` and ``python -m workbook diffs``.
"""
