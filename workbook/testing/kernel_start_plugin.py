"""A pytest plugin that starts a notebook's kernel again when it dies while starting.

nbval starts one Jupyter kernel per notebook. On a busy machine that kernel can die before it
answers: jupyter_client chooses the kernel's five TCP ports by asking the system for free ones and
letting them go, and another process (a kernel of another test worker, a test's server) can take
one of them first; the kernel then stops with "Address already in use", and nbval reports "Kernel
died before replying to kernel_info" for every cell of the notebook (CI, Python 3.13, 2026-12-06:
31 cells of solutions/05, every other notebook passing).

So a start is tried up to ``ATTEMPTS`` times, and a start that needed more than one says so in
pytest's warnings summary. A kernel that dies every time is a real failure: it is reported with
what the kernel printed, which nbval sends to /dev/null.
Loaded by ``-p workbook.testing.kernel_start_plugin`` (see pyproject.toml); it does nothing in a
run without nbval (``-p no:nbval``).
"""
import tempfile
import warnings

ATTEMPTS = 3
SHOWN_CHARACTERS = 2000


class KernelStartWarning(UserWarning):
    """A notebook's kernel died while starting, and started on a later attempt."""


def start_retrying(start_new_kernel):
    """``start_new_kernel`` (nbval's), tried up to ``ATTEMPTS`` times while the kernel dies starting."""
    def start(*args, **kwargs):
        failures = []
        for attempt in range(1, ATTEMPTS + 1):
            # The kernel keeps its own copy of this file's descriptor for as long as it runs.
            with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
                try:
                    started = start_new_kernel(*args, **{**kwargs, "stderr": stderr})
                except RuntimeError as error:
                    stderr.seek(0)
                    failures.append((error, stderr.read()[-SHOWN_CHARACTERS:].strip()))
                    continue
            if failures:
                warnings.warn(KernelStartWarning(
                    f"the notebook's kernel died while starting ({failures[-1][0]}) and started on attempt "
                    f"{attempt} of {ATTEMPTS}; what it printed:\n{failures[-1][1] or '(nothing)'}"), stacklevel=2)
            return started
        error, printed = failures[-1]
        raise RuntimeError(f"{error}, on each of {ATTEMPTS} attempts; what the kernel printed the last time:\n"
                           f"{printed or '(nothing)'}") from error
    start.retries_a_dying_kernel = True
    return start


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("nbval"):
        return
    import nbval.kernel  # RunningKernel looks start_new_kernel up here each time it starts one
    if not getattr(nbval.kernel.start_new_kernel, "retries_a_dying_kernel", False):
        nbval.kernel.start_new_kernel = start_retrying(nbval.kernel.start_new_kernel)
