import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from academy import ratelimit

from . import throttle
from .backends import SESSION_BACKEND
from .forms import LoginForm, PasswordResetForm, ProfileForm, SignupForm


class LoginView(auth_views.LoginView):
    """Django's log-in view; a username or a phone number. Throttled by django-axes (academy/accounts/throttle.py)."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail. Throttled per client address (429 page) and per account (silently: the page
    is the same whether or not a message went out, so it tells nobody which addresses have an account)."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        if not ratelimit.hit(f"reset:ip:{ratelimit.client_ip(request)}", limit=settings.PASSWORD_RESET_RATE_LIMIT,
                             window=settings.PASSWORD_RESET_RATE_WINDOW):
            return throttle.lockout_response(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        account = hashlib.sha256(email.encode()).hexdigest()[:32]
        if not ratelimit.hit(f"reset:account:{account}", limit=settings.PASSWORD_RESET_ACCOUNT_LIMIT,
                             window=settings.PASSWORD_RESET_RATE_WINDOW):
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the e-mail. A wrong link counts as a failed log-in for the address (and the account it names),
    under the same throttle as the log-in forms."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def dispatch(self, *args, **kwargs):
        request = self.request
        identity = throttle.login_identity(self._username(kwargs.get("uidb64", "")))
        refusal = throttle.login_refusal(request, identity)
        if refusal:
            request.login_refusal = refusal
            return throttle.lockout_response(request)
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and response.status_code == 200:  # a valid link redirects (302) to the form
            throttle.login_failure_record(request, identity)
        return response

    def _username(self, uidb64: str) -> str:
        user = self.get_user(uidb64) if len(uidb64) < 64 else None
        return user.username if user is not None else ""


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


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
        login(request, user, backend=SESSION_BACKEND)
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
