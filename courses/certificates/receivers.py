"""Issue the certificate when a course is completed (courses.signals.course_completed, sent after commit)."""
import logging

from .services import certificate_issue

logger = logging.getLogger(__name__)


def issue_on_completion(sender, completion, **kwargs):
    # The completion is already committed: a failure here must not turn the learner's request into an error page.
    # It is logged, and an organiser's bulk issue for the course picks the completion up later.
    try:
        certificate_issue(completion=completion)
    except Exception:
        logger.exception("Could not issue the certificate of completion %s", completion.pk)
