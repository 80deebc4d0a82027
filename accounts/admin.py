"""Admin: users with their roles and public names."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from .models import User


class ClearmixUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class ClearmixUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = ClearmixUserChangeForm
    add_form = ClearmixUserCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "handle",
        "display_name",
        "is_fan",
        "is_artist",
        "is_songwriter",
        "is_auditor",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_fan", "is_artist", "is_songwriter", "is_auditor", "is_staff", "is_active"]
    search_fields = ["email", "handle", "display_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["handle", "display_name"]}),
        ("Roles", {"fields": ["is_fan", "is_artist", "is_songwriter", "is_auditor"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "password1",
                    "password2",
                    "is_fan",
                    "is_artist",
                    "is_songwriter",
                ],
            },
        )
    ]
