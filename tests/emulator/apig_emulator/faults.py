"""Fault injection: latency, throttling, server errors and broken connections at seeded rates.

A configuration is `{"seed": N, "rules": [rule, ...]}` (a bare list of rules is accepted too). A rule:

    class:         reads | writes | exports | auth | all      (which requests it applies to)
    op:            optional SDK operation name, e.g. BatchPublishOrOfflineApiV2
    kind:          latency | 429 | 500 | 503 | drop | lost_response | late_apply | expire_tokens
    rate:          probability 0..1 for each matching request (default 1)
    latency_ms:    for `latency`
    retry_after:   seconds, sent as Retry-After with 429 (default 1) and, when given, 503
    max_count:     stop after injecting this many times
    answer:        for `late_apply`: drop (default) | 504 | 502 | timeout
    delay_seconds: for `late_apply`: when the write is applied (default 2)
    hold_seconds:  for `late_apply` with `answer: timeout`: how long the connection is held before a
                   504 (default 35, longer than the collection's default 30 s timeout)

`drop` closes the connection before the request is handled; `lost_response` handles the request
(the write is applied) and then closes the connection without answering. `late_apply` (writes only)
fails the answer now and applies the write `delay_seconds` later, as a gateway still processing it
would; reads do not show it until then. `expire_tokens` expires every IAM token issued so far just
before the request is authenticated (a token that runs out mid-run: a request carrying one gets 401).
Latency and expire_tokens rules add their effect and let evaluation continue; the first other rule
that fires decides the outcome. Decisions depend only on the seed and the order of
requests, so a sequential run is reproducible.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("latency", "429", "500", "503", "drop", "lost_response", "late_apply", "expire_tokens")
CLASSES = {"reads": "read", "writes": "write", "exports": "export", "auth": "auth", "all": None}
LATE_ANSWERS = ("drop", "504", "502", "timeout")


@dataclass
class Rule:
    request_class: str | None
    op: str | None
    kind: str
    rate: float
    latency_ms: float
    retry_after: float | None
    max_count: int | None
    answer: str = "drop"
    delay_seconds: float = 2.0
    hold_seconds: float = 35.0
    fired: int = 0

    @classmethod
    def parse(cls, raw: dict) -> "Rule":
        request_class = str(raw.get("class", "all"))
        if request_class not in CLASSES:
            raise ValueError(f"fault rule class must be one of {sorted(CLASSES)}, got {request_class!r}")
        kind = str(raw.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"fault rule kind must be one of {KINDS}, got {kind!r}")
        rate = float(raw.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rule rate must be between 0 and 1")
        retry_after = raw.get("retry_after", 1 if kind == "429" else None)
        max_count = raw.get("max_count")
        answer = str(raw.get("answer", "drop"))
        delay_seconds, hold_seconds = float(raw.get("delay_seconds", 2)), float(raw.get("hold_seconds", 35))
        if kind == "late_apply":
            if request_class not in ("writes", "all"):
                raise ValueError("late_apply applies to writes only")
            if answer not in LATE_ANSWERS:
                raise ValueError(f"late_apply answer must be one of {LATE_ANSWERS}, got {answer!r}")
            if delay_seconds < 0 or hold_seconds < 0:
                raise ValueError("delay_seconds and hold_seconds must not be negative")
        return cls(CLASSES[request_class], raw.get("op"), kind, rate, float(raw.get("latency_ms", 0)),
                   None if retry_after is None else float(retry_after),
                   None if max_count is None else int(max_count), answer, delay_seconds, hold_seconds)

    def matches(self, op: str, request_class: str) -> bool:
        if self.request_class is not None and self.request_class != request_class:
            return False
        if self.kind == "late_apply" and request_class != "write":
            return False
        if self.op is not None and self.op != op:
            return False
        return self.max_count is None or self.fired < self.max_count

    def describe(self) -> dict:
        return {"kind": self.kind, "class": self.request_class or "all", "op": self.op}


@dataclass
class Decision:
    latency_ms: float = 0.0
    rule: Rule | None = None
    expire_tokens: bool = False

    @property
    def kind(self) -> str | None:
        return self.rule.kind if self.rule else None

    def label(self) -> str | None:
        """What the request log records as the injected fault."""
        if self.rule is not None:
            return self.rule.kind
        if self.expire_tokens:
            return "expire_tokens"
        return "latency" if self.latency_ms else None


class FaultInjector:
    def __init__(self, config: dict | list | None = None, seed: int | None = None):
        self._lock = threading.Lock()
        self.configure(config, seed)

    def configure(self, config: dict | list | None, seed: int | None = None) -> None:
        """Replace the rules; an empty config clears them. The seed restarts the random sequence."""
        if isinstance(config, list):
            config = {"rules": config}
        config = config or {}
        rules = [Rule.parse(raw) for raw in config.get("rules", [])]
        chosen_seed = config.get("seed", seed if seed is not None else 0)
        with self._lock:
            self.rules = rules
            self.seed = int(chosen_seed)
            self._random = random.Random(self.seed)
            self.config = {"seed": self.seed, "rules": list(config.get("rules", []))}

    def decide(self, op: str, request_class: str) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in self.rules:
                if not rule.matches(op, request_class):
                    continue
                if self._random.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    decision.latency_ms += rule.latency_ms
                    continue
                if rule.kind == "expire_tokens":
                    decision.expire_tokens = True
                    continue
                decision.rule = rule
                break
        return decision
