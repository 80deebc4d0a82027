"""Every setting the apps read is declared once, in config/settings/base.py.

App code reads `settings.X` directly: no `getattr(settings, "X", default)`
(a second, silent default that can disagree with base.py) and no
`os.environ`/`os.getenv` reads (the environment is read by the settings
only, so one place lists every variable: base.py and .env.example). Copying
the whole environment for a child process (`{**os.environ, ...}`) is not a
read of a setting and stays allowed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import global_settings

import config.settings.base as base

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "catalog", "remixing", "royalties", "marketplace")
# Attributes of Django's settings object itself rather than settings.
SETTINGS_OBJECT_ATTRIBUTES = {"SETTINGS_MODULE"}


def app_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def forbidden_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Name)
                and func.id == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "settings"
            ):
                found.append((node.lineno, "getattr(settings, ...)"))
            if isinstance(func, ast.Attribute) and _is_os_environ(func.value):
                found.append((node.lineno, f"os.environ.{func.attr}(...)"))
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            ):
                found.append((node.lineno, "os.getenv(...)"))
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            found.append((node.lineno, "os.environ[...]"))
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names}
            if names & {"environ", "getenv"}:
                found.append((node.lineno, "from os import environ/getenv"))
    return found


def settings_read(tree: ast.AST) -> set[tuple[int, str]]:
    return {
        (node.lineno, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "settings"
        and re.fullmatch(r"[A-Z][A-Z0-9_]*", node.attr)
    }


def test_app_code_reads_no_environment_and_no_settings_with_a_default():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in app_modules()
        for line, what in forbidden_reads(ast.parse(path.read_text()))
    ]
    assert offences == []


def test_every_setting_app_code_reads_is_declared_in_base():
    undeclared = [
        f"{path.relative_to(ROOT)}:{line}: settings.{name}"
        for path in app_modules()
        for line, name in sorted(settings_read(ast.parse(path.read_text())))
        if not hasattr(base, name)
        and not hasattr(global_settings, name)
        and name not in SETTINGS_OBJECT_ATTRIBUTES
    ]
    assert undeclared == []


def test_the_scan_finds_each_kind_of_forbidden_read():
    source = "\n".join(
        [
            "import os",
            "from os import environ",
            "a = getattr(settings, 'X', 1)",
            "b = os.environ.get('Y')",
            "c = os.environ['Z']",
            "d = os.getenv('W')",
            "e = {**os.environ, 'K': 'v'}",  # a child's environment: allowed
        ]
    )
    kinds = [what for _line, what in forbidden_reads(ast.parse(source))]
    assert kinds == [
        "from os import environ/getenv",
        "getattr(settings, ...)",
        "os.environ.get(...)",
        "os.environ[...]",
        "os.getenv(...)",
    ]
