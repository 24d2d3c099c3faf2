"""The grader's output: report.csv, report.html beside it, and feedback/<student>.md.

report.csv has one row per student: ``student``, one column per exercise id
(points earned), ``app_stage`` (the highest stage whose tests the student's
my_app/ passes; empty when there is no my_app/, 0 when it passes none),
``app_score`` (that stage plus the share of the next stage's tests it passes),
``total`` and ``max`` (exercise points only), ``late_days`` and ``final`` (the total
after a late penalty, adjust.py), ``notes`` and ``flags``
(integrity flags: something for the instructor to look into, never a mark).
report.html is the same table with an inline SVG bar chart of the class's
average per exercise: no JavaScript, nothing fetched, opens from disk. Rows with
flags come first and are marked, then rows with a timeout, then rows with notes;
a legend says what a blank cell means against a 0.
logs/<student>/NN.log keeps each notebook's output while graded, and timings.csv
how long each notebook took, so that a disputed mark can be looked into.
"""
import csv
import dataclasses
import html
import json
import re
import unicodedata
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def columns(grades):
    return ["student", *grades.exercises, "app_stage", "app_score", "total", "max", "late_days", "final", "notes",
            "flags"]


def rows(grades):
    for student in grades.students:
        app_stage = "" if student.app is None or student.app.stage is None else student.app.stage
        app_score = "" if student.app is None or student.app.score is None else student.app.score
        yield [student.name, *(student.points(i) for i in grades.exercises), app_stage, app_score,
               student.total, grades.max_points, student.late_days, student.final, "; ".join(student.all_notes()),
               "; ".join(student.all_flags())]


def write_csv(grades, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns(grades))
        for row in rows(grades):
            writer.writerow([_cell(value) for value in row])


def safe_file_name(name):
    """A file name for a student's folder name: letters, digits, '.', '-' and '_' only."""
    name = unicodedata.normalize("NFKC", name)
    name = re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("._")
    return name[:100] or "student"


def feedback_names(grades):
    """student name -> a unique, safe file name (without .md)."""
    names, used = {}, set()
    for student in grades.students:
        base = candidate = safe_file_name(student.name)
        number = 2
        while candidate.casefold() in used:
            candidate = f"{base}-{number}"
            number += 1
        used.add(candidate.casefold())
        names[student.name] = candidate
    return names


def feedback_text(grades, student):
    lines = [f"# Feedback: {student.name}", "",
             f"**Score: {student.total} / {grades.max_points}**", ""]
    if student.app is not None:
        if student.app.stage is None:
            lines.append("Your app (my_app/): not submitted.")
        elif student.app.stage:
            lines.append(f"Your app (my_app/): passes the stage {student.app.stage} behaviour tests.")
        else:
            lines.append("Your app (my_app/): does not pass any stage's behaviour tests yet.")
        if student.app.next_stage_line():
            lines.append(f"Next: {student.app.next_stage_line(limit=15)}.")
        lines.append("")
    for note in student.notes:
        lines.append(f"> {note}")
    for lesson in sorted(student.notebooks):
        notebook = student.notebooks[lesson]
        lines += ["", f"## Lesson {lesson:02d}" + (f" ({notebook.notebook})" if notebook.notebook else ""), ""]
        for note in notebook.notes:
            lines.append(f"> {note}")
        if notebook.notes:
            lines.append("")
        for exercise_id, grade in notebook.grades.items():
            points = grades.exercises[exercise_id].points
            lines.append(f"- {grade.line()} ({grade.points}/{points})")
        if notebook.cell_errors:
            lines += ["", "Cells that raised an error when the notebook ran from the top:"]
            lines += [f"- code cell {number}: `{text}`" for number, text in notebook.cell_errors[:10]]
    if student.app is not None and student.app.notes:
        lines += ["", "## Your app", ""] + [f"> {note}" for note in student.app.notes]
    return "\n".join(lines) + "\n"


