from django import template

from academy.accounts.login_context import login_reason

register = template.Library()


@register.simple_tag(takes_context=True)
def login_reason_for(context, next_url):
    """{% login_reason_for next as reason %}: what the visitor was going to (see academy.accounts.login_context)."""
    request = context.get("request")
    if request is None:
        return None
    return login_reason(request, next_url or "")
