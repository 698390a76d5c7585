"""Reports for organisers: enrolments per course, progress distribution, completion funnel per lesson, quiz score
distribution, and the learner table that the CSV and XLSX exports write (through academy/exports.py, the project's
one exporter). Reads only; numbers come from
courses.completion (course_report_rows), so the admin and the learners' pages agree.
"""
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from academy.exports import Table
from courses import completion
from courses.models import CoursePage, Enrolment, LessonPage, QuizAttempt

PROGRESS_BUCKETS = [(0, 0), (1, 25), (26, 50), (51, 75), (76, 99), (100, 100)]
SCORE_BUCKETS = [(low, low + 9 if low < 90 else 100) for low in range(0, 100, 10)]


@dataclass
class Bar:
    label: str
    value: int
    secondary: int | None = None


def course_summaries() -> list[dict]:
    """One row per course: enrolments (self / cohort), completions, completion rate."""
    courses = CoursePage.objects.order_by("path").annotate(
        enrolled=Count("enrolments", distinct=True),
        self_enrolled=Count("enrolments", filter=Q(enrolments__source=Enrolment.Source.SELF), distinct=True),
        cohort_enrolled=Count("enrolments", filter=Q(enrolments__source=Enrolment.Source.COHORT), distinct=True),
        completed=Count("enrolments__completion", distinct=True),
    )
    rows = []
    for course in courses:
        rate = round(100 * course.completed / course.enrolled) if course.enrolled else 0
        rows.append({"course": course, "enrolled": course.enrolled, "self_enrolled": course.self_enrolled,
                     "cohort_enrolled": course.cohort_enrolled, "completed": course.completed, "rate": rate})
    return rows


def course_report(course: CoursePage) -> dict:
    lessons = list(course.lessons())
    rows = completion.course_report_rows(course=course, lessons=lessons)
    distribution = []
    for low, high in PROGRESS_BUCKETS:
        label = f"{low}%" if low == high else f"{low}–{high}%"
        distribution.append(Bar(label, sum(1 for row in rows if low <= row.percent <= high)))
    funnel = [
        Bar(lesson.title, sum(1 for row in rows if lesson.pk in row.completed_lesson_ids),
            sum(1 for row in rows if lesson.pk in row.started_lesson_ids))
        for lesson in lessons
    ]
    quizzes = []
    for lesson in lessons:
        if lesson.kind != LessonPage.Kind.QUIZ:
            continue
        attempts = list(QuizAttempt.objects.filter(lesson=lesson, submitted_at__isnull=False).values_list("score", "passed"))
        bars = [Bar(f"{low}–{high}", sum(1 for score, _p in attempts if low <= (score or 0) <= high)) for low, high in SCORE_BUCKETS]
        quizzes.append({
            "lesson": lesson, "bars": bars, "attempts": len(attempts),
            "pass_rate": round(100 * sum(1 for _s, passed in attempts if passed) / len(attempts)) if attempts else 0,
            "average": round(sum(score or 0 for score, _p in attempts) / len(attempts)) if attempts else 0,
        })
    enrolled = len(rows)
    done = sum(1 for row in rows if row.completed_at)
    return {
        "course": course, "lessons": lessons, "rows": rows, "enrolled": enrolled, "completed": done,
        "in_progress": sum(1 for row in rows if not row.completed_at and row.started_lesson_ids),
        "rate": round(100 * done / enrolled) if enrolled else 0,
        "distribution": distribution, "funnel": funnel, "quizzes": quizzes,
    }


def export_table(course: CoursePage) -> Table:
    """The learner table: one row per enrolment, one column per lesson (its status)."""
    report = course_report(course)
    headers = [_("Username"), _("Name"), _("Phone"), _("Organisation"), _("City"), _("Enrolled at"), _("Source"),
               _("Progress (%)"), _("Completed at")] + [lesson.title for lesson in report["lessons"]]
    table = Table(title=course.slug or "course", headers=headers)
    status_text = {"completed": _("Completed"), "in_progress": _("In progress"), "not_started": _("Not started")}
    for row in report["rows"]:
        user = row.enrolment.user
        cells = [user.username, user.real_name, user.phone, user.organisation, user.city, row.enrolment.enrolled_at,
                 row.enrolment.get_source_display(), row.percent, row.completed_at]
        cells += [status_text[row.status_of(lesson.pk)] for lesson in report["lessons"]]
        table.rows.append(cells)
    return table


def summary_table() -> Table:
    headers = [_("Course"), _("Enrolled"), _("Self-enrolled"), _("Cohort import"), _("Completed"),
               _("Completion rate (%)")]
    rows = [[r["course"].title, r["enrolled"], r["self_enrolled"], r["cohort_enrolled"], r["completed"], r["rate"]]
            for r in course_summaries()]
    return Table(title="courses", headers=headers, rows=rows)


LABEL_CHAR_WIDTH = 14  # px of one CJK character at the chart's font size (13 px)
LABEL_LINE_HEIGHT = 16
LABEL_MAX_LINES = 4


def _label_lines(label: str, label_width: int) -> list[str]:
    """A label wrapped to the label column (long lesson titles are wrapped, not cut; only past four lines…)."""
    per_line = max(4, (label_width - 12) // LABEL_CHAR_WIDTH)
    lines = [label[i:i + per_line] for i in range(0, len(label), per_line)] or [""]
    if len(lines) > LABEL_MAX_LINES:
        lines = lines[:LABEL_MAX_LINES]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def svg_bars(bars: list[Bar], *, width: int = 640, row_height: int = 28, label_width: int = 220, title: str = "") -> dict:
    """Geometry for a horizontal bar chart drawn as inline SVG by templates/courses/admin/bars.svg.html."""
    largest = max([bar.secondary or 0 for bar in bars] + [bar.value for bar in bars] + [1])
    plot = width - label_width - 60
    items = []
    y = 0
    for bar in bars:
        lines = _label_lines(bar.label, label_width)
        height = row_height + (len(lines) - 1) * LABEL_LINE_HEIGHT
        bar_y = y + (height - (row_height - 8)) / 2
        first_line_y = y + height / 2 - (len(lines) - 1) * LABEL_LINE_HEIGHT / 2 + 4.5
        items.append({
            "label": bar.label, "lines": [{"text": text, "y": round(first_line_y + i * LABEL_LINE_HEIGHT, 1)}
                                          for i, text in enumerate(lines)],
            "full_label": bar.label, "value": bar.value, "secondary": bar.secondary, "y": y, "bar_y": round(bar_y, 1),
            "text_y": round(bar_y + (row_height - 8) / 2 + 4.5, 1),
            "width": round(plot * bar.value / largest, 1),
            "secondary_width": round(plot * (bar.secondary or 0) / largest, 1) if bar.secondary is not None else None,
            "value_x": label_width + round(plot * max(bar.value, bar.secondary or 0) / largest, 1) + 6,
        })
        y += height
    return {"items": items, "width": width, "height": max(y, row_height),
            "label_width": label_width, "bar_height": row_height - 8, "title": title}
