"""Reads of the live room: who may enter, the snapshot a connection starts from, exact counters, attendance and
the exports' rows (live.views and the recap use `attendance_for_export`, `questions_for_export`,
`answered_questions`; courses use `minutes_attended`).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch
from django.utils import timezone

from live import payloads
from live.models import (
    AgendaTopic, Announcement, AttendanceSpan, LiveSessionPage, LiveWindow, Poll, PollAnswerChoice, PollChoice,
    Question, RoomState, Vote,
)

SNAPSHOT_QUESTIONS = 500
SNAPSHOT_ANNOUNCEMENTS = 20
# An open span whose process has not refreshed it for this long is taken to have ended at its last heartbeat.
SPAN_STALE_SECONDS = 180

# Close codes (docs/live-protocol.md): WebSocket libraries accept 1000 and 3000-4999 from a server.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BANNED = 4410
CLOSE_PRIVATE = 4411  # the page's view restrictions (password, groups, log-in) refuse this visitor
CLOSE_RIGHTS_CHANGED = 4412  # signed out, password changed, role lost: reconnect to be admitted afresh
CLOSE_SERVER_ERROR = 4500  # joining failed on the server: reconnect with back-off

# The largest id a database row may have (a signed 64-bit integer); anything outside 1..MAX_ID is no such row.
MAX_ID = 2**63 - 1


def valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


# --- entering (the rules are live.selectors.access's; live/admission.py reads them for batches of joins) -------
class _Visitor:
    """What a Wagtail view restriction reads of a request: the user and the Django session."""

    def __init__(self, user, session):
        self.user, self.session = user, session


def room_restrictions_pass(*, restrictions, user, django_session) -> bool:
    """Would the session page admit this visitor? Wagtail's own `accept_request` for each restriction."""
    visitor = _Visitor(user, django_session if django_session is not None else {})
    return all(restriction.accept_request(visitor) for restriction in restrictions)


# --- status and live windows ----------------------------------------------------------------------------------
def room_status(session: LiveSessionPage, now: datetime | None = None) -> str:
    """The session's one status, read fresh (the room holds its page object for a whole connection): the host's
    choice once they made one; the schedule before that (LiveSessionPage.status_for, docs/live-protocol.md)."""
    return session.status_for(session.host_status_now(), now)


def live_windows(session: LiveSessionPage) -> list[tuple[datetime, datetime | None]]:
    """When attendance counts: the hosts' live windows, or the schedule when no host started or ended it."""
    windows = list(LiveWindow.objects.filter(session=session).values_list("started_at", "ended_at"))
    return windows or [(session.start, session.end)]


