"""How long grading a class takes, against running the notebooks by hand; and that the marks hold.

    .venv/bin/python bench/bench_grading.py [--students 30] [--my-app mixed] [--sample 8] [--jobs N]
    .venv/bin/python bench/bench_grading.py --students 30 300     # classes of 30 and 300, in the same run
    .venv/bin/python bench/bench_grading.py --beside main           # and main's grader on the same class, after

1. Builds a class of ``--students`` in a temporary folder: every student hands in the
   complete solutions (every lesson in solutions/ that has exercises), except every 10th,
   who hands in the released notebooks untouched (all ⏳); each hands in a my_app/ copied
   from a stage app, stage 1 + (k - 1) % 7 for student k (``--my-app mixed``, the default),
   or all from one stage (``--my-app 5``), or none (``--my-app none``).
2. Times ``python -m workbook grade`` on it, as an instructor would run it, and
   the CPU seconds it used (what an idle machine's cores would have to do), and the largest
   process's peak memory (``ru_maxrss`` of the grader and every process it waited for). With
   several ``--students``, each class in turn, and a table of the figures per class and per student.
3. Checks the marks against bench/baseline_report.csv: a grader's report written with
   ``--write-baseline`` (first at 4384d99, before the speed work of issue 11; again on 2026-12-05,
   when lesson 08, the questions and the judge of issue 20 had come), on one student of each kind
   in this class (student01-07, 10, 20, 30 of the default class; each student is compared with
   the baseline student who handed in the same files).
4. Times the plain way: ``jupyter nbconvert --to notebook --execute``, one
   notebook after the other, on a sample (``--sample`` notebooks, lessons in turn),
   extrapolated to the class, and says so; ``--sample 0`` runs every notebook of the class.
5. With ``--engines``: compares ways of starting a fresh interpreter per notebook, on one
   student's notebooks run one at a time: nbclient with a fresh ipykernel each, a fresh
   ``python -m workbook.grading.worker`` (IPython InteractiveShell) each, and the grader's
   choice, a worker forked from a pre-loaded fork server.
"""
import argparse
import csv
import os
import re
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


# Runs the grader in a process of its own (so that each class's figures are its own) and prints, last:
# the peak of the memory the grader's whole process tree held (the sum of each process's PSS, shared
# pages counted once, sampled every half second), and the largest peak of one process (ru_maxrss).
PEAK_MEMORY = """
import os, resource, subprocess, sys, time

def tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found

def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
    except OSError:
        return 0

grader = subprocess.Popen(sys.argv[1:])
peak = 0
while grader.poll() is None:
    peak = max(peak, sum(pss_kib(pid) for pid in tree(grader.pid)))
    time.sleep(0.5)
print("peak-tree-kib", peak, "peak-one-kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)
sys.exit(grader.returncode)
"""


def time_grading(submissions, out, jobs, timeout, checkout=ROOT):
    """(wall seconds, CPU seconds its worker processes used: the grader prints them, (peak MiB of the process
    tree, of one process)). ``checkout``: whose grader (its ``workbook`` package, run with this Python)."""
    command = [sys.executable, "-m", "workbook", "grade", str(submissions), "--out", str(out),
               "--timeout", str(timeout)] + (["--jobs", str(jobs)] if jobs else [])
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(checkout)} if checkout != ROOT else None
    done = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *command], cwd=checkout, capture_output=True, text=True,
                          env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"grading failed:\n{done.stderr[-2000:]}")
    found = re.search(r"\((\d+) CPU seconds in the workers\)", done.stdout)
    peak = re.search(r"peak-tree-kib (\d+) peak-one-kib (\d+)", done.stdout)
    return seconds, float(found[1]) if found else None, (int(peak[1]) / 1024, int(peak[2]) / 1024) if peak else None


BASELINE = ROOT / "bench" / "baseline_report.csv"


def kind_of(name, my_app_stage, blank_every):
    """What student ``studentNN`` handed in, as build_class made it: (app stage, blank notebooks)."""
    number = int(name.removeprefix("student"))
    stage = (1 + (number - 1) % 7 if my_app_stage == "mixed" else int(my_app_stage)) if my_app_stage else None
    return stage, bool(blank_every and number % blank_every == 0)


