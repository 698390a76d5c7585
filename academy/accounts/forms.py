from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from academy.text import text_clean

from .models import TYPED_TEXT_FIELDS, User
from .phones import phone_normalise, phone_or_none

PROFILE_FIELDS = ["real_name", "phone", "email", "role", "volunteer_category", "organisation", "city"]

PHONE_TAKEN = _("Another account already uses this phone number.")
EMAIL_TAKEN = _("Another account already uses this e-mail address.")
USERNAME_IS_PHONE = _("A username cannot be a phone number: put your phone number in the phone field.")

class TypedTextMixin:
    """The free text people type about themselves is cleaned by academy/text.py's one rule (control and bidi
    characters removed; a required field that is blank once invisible characters are set aside is refused)."""

    def clean(self):
        cleaned = super().clean()
        for name in TYPED_TEXT_FIELDS:
            if name in self.fields and cleaned.get(name):
                try:
                    cleaned[name] = text_clean(cleaned[name], required=self.fields[name].required)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned



class ContactFieldsMixin:
    """Phone numbers are stored in E.164 and unique; e-mail addresses are unique whatever their case."""

    def clean_phone(self):
        raw = self.cleaned_data.get("phone") or ""
        if not raw.strip():
            return ""
        phone = phone_normalise(raw)
        if User._default_manager.filter(phone=phone).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(PHONE_TAKEN, code="phone_taken")
        return phone

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip()
        if email and User._default_manager.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email


class SignupForm(TypedTextMixin, ContactFieldsMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", *PROFILE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Organisers are appointed by staff, not self-declared.
        self.fields["role"].choices = [
            (value, label) for value, label in User.Role.choices if value != User.Role.ORGANISER
        ]
        self.fields["real_name"].required = True

    def clean_username(self):
        username = super().clean_username()
        if phone_or_none(username or ""):
            raise forms.ValidationError(USERNAME_IS_PHONE, code="username_is_phone")
        return username

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            raise forms.ValidationError(_("Give a phone number or an e-mail address so that organisers can reach you."))
        return cleaned


class ProfileForm(TypedTextMixin, ContactFieldsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = PROFILE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.role != User.Role.ORGANISER:
            self.fields["role"].choices = [
                (value, label) for value, label in User.Role.choices if value != User.Role.ORGANISER
            ]


class LoginForm(AuthenticationForm):
    """Django's form, with a username or a phone number (academy/accounts/backends.py)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Please enter a correct username or phone number and password."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or phone number")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form; at most one message per request (e-mail addresses are unique whatever their case)."""

    def get_users(self, email):
        return list(super().get_users(email))[:1]


class PhoneResetRequestForm(forms.Form):
    """The phone number of an account that forgot its password, in any written form."""

    phone = forms.CharField(label=_("Phone number"), max_length=32)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})

    def clean_phone(self):
        return phone_normalise(self.cleaned_data["phone"])


CODE_INVALID = _("Enter the 6-digit code from the SMS.")
CODE_WRONG = _("This code is wrong or has expired. Check the SMS or ask for a new code.")


class PhoneResetConfirmForm(auth_forms.SetPasswordForm):
    """The code from the SMS and a new password twice (Django's password rules). `user` may be None (an unknown
    number): the form still validates, so the page answers the same; the view refuses every code then."""

    code = forms.CharField(label=_("Code from the SMS"), max_length=64)
    field_order = ["code", "new_password1", "new_password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none"}
        )
        self.order_fields(self.field_order)

    def clean_code(self):
        from .phone_reset import code_clean

        code = code_clean(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(CODE_INVALID, code="code_invalid")
        return code
