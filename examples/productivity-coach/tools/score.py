#!/usr/bin/env python3
"""CoachScorer: scores a UsageSummary or a FocusStreakReached as a CoachScore.

The custom-node protocol of `flowc run` / `flowc test` (docs/runtime.md):
one input event (standard EventBridge envelope) as a JSON line on stdin,
the emitted events as JSON lines on stdout, a non-zero exit on failure
(the last stderr line is reported). Run with `sh -c` from the project
directory. Deterministic: `scored_at` is the input event's time.

UsageSummary (half an hour of work usage, see UsageWindow):
  deep work       = active time in development, writing or design
  focus_minutes   = deep work / 60 000 ms
  context_switches= changes of application between consecutive samples
  score = 100 × (0.5 × deep share of active time
               + 0.3 × min(1, longest stretch / 25 min)
               + 0.2 × (1 − min(1, switches per active hour / 20)))

FocusStreakReached (N completed, uninterrupted focus blocks of at least
25 minutes, see the route CompletedFocus):
  focus_minutes = 25 × N, context_switches = 0, score = min(100, 70 + 5 × N)

band: score < 40 → "low", < 70 → "medium", otherwise "high".
"""

import json
import sys
from datetime import datetime

DEEP_WORK = {"development", "writing", "design"}
POMODORO_MS = 25 * 60 * 1000
FRAGMENTED_SWITCHES_PER_HOUR = 20

TYPE_NAMES = {int: "a whole number", float: "a number", str: "a string", dict: "an object", list: "a list"}


class BadInput(Exception):
    pass


def field(obj, path, kind, what):
    """The value at `path` (dot-separated) in `obj`, checked against `kind`."""
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise BadInput(f"{what}: missing `{path}`")
        value = value[part]
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise BadInput(f"{what}: `{path}` should be {TYPE_NAMES[kind]}, found {value!r}")
    return value


def timestamp(obj, path, what):
    text = field(obj, path, str, what)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what}: `{path}` is not an RFC 3339 timestamp: {text!r}")
    return text


def band(score):
    if score < 40:
        return "low"
    if score < 70:
        return "medium"
    return "high"


def score_usage(detail):
    what = "UsageSummary"
    records = field(detail, "data.records", list, what)
    if not records:
        raise BadInput(f"{what}: `data.records` is empty")
    apps = []
    total_ms = deep_ms = 0
    for i, record in enumerate(records):
        where = f"{what} record {i}"
        if not isinstance(record, dict):
            raise BadInput(f"{where}: not an object")
        active_ms = field(record, "active_ms", int, where)
        if active_ms < 0:
            raise BadInput(f"{where}: negative `active_ms` {active_ms}")
        apps.append(field(record, "app", str, where))
        total_ms += active_ms
        if field(record, "category", str, where) in DEEP_WORK:
            deep_ms += active_ms
    # The aggregate `max` is null when no sample had a number: use the records.
    if detail["data"].get("longest_stretch_ms") is None:
        longest_ms = max(r["active_ms"] for r in records)
    else:
        longest_ms = field(detail, "data.longest_stretch_ms", float, what)

    switches = sum(1 for a, b in zip(apps, apps[1:]) if a != b)
    deep_share = deep_ms / total_ms if total_ms else 0.0
    stretch = min(1.0, longest_ms / POMODORO_MS)
    switches_per_hour = switches / (total_ms / 3_600_000) if total_ms else 0.0
    calm = 1.0 - min(1.0, switches_per_hour / FRAGMENTED_SWITCHES_PER_HOUR)
    score = 100 * (0.5 * deep_share + 0.3 * stretch + 0.2 * calm)
    return score, deep_ms / 60_000, switches


def score_streak(detail):
    what = "FocusStreakReached"
    streak = field(detail, "data.streak", int, what)
    if streak < 1:
        raise BadInput(f"{what}: `data.streak` must be at least 1, got {streak}")
    timestamp(detail, "data.since", what)
    timestamp(detail, "data.until", what)
    return min(100.0, 70.0 + 5.0 * streak), 25.0 * streak, 0


SCORERS = {"UsageSummary": score_usage, "FocusStreakReached": score_streak}


def main():
    line = sys.stdin.readline()
    if not line.strip():
        raise BadInput("no input event on stdin")
    try:
        event = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadInput(f"the input is not a JSON event: {e}")
    if not isinstance(event, dict):
        raise BadInput("the input is not a JSON object")
    kind = event.get("detail-type")
    if kind not in SCORERS:
        raise BadInput(f"cannot score a {kind!r} event (expected one of {', '.join(SCORERS)})")
    time = timestamp(event, "time", kind)
    detail = field(event, "detail", dict, kind)
    profile = field(detail, "profile", dict, kind)
    field(detail, "profile.user_id", str, kind)
    field(detail, "profile.session_id", str, kind)
    field(detail, "data", dict, kind)

    score, focus_minutes, switches = SCORERS[kind](detail)
    score = round(score, 1)
    out = {
        "detail-type": "coach.score",
        "detail": {
            "profile": {k: v for k, v in profile.items() if k in ("user_id", "session_id", "team")},
            "data": {
                "score": float(score),
                "band": band(score),
                "focus_minutes": round(float(focus_minutes), 2),
                "context_switches": switches,
                "scored_at": time,
            },
        },
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        print(f"score.py: bad input: {e}", file=sys.stderr)
        sys.exit(1)
