"""For the workbook's own tests: real servers (servers) and the pytest plugin that reads check cells.

The lessons never import from here; what they share with the tests (pages, visitor, cookies,
fixed_clock, app_loader) stays at the top of the package.
"""