def compare_with_baseline(report, my_app_stage, blank_every, baseline=BASELINE):
    """Differences between the report's marks and the baseline's, student by student (an empty list: none)."""
    with open(baseline, newline="", encoding="utf-8") as handle:
        before = {kind_of(row["student"], "mixed", 10): row for row in csv.DictReader(handle)}
    with open(report, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    differences, compared = [], 0
    for row in rows:
        twin = before.get(kind_of(row["student"], my_app_stage, blank_every))
        if twin is None:
            continue
        compared += 1
        for column in row:
            # the columns the baseline has: marks, app_stage, total (flags, app_score... came later)
            if column in twin and column not in ("student", "notes") and row[column] != twin.get(column):
                differences.append(f"{row['student']} {column}: {row[column]} (baseline {twin['student']}: "
                                   f"{twin.get(column)})")
    return compared, differences


def write_baseline(report, baseline=BASELINE):
    """Keep one student of each kind of the default class (see compare_with_baseline): 01-07, 10, 20, 30."""
    kinds = {f"student{n:02d}" for n in (*range(1, 8), 10, 20, 30)}
    with open(report, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["student"] in kinds]
        columns = reader.fieldnames
    if len(rows) != len(kinds):
        sys.exit("--write-baseline needs the default class: --students 30 --my-app mixed")
    with open(baseline, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


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
    parser.add_argument("--students", type=int, nargs="+", default=[30],
                        help="the class size; several (30 300): each class in turn, in the same run")
    parser.add_argument("--my-app", default="mixed", metavar="STAGE",
                        help="each student's my_app/: 'mixed' (stages 1-7 in turn, the default), a stage, or 'none'")
    parser.add_argument("--sample", type=int, default=None,
                        help="notebooks to run with nbconvert (default: one per lesson; 0: all of them)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--engines", action="store_true", help="also compare the per-notebook engines")
    parser.add_argument("--beside", metavar="REVISION", default=None,
                        help="also grade the first class with the grader of this git revision (e.g. main), from "
                             "`git archive` into a temporary folder, right after this one: the two figures of the "
                             "same run")
    parser.add_argument("--write-baseline", action="store_true",
                        help=f"write this run's marks to {BASELINE.name} (one student of each kind), to compare "
                             "later runs with; for a version whose marks are known right")
    args = parser.parse_args(argv)
    my_app = None if args.my_app == "none" else args.my_app
    blank_every = 10

    notebooks = lesson_notebooks()
    if not notebooks:
        sys.exit("no lesson notebooks with exercises in solutions/")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; lessons: "
          f"{', '.join(p.stem for p in notebooks)}")
    sizes, figures, all_differences = args.students, [], []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as temp:
        temp = Path(temp)
        for students in sizes:
            graded, differences = grade_one_class(temp / f"class-{students}", notebooks, students, my_app,
                                                  blank_every, args, figures)
            all_differences += differences
        if len(figures) > 1:
            print("\nclass | wall | per student | workers' CPU | CPU per student | peak memory: all processes "
                  "| one process")
            for students, seconds, cpu, peak in figures:
                print(f"{students} | {seconds:.0f} s | {seconds / students:.2f} s | "
                      + (f"{cpu:.0f} s | {cpu / students:.2f} s" if cpu else "- | -")
                      + (f" | {peak[0]:.0f} MiB | {peak[1]:.0f} MiB" if peak else " | - | -"))
        if args.beside:
            grade_beside(temp, args, my_app, blank_every, figures[0])
        # the plain way, for the first class
        args.students, graded = sizes[0], figures[0][1]
        count = args.students * len(notebooks)

        sample = count if args.sample == 0 else (args.sample or len(notebooks))
        sample = min(sample, count)
        paths = [notebooks[i % len(notebooks)] for i in range(sample)]
        work = temp / "nbconvert"
        work.mkdir()
        times = time_nbconvert(paths, work)
        if sample == count:
            estimate = sum(times)
            print(f"jupyter nbconvert --execute, one by one: {estimate:.1f} s for all {count} notebooks "
                  "(no my_app/ grading)")
        else:
            per_lesson = {}
            for path, seconds in zip(paths, times, strict=False):
                per_lesson.setdefault(path.name, []).append(seconds)
            estimate = args.students * sum(sum(v) / len(v) for v in per_lesson.values())
            print(f"jupyter nbconvert --execute, one by one: about {estimate:.0f} s for the class's notebooks "
                  f"alone (extrapolated: ran a sample of {sample} notebooks in {sum(times):.1f} s, "
                  f"{sum(times) / sample:.2f} s each, x {args.students} students; no my_app/ grading)")
        print(f"speed-up: about {estimate / graded:.1f}x")

        if args.engines:
            one = temp / "one"
            build_class(one, notebooks, 1)
            print(f"\nper notebook, one student's {len(notebooks)} notebooks run one at a time:")
            kernel = time_nbclient(notebooks, work)
            print(f"  nbclient, fresh ipykernel each:          {sum(kernel) / len(kernel):.2f} s"
                  f"  (total {sum(kernel):.1f} s, every cell)")
            spawn, _ = time_engine("spawn", one)
            print(f"  fresh python + InteractiveShell each:    {sum(spawn) / len(spawn):.2f} s"
                  f"  (total {sum(spawn):.1f} s, run and graded)")
            fork, _ = time_engine("fork", one)
            print(f"  forked from the pre-loaded fork server:  {sum(fork) / len(fork):.2f} s"
                  f"  (total {sum(fork):.1f} s, run and graded; the grader's choice)")
            names = [p.stem for p in notebooks]
            print("  by lesson (nbclient / spawn / fork): " + ", ".join(
                f"{n} {k:.1f}/{s:.1f}/{f:.1f}" for n, k, s, f in zip(names, kernel, spawn, fork, strict=False)))
    return 1 if all_differences else 0


def grade_beside(temp, args, my_app, blank_every, this_run):
    """Grade the first class again with the grader of ``args.beside`` (a git revision), and print both figures."""
    checkout = temp / "beside"
    checkout.mkdir()
    archive = subprocess.run(["git", "archive", args.beside], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(checkout)], input=archive, check=True)
    students = args.students[0]
    out = temp / "out-beside"
    out.mkdir()
    seconds, cpu, _peak = time_grading(temp / f"class-{students}", out / "report.csv", args.jobs, args.timeout,
                                       checkout=checkout)
    _compared, differences = compare_with_baseline(out / "report.csv", my_app, blank_every)
    print(f"beside it, the grader of {args.beside} on the same class: {seconds:.1f} s"
          + (f"; its workers used {cpu:.0f} CPU seconds" if cpu else "")
          + f"; marks: {len(differences)} differences from {BASELINE.name}")
    print(f"this grader / {args.beside}'s: {this_run[1]:.1f} s / {seconds:.1f} s ({this_run[1] / seconds:.2f}x)")


