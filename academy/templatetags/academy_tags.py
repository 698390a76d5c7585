from django import template

from academy.sections import section_url as _section_url

register = template.Library()


@register.simple_tag
def section_url(label: str) -> str | None:
    """The URL of the live index page of type `label` ("handbook.HandbookPage"), or None."""
    return _section_url(label)
