"""Test infrastructure: real servers (servers), the pytest plugin that reads check cells
(notebook_checks_plugin), the one that starts a notebook's kernel again when it dies while starting
(kernel_start_plugin), and the one that records each behaviour test's outcome (stage_outcomes:
a student's ``check_my_app`` and the grader both read a stage from it, never from an exit code).

The lessons import nothing from here but, through my_app, stage_outcomes; what they share with the
tests (pages, visitor, cookies, fixed_clock, app_loader) stays at the top of the package.
"""