def grade_one_class(root, notebooks, students, my_app, blank_every, args, figures):
    """Build a class of ``students``, grade it, check its marks; append (students, s, CPU s, MiB) to figures."""
    submissions = build_class(root, notebooks, students, my_app, blank_every)
    out = root.parent / f"out-{students}"
    out.mkdir()
    count = students * len(notebooks)
    apps = {"mixed": ", each with a my_app/ (stages 1-7 in turn)", None: ""}.get(
        my_app, f", each with a stage {my_app} my_app/")
    print(f"class: {students} students x {len(notebooks)} notebooks = {count} notebooks{apps}", flush=True)
    report = out / "report.csv"
    graded, cpu, peak = time_grading(submissions, report, args.jobs, args.timeout)
    cores = args.jobs or os.cpu_count()
    print(f"python -m workbook grade (--jobs {cores}): {graded:.1f} s for {students} students "
          f"({graded / students:.2f} s each)"
          + (f"; its workers used {cpu:.0f} CPU seconds, {cpu / cores:.0f} s of {cores} idle cores" if cpu else "")
          + (f"; peak memory {peak[0]:.0f} MiB in all (PSS), {peak[1]:.0f} MiB in one process" if peak else "")
          + f"; load average now {os.getloadavg()[0]:.1f}", flush=True)
    figures.append((students, graded, cpu, peak))
    if args.write_baseline:
        write_baseline(report)
        print(f"marks written to {BASELINE}")
    compared, differences = compare_with_baseline(report, my_app, blank_every)
    if differences:
        print(f"marks: {len(differences)} differences from {BASELINE.name}:\n  " + "\n  ".join(differences))
    else:
        print(f"marks: the same as {BASELINE.name} for all {compared} students compared "
              "(every exercise, app_stage and total)")
    return graded, differences


if __name__ == "__main__":
    sys.exit(main())
