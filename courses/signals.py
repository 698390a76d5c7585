"""Signals the courses app sends.

course_completed: a course was completed, exactly once per enrolment. Sent after the transaction that recorded the
Completion commits (transaction.on_commit), with sender=Completion and completion=<the Completion>.
Receivers (the certificates app) must not assume they run inside a transaction.
"""
from django.dispatch import Signal

course_completed = Signal()
