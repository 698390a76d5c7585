"""Signals the handbook sends for other apps (courses) to listen to; the handbook imports none of them.

`chapter_read`: sent once per reader and chapter, after the transaction that recorded the read has committed,
with sender=ChapterPage, user=<User>, chapter=<ChapterPage>.
"""
from django.dispatch import Signal

chapter_read = Signal()
