"""Money on the marketplace's pages: core's one formatter, under the name the
billing code already uses."""

from core.money import format_money as money_display

__all__ = ["money_display"]