def _union(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _span_end(left_at, seen_at, now) -> datetime:
    if left_at is not None:
        return left_at
    if now - seen_at > timedelta(seconds=SPAN_STALE_SECONDS):
        return seen_at  # its process died; the sweep will close it here
    return now


def _attended_seconds(spans, windows, now) -> float:
    presence = _union([(joined, _span_end(left, seen, now)) for joined, left, seen in spans])
    live = _union([(start, end or now) for start, end in windows])
    total = 0.0
    i = j = 0
    while i < len(presence) and j < len(live):
        start = max(presence[i][0], live[j][0])
        end = min(presence[i][1], live[j][1])
        if end > start:
            total += (end - start).total_seconds()
        if presence[i][1] < live[j][1]:
            i += 1
        else:
            j += 1
    return total


def minutes_attended(*, session: LiveSessionPage, user) -> int:
    """Whole minutes `user` was in the room while the session was live; reconnects and tabs count once."""
    spans = AttendanceSpan.objects.filter(session=session, user=user).values_list("joined_at", "left_at", "seen_at")
    return int(_attended_seconds(list(spans), live_windows(session), timezone.now()) // 60)


def attendance_for_export(session: LiveSessionPage) -> list[dict]:
    """One row per user who entered the room: user, first joined, last left (None while present), minutes."""
    now = timezone.now()
    windows = live_windows(session)
    by_user: dict[int, list] = {}
    for user_id, joined, left, seen in (AttendanceSpan.objects.filter(session=session)
                                         .values_list("user_id", "joined_at", "left_at", "seen_at")):
        by_user.setdefault(user_id, []).append((joined, left, seen))
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(list(by_user))
    rows = []
    for user_id, spans in by_user.items():
        ends = [_span_end(left, seen, now) if left is not None or now - seen > timedelta(seconds=SPAN_STALE_SECONDS)
                else None for _, left, seen in spans]
        rows.append({
            "user": users.get(user_id),
            "first_joined": min(joined for joined, _, _ in spans),
            "last_left": None if any(end is None for end in ends) else max(ends),
            "connections": len(spans),
            "minutes": int(_attended_seconds(spans, windows, now) // 60),
        })
    rows.sort(key=lambda row: (-row["minutes"], row["first_joined"]))
    return rows


# --- questions for the exports and the recap --------------------------------------------------------------------
def questions_for_export(session: LiveSessionPage):
    """Every question of the session, oldest first, with author, topic and replier loaded (moderators' view)."""
    return (Question.objects.filter(session=session).select_related("author", "topic", "replied_by")
            .order_by("created_at", "pk"))


def answered_questions(session: LiveSessionPage) -> list[Question]:
    """Answered questions (and any with a written reply), by agenda topic, then most votes first."""
    from django.db.models import Q

    questions = (Question.objects.filter(session=session)
                 .filter(Q(status=Question.Status.ANSWERED) | ~Q(reply=""))
                 .exclude(status=Question.Status.DISMISSED)
                 .select_related("author", "topic", "replied_by"))
    return sorted(questions, key=lambda q: (q.topic.sort_order if q.topic else 10**6, -q.vote_count, q.pk))


# --- counters ---------------------------------------------------------------------------------------------------
def counts_for(*, question_ids, poll_ids) -> tuple[dict, dict, dict]:
    """Exact counters as committed: {question: votes}, {poll: {choice: votes}}, {poll: respondents}."""
    votes = {str(pk): n for pk, n in Question.objects.filter(pk__in=list(question_ids))
             .values_list("pk", "vote_count")} if question_ids else {}
    polls, respondents = {}, {}
    if poll_ids:
        for poll_id, choice_id, n in PollChoice.objects.filter(poll__in=list(poll_ids)).values_list(
                "poll_id", "pk", "votes"):
            polls.setdefault(str(poll_id), {})[str(choice_id)] = n
        respondents = {str(pk): n for pk, n in Poll.objects.filter(pk__in=list(poll_ids))
                       .values_list("pk", "respondents")}
    return votes, polls, respondents


# --- the snapshot ------------------------------------------------------------------------------------------------
def room_shared_state(*, session: LiveSessionPage, moderator: bool) -> dict:
    """What every participant (or every moderator) of the room sees alike; cached per hub between changes."""
    state = RoomState.objects.filter(session=session).select_related("current_topic").first()
    windows = list(LiveWindow.objects.filter(session=session))
    questions = Question.objects.filter(session=session).select_related("author", "replied_by")
    if not moderator:
        questions = questions.filter(status__in=[Question.Status.APPROVED, Question.Status.ANSWERED])
    poll = (Poll.objects.filter(session=session)
            .prefetch_related(Prefetch("choices", queryset=PollChoice.objects.order_by("position", "pk")))
            .order_by("-status", "-opened_at", "-pk").first())  # "open" sorts after "closed": -status puts it first
    announcements = list(Announcement.objects.filter(session=session).select_related("author")
                         [:SNAPSHOT_ANNOUNCEMENTS])
    shared = {
        "session": {
            "id": session.pk, "title": session.title, "status": room_status(session),
            "moderation": session.moderation_mode,
            "topic": state.current_topic_id if state else None,
            "started_at": payloads.ms(windows[0].started_at) if windows else payloads.ms(session.start),
            "ended_at": payloads.ms(windows[-1].ended_at) if windows else payloads.ms(session.end),
        },
        "topics": [payloads.topic(t) for t in AgendaTopic.objects.filter(page=session).order_by("sort_order", "pk")],
        "questions": [payloads.question(q, moderator=moderator) for q in questions[:SNAPSHOT_QUESTIONS]],
        "poll": payloads.poll(poll),
        "announcements": [payloads.announcement(a) for a in reversed(announcements)],
    }
    if moderator:
        # Exact sizes of the moderators' lists (the snapshot lists only the newest SNAPSHOT_QUESTIONS questions).
        counts = dict.fromkeys(Question.Status.values, 0)
        counts.update(Question.objects.filter(session=session).order_by().values_list("status")
                      .annotate(n=Count("pk")).values_list("status", "n"))
        shared["question_counts"] = counts
    return shared


def room_personal_states(*, session: LiveSessionPage, members: list[tuple], shared: dict) -> dict[int, dict]:
    """{user pk: this user's part of the snapshot} for `members` = [(user, moderator)] seeing `shared`: own pending
    questions (participants), own votes and questions among those listed, own poll choices. Four queries."""
    listed = {q["id"] for q in shared["questions"]}
    ids = [user.pk for user, _ in members]
    participants = [user.pk for user, moderator in members if not moderator]
    pending = defaultdict(list)
    if participants:
        for q in Question.objects.filter(session=session, author_id__in=participants,
                                         status=Question.Status.PENDING).select_related("author", "replied_by"):
            pending[q.author_id].append(payloads.question(q, moderator=True))
    mine = defaultdict(set)
    for author_id, pk in Question.objects.filter(session=session, author_id__in=ids).values_list("author_id", "pk"):
        mine[author_id].add(pk)
    votes = defaultdict(set)
    for user_id, question_id in Vote.objects.filter(user_id__in=ids, question__session=session).values_list(
            "user_id", "question_id"):
        votes[user_id].add(question_id)
    choices = defaultdict(list)
    if shared["poll"]:
        for user_id, choice_id in PollAnswerChoice.objects.filter(
                answer__poll_id=shared["poll"]["id"], answer__user_id__in=ids).values_list("answer__user_id",
                                                                                            "choice_id"):
            choices[user_id].append(choice_id)
    states = {}
    for user, moderator in members:
        extra = [] if moderator else pending[user.pk]
        seen = listed | {q["id"] for q in extra}
        states[user.pk] = {
            "extra_questions": extra,
            "my_votes": sorted(votes[user.pk] & seen),
            "my_questions": sorted(mine[user.pk] & seen),
            "my_choices": sorted(choices[user.pk]),
        }
    return states
