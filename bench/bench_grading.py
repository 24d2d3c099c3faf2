"""How long grading a class takes, against running the notebooks by hand.

    .venv/bin/python bench/bench_grading.py [--students 30] [--sample 8] [--jobs N] [--my-app STAGE]

1. Builds a class of ``--students`` copies of the complete solutions (every
   lesson in solutions/ that has exercises) in a temporary folder and times
   ``python -m workbook grade`` on it, as an instructor would run it.
2. Times the plain way: ``jupyter nbconvert --to notebook --execute``, one
   notebook after the other. That would take long for a whole class, so it
   runs a sample (``--sample`` notebooks, lessons in turn) and extrapolates to
   the class, and says so; ``--sample 0`` runs every notebook of the class.
3. Compares ways of starting a fresh interpreter per notebook, on one student's
   notebooks run one at a time: nbclient with a fresh ipykernel each, a fresh
   ``python -m workbook.grading.worker`` (IPython InteractiveShell) each, and
   the grader's choice, a worker forked from a pre-loaded fork server.
   (``--no-engines`` skips this part.)
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbook.checks import load_all  # noqa: E402
from workbook.stages import stage as stage_by_number  # noqa: E402


def lesson_notebooks():
    lessons = {e.lesson for e in load_all().values()}
    return [p for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) if int(p.name[:2]) in lessons]


def build_class(root, notebooks, students, my_app_stage=None, blank_every=0):
    """``students`` folders of solution notebooks; with ``my_app_stage``, each also hands in a my_app/.

    ``my_app_stage`` is a stage number, or "mixed": student k gets stage 1 + (k - 1) % 7, so every stage
    is in the class. With ``blank_every`` N, every Nth student hands in the released notebooks (all ⏳).
    """
    for number in range(1, students + 1):
        folder = root / f"student{number:02d}" / "notebooks"
        folder.mkdir(parents=True)
        blank = blank_every and number % blank_every == 0
        for notebook in notebooks:
            shutil.copy(ROOT / "notebooks" / notebook.name if blank else notebook, folder / notebook.name)
        if my_app_stage:
            stage = 1 + (number - 1) % 7 if my_app_stage == "mixed" else int(my_app_stage)
            shutil.copytree(stage_by_number(stage).folder, folder.parent / "my_app",
                            ignore=shutil.ignore_patterns("__pycache__", "instance", "CHANGES.diff"))
    return root


def time_grading(submissions, out, jobs, timeout):
    command = [sys.executable, "-m", "workbook", "grade", str(submissions), "--out", str(out),
               "--timeout", str(timeout)] + (["--jobs", str(jobs)] if jobs else [])
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"grading failed:\n{done.stderr[-2000:]}")
    return seconds


def time_nbconvert(paths, workdir):
    jupyter = Path(sys.executable).parent / "jupyter"
    times = []
    for path in paths:
        copy = workdir / path.name
        shutil.copy(path, copy)
        started = time.perf_counter()
        subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                        "--ExecutePreprocessor.timeout=300", "--output", str(workdir / f"out-{path.name}"),
                        str(copy)], cwd=workdir, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
    return times


def time_nbclient(paths, workdir):
    import nbclient
    import nbformat
    times = []
    saved = os.dup(2)  # the kernels' start-up warnings would bury the results
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            started = time.perf_counter()
            client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                                             resources={"metadata": {"path": str(workdir)}})
            client.execute()  # starts a fresh kernel, runs every cell, shuts the kernel down
            times.append(time.perf_counter() - started)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return times


def time_engine(engine, submissions):
    from workbook.grading import Grader
    grader = Grader(timeout=300, jobs=1, engine=engine)
    if engine == "fork":  # start the fork server first: its one-off start-up is not a per-notebook cost
        grader.grade_class(submissions)
    grades = grader.grade_class(submissions)
    return [nb.seconds for nb in grades.students[0].notebooks.values() if nb.notebook], grades


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--sample", type=int, default=None,
                        help="notebooks to run with nbconvert (default: one per lesson; 0: all of them)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--my-app", type=int, default=None, metavar="STAGE",
                        help="give every student a my_app/ copied from this stage (default: none)")
    parser.add_argument("--no-engines", action="store_true", help="skip the per-notebook engine comparison")
    args = parser.parse_args(argv)

    notebooks = lesson_notebooks()
    if not notebooks:
        sys.exit("no lesson notebooks with exercises in solutions/")
    print(f"{os.cpu_count()} CPUs; lessons: {', '.join(p.stem for p in notebooks)}")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as temp:
        temp = Path(temp)
        submissions = build_class(temp / "class", notebooks, args.students, args.my_app)
        (temp / "out").mkdir()
        count = args.students * len(notebooks)
        print(f"class: {args.students} students x {len(notebooks)} notebooks = {count} notebooks"
              + (f", each with a stage {args.my_app} my_app/" if args.my_app else ""))

        graded = time_grading(submissions, temp / "out" / "report.csv", args.jobs, args.timeout)
        print(f"python -m workbook grade (--jobs {args.jobs or os.cpu_count()}): {graded:.1f} s "
              f"for {args.students} students")

        sample = count if args.sample == 0 else (args.sample or len(notebooks))
        sample = min(sample, count)
        paths = [notebooks[i % len(notebooks)] for i in range(sample)]
        work = temp / "nbconvert"
        work.mkdir()
        times = time_nbconvert(paths, work)
        if sample == count:
            print(f"jupyter nbconvert --execute, one by one: {sum(times):.1f} s for all {count} notebooks")
        else:
            per_lesson = {}
            for path, seconds in zip(paths, times):
                per_lesson.setdefault(path.name, []).append(seconds)
            estimate = args.students * sum(sum(v) / len(v) for v in per_lesson.values())
            print(f"jupyter nbconvert --execute, one by one: about {estimate:.0f} s for the class "
                  f"(extrapolated: ran a sample of {sample} notebooks in {sum(times):.1f} s, "
                  f"{sum(times) / sample:.2f} s each, x {args.students} students)")
        print(f"speed-up: about {((estimate if sample != count else sum(times)) / graded):.1f}x")

        if not args.no_engines:
            one = temp / "one"
            build_class(one, notebooks, 1)
            print(f"\nper notebook, one student's {len(notebooks)} notebooks run one at a time:")
            kernel = time_nbclient(notebooks, work)
            print(f"  nbclient, fresh ipykernel each:          {sum(kernel) / len(kernel):.2f} s"
                  f"  (total {sum(kernel):.1f} s)")
            spawn, _ = time_engine("spawn", one)
            print(f"  fresh python + InteractiveShell each:    {sum(spawn) / len(spawn):.2f} s"
                  f"  (total {sum(spawn):.1f} s, run and graded)")
            fork, _ = time_engine("fork", one)
            print(f"  forked from the pre-loaded fork server:  {sum(fork) / len(fork):.2f} s"
                  f"  (total {sum(fork):.1f} s, run and graded; the grader's choice)")
            names = [p.stem for p in notebooks]
            print("  by lesson (nbclient / spawn / fork): " + ", ".join(
                f"{n} {k:.1f}/{s:.1f}/{f:.1f}" for n, k, s, f in zip(names, kernel, spawn, fork)))


if __name__ == "__main__":
    main()
