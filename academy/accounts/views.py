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
from academy.notifications import notify

from . import throttle
from .backends import SESSION_BACKEND
from . import phone_reset
from .forms import (
    CODE_WRONG,
    LoginForm,
    PasswordResetForm,
    PhoneResetConfirmForm,
    PhoneResetRequestForm,
    ProfileForm,
    SignupForm,
)
from .models import User

PHONE_RESET_SESSION_KEY = "phone_reset_phone"


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

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "phone_form": PhoneResetRequestForm(auto_id="id_phone_%s")}

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


def _reset_user_by_phone(phone: str):
    """The active account with this E.164 number, or None."""
    return User._default_manager.filter(phone=phone, is_active=True).first() if phone else None


@sensitive_post_parameters("phone")
def password_reset_phone(request):
    """Ask for a code by SMS. The answer is the same whether or not the number has an account (the code page); at
    most PASSWORD_RESET_RATE_LIMIT requests per client address (shared with the e-mail reset, 429 page) and
    PASSWORD_RESET_ACCOUNT_LIMIT codes per number (silently) within PASSWORD_RESET_RATE_WINDOW seconds."""
    form = PhoneResetRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not ratelimit.hit(f"reset:ip:{ratelimit.client_ip(request)}", limit=settings.PASSWORD_RESET_RATE_LIMIT,
                             window=settings.PASSWORD_RESET_RATE_WINDOW):
            return throttle.lockout_response(request)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            number = hashlib.sha256(phone.encode()).hexdigest()[:32]
            if ratelimit.hit(f"reset:phone:{number}", limit=settings.PASSWORD_RESET_ACCOUNT_LIMIT,
                             window=settings.PASSWORD_RESET_RATE_WINDOW):
                user = _reset_user_by_phone(phone)
                if user is not None:
                    code = phone_reset.code_issue(user)
                    notify(template="accounts/password_reset_code", context={"code": code}, phone=phone,
                           channels=("sms",))
            request.session[PHONE_RESET_SESSION_KEY] = phone
            return redirect("accounts:password_reset_phone_confirm")
    return render(request, "accounts/password_reset_phone.html", {"form": form})


@sensitive_post_parameters("code", "new_password1", "new_password2")
def password_reset_phone_confirm(request):
    """The code from the SMS and a new password. A wrong code counts against the code (void after 5) and as a failed
    log-in for the account and address (academy/accounts/throttle.py). Like the e-mail reset: no log-in afterwards;
    the new password changes the session hash, so the account's other sessions end."""
    phone = request.session.get(PHONE_RESET_SESSION_KEY)
    if not isinstance(phone, str) or not phone:
        return redirect("accounts:password_reset_phone")
    user = _reset_user_by_phone(phone)
    form = PhoneResetConfirmForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        identity = f"user:{user.pk}" if user is not None else phone
        refusal = throttle.login_refusal(request, identity)
        if refusal:
            request.login_refusal = refusal
            return throttle.lockout_response(request)
        if form.is_valid():
            if phone_reset.code_check(user, form.cleaned_data["code"]):
                form.save()
                del request.session[PHONE_RESET_SESSION_KEY]
                return redirect("accounts:password_reset_complete")
            throttle.login_failure_record(request, identity)
            form.add_error("code", CODE_WRONG)
    return render(request, "accounts/password_reset_phone_confirm.html",
                  {"form": form, "phone_masked": phone[:-8] + "****" + phone[-4:]})


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