def write_feedback(grades, folder):
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    names = feedback_names(grades)
    for student in grades.students:
        (folder / f"{names[student.name]}.md").write_text(feedback_text(grades, student), encoding="utf-8")
    return names


def averages(grades):
    """exercise id -> the class's average, as a fraction of the exercise's points (0 to 1)."""
    count = len(grades.students) or 1
    return {exercise_id: sum(s.points(exercise_id) for s in grades.students) / count / (exercise.points or 1)
            for exercise_id, exercise in grades.exercises.items()}


def bar_chart_svg(grades):
    """An inline SVG bar chart of the average score per exercise (% of its points)."""
    values = averages(grades)
    bar, gap, height, top, bottom, left = 26, 8, 160, 20, 42, 36
    width = left + len(values) * (bar + gap) + gap
    total_height = top + height + bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_height}" '
             f'viewBox="0 0 {width} {total_height}" role="img" aria-label="Average score per exercise" '
             'font-family="sans-serif" font-size="11">']
    for percent in (0, 50, 100):
        y = top + height - height * percent / 100
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{percent}%</text>')
    lessons = sorted({grades.exercises[i].lesson for i in values})
    palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]
    for index, (exercise_id, value) in enumerate(values.items()):
        x = left + gap + index * (bar + gap)
        h = height * value
        colour = palette[lessons.index(grades.exercises[exercise_id].lesson) % len(palette)]
        title = html.escape(f"{exercise_id} {grades.exercises[exercise_id].title}: {value:.0%}")
        parts.append(f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{title}</title></rect>')
        parts.append(f'<text x="{x + bar / 2}" y="{top + height - h - 4:.1f}" text-anchor="middle">'
                     f'{value:.0%}</text>')
        parts.append(f'<text x="{x + bar / 2}" y="{top + height + 14}" text-anchor="middle">'
                     f'{html.escape(exercise_id)}</text>')
    parts.append(f'<text x="{left}" y="{total_height - 6}" fill="#555">average score per exercise '
                 '(% of its points)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: center; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.name, td.notes { text-align: left; }
td.notes { font-size: 12px; color: #555; max-width: 40em; }
td.full { background: #e3f4e1; } td.zero { background: #fbe5e5; }
td.flags { text-align: left; font-size: 12px; color: #8a1c1c; max-width: 30em; }
tr.flagged td.name { border-left: 6px solid #c62828; } tr.timeout td.name { border-left: 6px solid #ef6c00; }
tr.noted td.name { border-left: 6px solid #f9d648; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 1em; }
"""

LEGEND = """<p class="legend">
<span style="border-left: 6px solid #c62828">flagged: look into it (a flag never changes a mark)</span>
<span style="border-left: 6px solid #ef6c00">a notebook timed out</span>
<span style="border-left: 6px solid #f9d648">has notes</span><br>
0: handed in and graded, no points · app_stage blank: no my_app/ handed in · app_stage 0: a my_app/ that passes
no stage · a partial stage (5 + 40%) : the share of the next stage's tests it passes</p>"""


def _attention(student):
    """How much a row needs the instructor's eye: 0 flags, 1 a timeout, 2 notes, 3 nothing."""
    notes = student.all_notes()
    if student.all_flags():
        return 0, "flagged"
    if any("timed out" in note for note in notes):
        return 1, "timeout"
    return (2, "noted") if notes else (3, "")



def html_report(grades, feedback=None):
    ids = list(grades.exercises)
    count = len(grades.students)
    average_total = sum(s.total for s in grades.students) / (count or 1)
    stages = [s.app.stage for s in grades.students if s.app is not None and s.app.stage is not None]
    header = "".join(f'<th title="{html.escape(grades.exercises[i].title)}">{html.escape(i)}</th>' for i in ids)
    body = []
    ordered = sorted(zip(rows(grades), grades.students, strict=False), key=lambda pair: _attention(pair[1])[0])
    for row, student in ordered:
        name = html.escape(student.name)
        if feedback:
            name = f'<a href="feedback/{html.escape(feedback[student.name])}.md">{name}</a>'
        cells = []
        for exercise_id, points in zip(ids, row[1:1 + len(ids)], strict=False):
            kind = "full" if points == grades.exercises[exercise_id].points else "zero" if points == 0 else ""
            cells.append(f'<td class="{kind}">{points}</td>')
        app_stage, _score, total, maximum, _late, final, _notes, _flags = row[1 + len(ids):]
        if final != total:
            total = f"{total} → {final}"
        if student.app is not None and student.app.partial:
            app_stage = f'{app_stage} <small title="{html.escape(student.app.next_stage_line())}">' \
                        f'+ {student.app.partial:.0%}</small>'
        elif student.app is not None and student.app.next_stage:
            app_stage = f'<span title="{html.escape(student.app.next_stage_line())}">{app_stage}</span>'
        body.append(f'<tr class="{_attention(student)[1]}"><td class="name">{name}</td>{"".join(cells)}'
                    f'<td>{app_stage}</td><td><b>{total}</b></td><td>{maximum}</td>'
                    f'<td class="notes">{"<br>".join(html.escape(n) for n in student.all_notes())}</td>'
                    f'<td class="flags">{"<br>".join(html.escape(f) for f in student.all_flags())}</td></tr>')
    summary = (f"{count} students · average {average_total:.1f} / {grades.max_points}"
               + (f" · my_app submitted by {len(stages)}" if stages else "")
               + f" · graded in {grades.seconds:.0f} s")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grades</title><style>{STYLE}</style></head>
<body>
<h1>Grades</h1>
<p>{html.escape(summary)}</p>
{bar_chart_svg(grades)}
{LEGEND}
<table>
<thead><tr><th>student</th>{header}<th>app_stage</th><th>total</th><th>max</th><th>notes</th><th>flags</th></tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""


def write_reports(grades, out):
    """Write report.csv at ``out``, report.html and feedback/ beside it; return the paths written."""
    out = Path(out)
    write_csv(grades, out)
    feedback_dir = out.parent / "feedback"
    names = write_feedback(grades, feedback_dir)
    html_path = out.with_suffix(".html") if out.suffix != ".html" else out.with_name(out.stem + "-report.html")
    html_path.write_text(html_report(grades, names), encoding="utf-8")
    write_logs(grades, out.parent / "logs", names)
    save_results(grades, results_path(out))
    write_timings(grades, out.parent / "timings.csv")
    return [out, html_path, feedback_dir]


def results_path(out):
    """report.json beside report.csv: every result, for ``grade --merge`` (adjust.py)."""
    out = Path(out)
    return out.with_suffix(".json") if out.suffix != ".json" else out.with_name(out.stem + "-results.json")


def save_results(grades, path):
    data = {"students": [dataclasses.asdict(student) for student in grades.students]}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def write_logs(grades, folder, names):
    """logs/<student>/NN.log: what each notebook printed while it was graded (the end of it)."""
    for student in grades.students:
        for lesson, notebook in sorted(student.notebooks.items()):
            if notebook.log:
                path = Path(folder) / names[student.name] / f"{lesson:02d}.log"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(notebook.log, encoding="utf-8")


def write_timings(grades, path):
    """timings.csv: one row per notebook and app graded, with its time, its CPU time and whether it timed out."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "what", "file", "seconds", "cpu_seconds", "timed_out", "flags"])
        for student in grades.students:
            for lesson, notebook in sorted(student.notebooks.items()):
                if notebook.notebook:
                    writer.writerow([_cell(student.name), f"lesson {lesson:02d}", _cell(notebook.notebook),
                                     f"{notebook.seconds:.2f}", f"{notebook.cpu_seconds:.2f}",
                                     any("timed out" in note for note in notebook.notes), len(notebook.flags)])
            if student.app is not None and student.app.stage is not None:
                writer.writerow([_cell(student.name), "my_app", "my_app/", f"{student.app.seconds:.2f}",
                                 f"{student.app.cpu_seconds:.2f}",
                                 any("timed out" in note for note in student.app.notes), len(student.app.flags)])
