"""The live room's batches: joins (live/admission.py), votes, poll answers and attendance spans, one transaction
per batch (live/batching.py collects them). Each item gets `.result` or `.error` (a RoomError); exact counters are
recomputed from the rows in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from live.admission import joins_read
from live.models import AttendanceSpan, Poll, PollAnswer, PollAnswerChoice, PollChoice, Question, Vote
from live.services.room import (
    ERROR_POLL_CHOICES, ERROR_POLL_CLOSED, ERROR_POLL_NOT_FOUND, ERROR_POLL_ONE_CHOICE, ERROR_QUESTION_DISMISSED,
    ERROR_QUESTION_NOT_FOUND, RoomError,
)


# --- batched writes (live/batching.py) --------------------------------------------------------------------------
@dataclass
class VoteChange:
    session_id: int
    question_id: int
    user_id: int
    add: bool
    result: dict | None = None
    error: RoomError | None = None


@dataclass
class PollAnswerInput:
    session_id: int
    poll_id: int
    user_id: int
    choices: list
    result: dict | None = None
    error: RoomError | None = None


@dataclass
class SpanOpen:
    session_id: int
    user_id: int
    connection: str
    process: str
    at: datetime
    result: dict | None = None
    error: RoomError | None = None


@dataclass
class SpanClose:
    connection: str
    at: datetime
    result: dict | None = None
    error: RoomError | None = None


@dataclass
class BatchResult:
    dirty_questions: dict = field(default_factory=dict)  # session id -> set of question ids
    dirty_polls: dict = field(default_factory=dict)  # session id -> set of poll ids


def _chunks(items, size=400):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert_returning(table: str, columns: list[str], rows: list[tuple], conflict: list[str],
                      returning: list[str]) -> list[tuple]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING … (PostgreSQL and SQLite ≥ 3.35): which rows went in."""
    inserted = []
    qn = connection.ops.quote_name
    for chunk in _chunks(rows):
        values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
        sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES {values} "
               f"ON CONFLICT ({', '.join(qn(c) for c in conflict)}) DO NOTHING "
               f"RETURNING {', '.join(qn(c) for c in returning)}")
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])
            inserted.extend(tuple(row) for row in cursor.fetchall())
    return inserted


def _delete_returning(table: str, pairs: list[tuple], columns: tuple[str, str]) -> list[tuple]:
    deleted = []
    qn = connection.ops.quote_name
    for chunk in _chunks(pairs):
        where = " OR ".join([f"({qn(columns[0])} = %s AND {qn(columns[1])} = %s)"] * len(chunk))
        sql = f"DELETE FROM {qn(table)} WHERE {where} RETURNING {qn(columns[0])}, {qn(columns[1])}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for pair in chunk for value in pair])
            deleted.extend(tuple(row) for row in cursor.fetchall())
    return deleted


def _rounds(items, key):
    """Split items so that no key repeats within a round (a vote then an unvote in one batch keep their order)."""
    rounds, current, seen = [], [], set()
    for item in items:
        k = key(item)
        if k in seen:
            rounds.append(current)
            current, seen = [], set()
        current.append(item)
        seen.add(k)
    if current:
        rounds.append(current)
    return rounds


def _apply_votes(changes: list[VoteChange], result: BatchResult) -> None:
    if not changes:
        return
    # Locked (in pk order) before the votes go in: another process's batch voting on the same question waits here,
    # so the count below, a statement started after its commit, includes its votes (without the lock, its UPDATE
    # would wait on the row and then write a count from a snapshot taken before the other batch committed).
    questions = {row["id"]: row for row in Question.objects.select_for_update().filter(
        pk__in={c.question_id for c in changes}).order_by("pk").values("id", "session_id", "status")}
    valid = []
    for change in changes:
        row = questions.get(change.question_id)
        if row is None or row["session_id"] != change.session_id or row["status"] == Question.Status.PENDING:
            change.error = RoomError("not_found", ERROR_QUESTION_NOT_FOUND, field="question")
        elif row["status"] == Question.Status.DISMISSED and change.add:
            change.error = RoomError("closed", ERROR_QUESTION_DISMISSED, field="question")
        else:
            valid.append(change)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Vote._meta.db_table
    for round_ in _rounds(valid, key=lambda c: (c.question_id, c.user_id)):
        adds = [c for c in round_ if c.add]
        removes = [c for c in round_ if not c.add]
        inserted = set(_insert_returning(table, ["question_id", "user_id", "created_at"],
                                         [(c.question_id, c.user_id, now) for c in adds],
                                         ["question_id", "user_id"], ["question_id", "user_id"])) if adds else set()
        deleted = set(_delete_returning(table, [(c.question_id, c.user_id) for c in removes],
                                        ("question_id", "user_id"))) if removes else set()
        for c in adds:
            c.result = {"counted": (c.question_id, c.user_id) in inserted}
        for c in removes:
            c.result = {"removed": (c.question_id, c.user_id) in deleted}
    changed = {c.question_id for c in valid if c.result and (c.result.get("counted") or c.result.get("removed"))}
    if changed:
        counts = (Vote.objects.filter(question=OuterRef("pk")).order_by().values("question")
                  .annotate(n=Count("pk")).values("n"))
        Question.objects.filter(pk__in=changed).update(vote_count=Coalesce(Subquery(counts), 0))
    totals = dict(Question.objects.filter(pk__in={c.question_id for c in valid}).values_list("id", "vote_count"))
    for c in valid:
        c.result["votes"] = totals.get(c.question_id, 0)
        if c.question_id in changed:
            result.dirty_questions.setdefault(c.session_id, set()).add(c.question_id)


