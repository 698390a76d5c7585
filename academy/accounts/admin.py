from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Profile"), {"fields": ("real_name", "phone", "role", "volunteer_category", "organisation", "city")}),
    )
    list_display = ("username", "real_name", "role", "volunteer_category", "organisation", "city", "is_staff")
    list_filter = ("role", "volunteer_category", "is_staff", "groups")
    search_fields = ("username", "real_name", "phone", "email", "organisation")
