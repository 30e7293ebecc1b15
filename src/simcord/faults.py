"""REST fault injection: latency with jitter, and scripted error responses per route.

Routes are matched as `"METHOD /path"` globs against the concrete request path without the `/api/v10`
prefix, e.g. `"POST /interactions/*/callback"` or `"PATCH /channels/*/messages/*"`.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field


@dataclass
class FaultRule:
    pattern: str
    status: int
    remaining: int
    retry_after: float = 0.5
    is_global: bool = False

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(f"{method} {path}", self.pattern)


@dataclass
class RestFaults:
    latency: float = 0.0
    jitter: float = 0.0
    rules: list[FaultRule] = field(default_factory=list)
    latency_for: dict[str, float] = field(default_factory=dict)  # pattern -> latency, overrides `latency`
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    def inject(
        self,
        pattern: str,
        status: int = 429,
        *,
        count: int = 1,
        retry_after: float = 0.5,
        is_global: bool = False,
    ) -> FaultRule:
        """The next `count` requests matching `pattern` get `status` (429s carry Discord's body and headers)."""
        rule = FaultRule(pattern, status, count, retry_after, is_global)
        self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.remaining > 0 and rule.matches(method, path):
                rule.remaining -= 1
                return rule
        return None

    def delay_for(self, method: str, path: str) -> float:
        base = self.latency
        for pattern, value in self.latency_for.items():
            if fnmatch.fnmatchcase(f"{method} {path}", pattern):
                base = value
        if self.jitter:
            base += self._rng.uniform(0, self.jitter)
        return max(base, 0.0)

    def clear(self) -> None:
        self.rules.clear()
        self.latency_for.clear()
        self.latency = self.jitter = 0.0
