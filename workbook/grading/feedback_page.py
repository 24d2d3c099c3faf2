"""feedback/<student>.html: the student's feedback as a page that opens from disk (beside the .md).

The same content as report.feedback_text, made from the results (not from the Markdown): the score,
the app in words, each lesson's ✅/❌/⏳ lines with their points, the notes, the cells that raised.
No JavaScript, nothing fetched.
"""
import html

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 50em; color: #222; line-height: 1.4; }
li.passed { list-style: "✅ "; } li.failed { list-style: "❌ "; } li.other { list-style: "⏳ "; }
blockquote { margin: .3em 0; padding-left: .8em; border-left: 4px solid #ddd; color: #555; }
.points { color: #555; white-space: nowrap; } .override { color: #6a1b9a; }
code { background: #f3f3f3; padding: 0 .2em; }
"""


def _status_class(status):
    return {"passed": "passed", "failed": "failed"}.get(status, "other")


def _message(line):
    """The line without its leading mark (the list item shows it)."""
    return line[1:].lstrip() if line[:1] in "✅❌⏳" else line


def feedback_page(grades, student):
    hide = grades.hide_hidden_checks   # before the due date: what the student's check cells say
    total = sum(g.shown(grades.exercises[i].points, hide)[1] for nb in student.notebooks.values()
                for i, g in nb.grades.items())
    parts = [f"<h1>Feedback: {html.escape(student.name)}</h1>",
             f"<p><b>Score: {total} / {grades.max_points}</b>"
             + (" (the hidden checks count after the due date)" if hide else
                f" · after the late penalty: <b>{student.final}</b>" if student.penalty else "") + "</p>"]
    if student.app is not None:
        parts.append(f"<p>Your app (my_app/): {html.escape(student.app.describe())}.</p>")
        if student.app.next_stage_line():
            parts.append(f"<p>Next: {html.escape(student.app.next_stage_line(limit=15))}.</p>")
    parts += [f"<blockquote>{html.escape(note)}</blockquote>" for note in student.notes]
    for lesson in sorted(student.notebooks):
        notebook = student.notebooks[lesson]
        title = f"Lesson {lesson:02d}" + (f" ({notebook.notebook})" if notebook.notebook else "")
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts += [f"<blockquote>{html.escape(note)}</blockquote>" for note in notebook.notes]
        items = []
        for exercise_id, grade in notebook.grades.items():
            points = grades.exercises[exercise_id].points
            line, earned = grade.shown(points, hide)
            status = (grade.visible_status or grade.status) if hide else grade.status
            mark = (f' <span class="override">(set by your instructor: {earned}/{points})</span>'
                    if grade.overridden else f' <span class="points">({earned}/{points})</span>')
            items.append(f'<li class="{_status_class(status)}">{html.escape(_message(line))}{mark}</li>')
        parts.append("<ul>" + "".join(items) + "</ul>")
        if notebook.cell_errors:
            parts.append("<p>Cells that raised an error when the notebook ran from the top:</p><ul>"
                         + "".join(f"<li>code cell {number}: <code>{html.escape(text)}</code></li>"
                                   for number, text in notebook.cell_errors[:10]) + "</ul>")
    if student.app is not None and student.app.notes:
        parts.append("<h2>Your app</h2>")
        parts += [f"<blockquote>{html.escape(note)}</blockquote>" for note in student.app.notes]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Feedback: {html.escape(student.name)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
