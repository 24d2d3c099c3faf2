"""Helpers for the Flask 2FA Workbook.

The lessons import from here so that every notebook shows the real app code
(``show``), decodes QR codes the same way (``Phone``) and runs the same checks
as the project's own tests.

What the lessons import sits at the top: ``phone`` (the stand-in phone), ``qr``,
``checks`` (each exercise's check), ``listings`` (``show``, ``show_changes``),
``stages`` (the seven stage apps), ``app_loader`` (load an app from its folder),
``run_commands`` (how to start a stage app and where to open it), ``my_app``
(the student's own app), ``pages``, ``visitor``, ``cookies``, ``fixed_clock``,
``environment``. The rest has a subpackage per audience: ``grading`` (the
instructor's grader), ``authoring`` (release, diffs) and ``testing`` (real servers
and the pytest plugin, for the workbook's own tests).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "Flask 2FA Workbook"
