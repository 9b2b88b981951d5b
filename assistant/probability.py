"""Small probability helpers shared by the diagnosis steps."""

from __future__ import annotations


def noisy_or(*probabilities: float) -> float:
    """The probability that at least one of independent causes fires: ``1 - prod(1 - p)``.

    >>> noisy_or(0.5, 0.5)
    0.75
    >>> noisy_or()
    0.0
    """
    if not probabilities:
        return 0.0
    combined = probabilities[0]
    for p in probabilities[1:]:  # one at a time: noisy_or(noisy_or(a, b), c) is the same float as noisy_or(a, b, c)
        combined = 1.0 - (1.0 - combined) * (1.0 - p)
    return combined


def normalise(scores: dict[str, float]) -> dict[str, float]:
    """Non-negative scores divided by their sum (uniform when nothing is positive).

    >>> normalise({"a": 3.0, "b": 1.0, "c": -2.0})
    {'a': 0.75, 'b': 0.25, 'c': 0.0}
    """
    clipped = {k: max(v, 0.0) for k, v in scores.items()}
    total = sum(clipped.values())
    if total <= 0:
        return {k: 1.0 / len(scores) for k in scores} if scores else {}
    return {k: v / total for k, v in clipped.items()}


__all__ = ["noisy_or", "normalise"]
