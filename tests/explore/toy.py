"""Cheap evaluators for the explore tests, importable by worker processes and Ray (`toy:slow` by
module path, from a sweep YAML run by the CLI, when this folder is on PYTHONPATH).

Points look like {"x": 1.0, "y": 2, "log": "/tmp/calls.txt", "fail_at": 3}: `log` (optional) gets
one line per call, the point's key, so tests can count evaluations; `fail_at` makes x == fail_at
raise.
"""

from __future__ import annotations

from chip2chat.explore import point_key, register
from chip2chat.explore.backends import one_line
from chip2chat.explore.evaluate import VECTOR_EVALUATORS, Results


@register("toy")
def toy(point: dict) -> dict:
    x, y = point["x"], point["y"]
    if point.get("log"):
        with open(point["log"], "a") as f:
            f.write(point_key(point) + "\n")
    if point.get("fail_at") is not None and x == point["fail_at"]:
        raise ValueError(f"x = {x} is\nout of range")
    return {"cost": x * x + y, "speed": x + 2 * y, "label": f"x{x}"}


def toy_many(points) -> Results:
    """`toy` for a PointTable (the vector backend's form): the same results, errors and log lines."""
    outcomes = []
    for point in points:
        try:
            outcomes.append((toy(point), None))
        except ValueError as exc:
            outcomes.append((None, one_line(exc)))
    return Results.of(outcomes, len(points))


VECTOR_EVALUATORS["toy"] = toy_many


def slow(point: dict) -> dict:
    """Sleeps `sleep_s` (default 0.3 s), or `long_sleep_s` from x = `long_from` on unless the
    environment sets TOY_NO_LONG_SLEEP; then logs its key to `log` like `toy`. A point still
    running when the sweep was stopped leaves no line. For the Ctrl-C and kill tests: the long
    points show whether a stop waits for the points in progress."""
    import os
    import time

    long = point["x"] >= point.get("long_from", float("inf")) and not os.environ.get("TOY_NO_LONG_SLEEP")
    time.sleep(point.get("long_sleep_s", 30.0) if long else point.get("sleep_s", 0.3))
    if point.get("log"):
        with open(point["log"], "a") as f:
            f.write(point_key(point) + "\n")
    return {"cost": point["x"] * point["x"]}
