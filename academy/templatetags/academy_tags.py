from django import template

from academy.sections import section_url as _section_url

register = template.Library()


@register.simple_tag
def section_url(label: str) -> str | None:
    """The URL of the live index page of type `label` ("handbook.HandbookPage"), or None."""
    return _section_url(label)


@register.simple_tag(takes_context=True)
def nav_current(context, href: str | None, unless: str = "") -> str:
    """`aria-current` for a navigation link: "page" on the page itself, "true" inside its section, else nothing.

    The home page ("/") is current only on itself; `unless` names a sub-section with a link of its own (课程 is not
    current on 我的学习). Written as an attribute: <a href="…"{% nav_current href %}>.
    """
    from django.utils.safestring import mark_safe

    request = context.get("request")
    if not href or request is None:
        return ""
    path = request.path
    if path == href:
        return mark_safe(' aria-current="page"')
    if href != "/" and path.startswith(href) and not (unless and path.startswith(unless)):
        return mark_safe(' aria-current="true"')
    return ""
