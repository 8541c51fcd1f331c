"""One-to-one matching of predicted and ground-truth boxes (Hungarian on IoU, labels must agree)."""

from __future__ import annotations

from typing import Sequence

from rewards.geometry import Box, box_iou


def _norm_label(label: str) -> str:
    return " ".join(label.lower().split())


def match_boxes(pred_boxes: Sequence[Box], gt_boxes: Sequence[Box],
                pred_labels: Sequence[str] | None = None, gt_labels: Sequence[str] | None = None,
                iou_threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """Pairs ``(pred_index, gt_index, iou)`` of a one-to-one matching that maximises the total IoU
    over eligible pairs: labels equal case-insensitively (when given) and IoU >= ``iou_threshold``.

    Uses ``scipy.optimize.linear_sum_assignment`` (imported only when both sides have several boxes).
    """
    n_pred, n_gt = len(pred_boxes), len(gt_boxes)
    if n_pred == 0 or n_gt == 0:
        return []
    use_labels = pred_labels is not None and gt_labels is not None
    pl = [_norm_label(x) for x in pred_labels] if use_labels else None
    gl = [_norm_label(x) for x in gt_labels] if use_labels else None
    iou = [[0.0] * n_gt for _ in range(n_pred)]
    for i, pb in enumerate(pred_boxes):
        for j, gb in enumerate(gt_boxes):
            if use_labels and pl[i] != gl[j]:
                continue
            v = box_iou(pb, gb)
            if v >= iou_threshold and v > 0:
                iou[i][j] = v
    if n_pred == 1 or n_gt == 1:  # a single row / column: the best eligible pair, no solver needed
        best = max(((i, j) for i in range(n_pred) for j in range(n_gt)), key=lambda ij: iou[ij[0]][ij[1]])
        v = iou[best[0]][best[1]]
        return [(best[0], best[1], v)] if v > 0 else []
    import numpy as np  # numpy and scipy only for this solver: `import rewards` stays light for workers
    from scipy.optimize import linear_sum_assignment

    mat = np.asarray(iou, dtype=float)
    rows, cols = linear_sum_assignment(mat, maximize=True)
    return [(int(i), int(j), float(mat[i, j])) for i, j in zip(rows, cols) if mat[i, j] > 0]
