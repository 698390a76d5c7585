from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_post_parameters

from academy import ratelimit

from .forms import LoginForm, ProfileForm, SignupForm

LOGIN_THROTTLED = gettext_noop("Too many log-in attempts. Please wait %(minutes)s minutes and try again.")


def _login_keys(request) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    return [f"login:ip:{ratelimit.client_ip(request)}", f"login:user:{username}"]


class LoginView(auth_views.LoginView):
    """Django's log-in view, limited to LOGIN_RATE_LIMIT failed attempts per username and per address."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        limit = settings.LOGIN_RATE_LIMIT
        if any(ratelimit.exceeded(key, limit=limit) for key in _login_keys(request)):
            form = self.get_form()
            form.errors.clear()
            minutes = max(1, settings.LOGIN_RATE_WINDOW // 60)
            form.add_error(None, _(LOGIN_THROTTLED) % {"minutes": minutes})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in _login_keys(self.request):
            ratelimit.hit(key, limit=settings.LOGIN_RATE_LIMIT, window=settings.LOGIN_RATE_WINDOW)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    template_name = "accounts/logged_out.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect("/")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to Linkage Academy, %(name)s.") % {"name": user.display_name})
        next_url = request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = "/"
        return redirect(next_url)
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile has been saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
