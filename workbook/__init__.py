"""Helpers for the Flask 2FA Workbook.

The lessons import from here so that every notebook shows the real app code
(``show``), decodes QR codes the same way (``Phone``) and runs the same checks
as the project's own tests.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "Flask 2FA Workbook"