def _apply_answers(answers: list[PollAnswerInput], result: BatchResult) -> None:
    if not answers:
        return
    polls = {p.pk: p for p in Poll.objects.filter(pk__in={a.poll_id for a in answers})}
    choices_of: dict[int, set] = {}
    for poll_id, choice_id in PollChoice.objects.filter(poll__in=polls).values_list("poll_id", "id"):
        choices_of.setdefault(poll_id, set()).add(choice_id)
    valid, seen = [], set()
    for answer in answers:
        poll = polls.get(answer.poll_id)
        chosen = answer.choices
        if poll is None or poll.session_id != answer.session_id:
            answer.error = RoomError("not_found", ERROR_POLL_NOT_FOUND, field="poll")
        elif poll.status != Poll.Status.OPEN:
            answer.error = RoomError("closed", ERROR_POLL_CLOSED, field="poll")
        elif not chosen or not set(chosen) <= choices_of.get(poll.pk, set()):
            answer.error = RoomError("invalid", ERROR_POLL_CHOICES, field="choices")
        elif poll.kind == Poll.Kind.SINGLE and len(set(chosen)) != 1:
            answer.error = RoomError("invalid", ERROR_POLL_ONE_CHOICE, field="choices")
        elif (answer.poll_id, answer.user_id) in seen:
            answer.result = {"counted": False}
        else:
            seen.add((answer.poll_id, answer.user_id))
            valid.append(answer)
    if not valid:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    inserted = {(poll_id, user_id): answer_id for answer_id, poll_id, user_id in _insert_returning(
        PollAnswer._meta.db_table, ["poll_id", "user_id", "created_at"],
        [(a.poll_id, a.user_id, now) for a in valid], ["poll_id", "user_id"], ["id", "poll_id", "user_id"])}
    rows = []
    for answer in valid:
        answer_id = inserted.get((answer.poll_id, answer.user_id))
        answer.result = {"counted": answer_id is not None}
        if answer_id is not None:
            rows.extend(PollAnswerChoice(answer_id=answer_id, choice_id=c) for c in sorted(set(answer.choices)))
    if not rows:
        return
    PollAnswerChoice.objects.bulk_create(rows)
    changed = {a.poll_id for a in valid if a.result["counted"]}
    tallies = (PollAnswerChoice.objects.filter(choice=OuterRef("pk")).order_by().values("choice")
               .annotate(n=Count("pk")).values("n"))
    PollChoice.objects.filter(poll__in=changed).update(votes=Coalesce(Subquery(tallies), 0))
    respondents = (PollAnswer.objects.filter(poll=OuterRef("pk")).order_by().values("poll")
                   .annotate(n=Count("pk")).values("n"))
    Poll.objects.filter(pk__in=changed).update(respondents=Coalesce(Subquery(respondents), 0))
    for answer in valid:
        if answer.result["counted"]:
            result.dirty_polls.setdefault(answer.session_id, set()).add(answer.poll_id)


def _apply_spans(opens: list[SpanOpen], closes: list[SpanClose]) -> None:
    if opens:
        # Plain rows, not model instances: a join burst opens hundreds of spans per batch.
        adapt = connection.ops.adapt_datetimefield_value
        _insert_returning(AttendanceSpan._meta.db_table,
                          ["session_id", "user_id", "connection", "process", "joined_at", "seen_at"],
                          [(o.session_id, o.user_id, o.connection, o.process, adapt(o.at), adapt(o.at)) for o in opens],
                          conflict=["connection"], returning=["connection"])
        for o in opens:
            o.result = {}
    if closes:
        # One statement per batch: the batch's latest leave time for all (a few milliseconds apart at most).
        at = max(c.at for c in closes)
        AttendanceSpan.objects.filter(connection__in=[c.connection for c in closes], left_at__isnull=True
                                      ).update(left_at=at, seen_at=at)
        for c in closes:
            c.result = {}


def room_batch_write(*, joins=(), votes=(), answers=(), opens=(), closes=()) -> BatchResult:
    """One transaction for everything a batch collected; each item gets `.result` or `.error`. Joins
    (live/admission.py) are decided and read first; the admitted ones' attendance spans open with the others."""
    result = BatchResult()
    with transaction.atomic():
        if joins:
            opens = list(opens) + [SpanOpen(session_id=j.session_id, user_id=j.user.pk, connection=j.connection,
                                            process=j.process, at=j.at) for j in joins_read(list(joins))]
        _apply_votes(list(votes), result)
        _apply_answers(list(answers), result)
        _apply_spans(list(opens), list(closes))
    return result


def attendance_heartbeat(*, process: str, alive) -> int:
    """This process's open spans whose sockets are `alive` (connection ids) move their `seen_at` to now; its other
    open spans belong to connections that ended without closing them and end at their last `seen_at`."""
    from django.db.models import F

    alive = set(alive)
    spans = AttendanceSpan.objects.filter(process=process, left_at__isnull=True)
    ghosts = [c for c in spans.values_list("connection", flat=True) if c not in alive]
    for chunk in _chunks(ghosts):
        spans.filter(connection__in=chunk).update(left_at=F("seen_at"))
    return spans.update(seen_at=timezone.now())


def attendance_sweep(*, stale_after_seconds: int = 180) -> int:
    """Close spans whose process stopped beating (it died): they end at their last heartbeat."""
    from datetime import timedelta

    from django.db.models import F

    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    return AttendanceSpan.objects.filter(left_at__isnull=True, seen_at__lt=cutoff).update(left_at=F("seen_at"))
