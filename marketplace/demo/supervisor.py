"""A small process supervisor for the one-command demo (`run_demo`).

One crashed child must not take the whole demo down: when a child exits on
its own, it is started again after a backoff (1 s, 2 s, 4 s… up to a cap),
and the supervisor says so. A child that stayed up a while before dying
starts again from the shortest delay. Only Ctrl-C (or `stop`) ends them all.
Knows nothing of Django, so it is tested with real subprocesses.

A child started with a log file writes there (stdout and stderr), so the
console stays readable; the supervisor names the file when the child dies.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None
    history: list[int] = field(default_factory=list)  # exit codes, oldest first
    log_path: Path | None = None


class Supervisor:
    def __init__(
        self,
        *,
        env: dict | None = None,
        say: Callable[[str], None] = print,
        backoff_s: float = 1.0,
        backoff_max_s: float = 30.0,
        stable_after_s: float = 60.0,
    ):
        self.env, self.say = env, say
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.stable_after_s = stable_after_s
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], *, log_path: Path | None = None) -> Child:
        child = Child(name=name, argv=list(argv), log_path=log_path)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        if child.log_path is None:
            self.say(f"==> starting {child.name}: {' '.join(child.argv)}")
            child.proc = subprocess.Popen(child.argv, env=self.env)
        else:
            child.log_path.parent.mkdir(parents=True, exist_ok=True)
            # Appended, so a restarted child's log keeps what came before the crash.
            with open(child.log_path, "ab") as log:
                child.proc = subprocess.Popen(
                    child.argv,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        child.started_at = time.monotonic()
        child.restart_at = None

    def poll(self) -> None:
        """Notice exited children and restart those whose backoff is over."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._spawn(child)
                continue
            code = child.proc.poll() if child.proc else None
            if code is None:
                continue
            child.history.append(code)
            if now - child.started_at >= self.stable_after_s:
                child.restarts = 0  # it ran fine for a while: not a crash loop
            delay = min(self.backoff_s * 2**child.restarts, self.backoff_max_s)
            child.restart_at = now + delay
            where = f" Its log: {child.log_path}." if child.log_path else ""
            self.say(
                f"{child.name} exited with {code}; restarting it in {delay:g} s "
                f"(restart #{child.restarts + 1}); the rest keeps running.{where}"
            )

    def stop(self, timeout_s: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.proc and child.proc.poll() is None:
                child.proc.terminate()
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
