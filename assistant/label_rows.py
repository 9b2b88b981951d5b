"""Growing a count model's label axis when learning meets a label it has not seen."""

from __future__ import annotations

import numpy as np


def register_labels(labels: list[str], index: dict[str, int], names: list[str], counts: np.ndarray,
                    per_label: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Give each label not yet in ``index`` the next position: a zero row of ``counts`` and a zero at the end of each
    per-label vector. Returns the grown arrays (``index`` and ``names`` are extended in place)."""
    for lab in labels:
        if lab not in index:
            index[lab] = len(names)
            names.append(lab)
            counts = np.vstack([counts, np.zeros((1, counts.shape[1]))])
            per_label = [np.append(v, 0.0) for v in per_label]
    return counts, per_label


__all__ = ["register_labels"]
