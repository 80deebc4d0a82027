"""Accounts and roles. Email is the login; a person may hold several roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.handles import HANDLE_HELP, STORED_HANDLE_RE, placeholder_handle


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True, is_auditor=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    # The public name: pages, API, file tags and exports show the display name
    # and handle, never the email address (the login).
    handle = models.CharField(
        max_length=40,
        default=placeholder_handle,
        help_text=HANDLE_HELP,
        validators=[RegexValidator(STORED_HANDLE_RE, "Letters, digits and underscores only.")],
    )
    display_name = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log into the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    # Roles: held at once, each opening a part of the product.
    is_fan = models.BooleanField("fan", default=True)
    is_artist = models.BooleanField("artist", default=False)
    is_songwriter = models.BooleanField("songwriter", default=False)
    is_auditor = models.BooleanField("staff auditor", default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="user_handle_ci_unique"),
        ]

    def __str__(self) -> str:
        # str(user) lands in templates, API payloads and Stripe: never the email.
        return self.public_name

    @property
    def public_name(self) -> str:
        return (self.display_name or "").strip() or self.handle

    @property
    def roles(self) -> list[str]:
        pairs = [
            ("fan", self.is_fan),
            ("artist", self.is_artist),
            ("songwriter", self.is_songwriter),
            ("auditor", self.is_auditor),
        ]
        return [name for name, held in pairs if held]

    @property
    def is_rights_holder(self) -> bool:
        return self.is_artist or self.is_songwriter
