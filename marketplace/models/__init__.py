"""Marketplace models, one module per purpose."""

from .accounts import User, UserManager

__all__ = ["User", "UserManager"]
