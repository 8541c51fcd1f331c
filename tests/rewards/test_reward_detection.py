"""`detection` reward: the three variants by hand, matching rules, empties and the cap."""

from __future__ import annotations

import json

import pytest
from tests.rewards.helpers import NORM_FRAME, QWEN25_FRAME, answer, make_ctx

from rewards import get_reward

det = get_reward("detection")
GT = {"objects": [{"bbox": [0, 0, 10, 10], "label": "cat"}, {"bbox": [20, 20, 30, 30], "label": "dog"}]}
PREDS = [{"bbox_2d": [0, 0, 10, 10], "label": "cat", "confidence": 0.9},     # IoU 1.0 with cat
         {"bbox_2d": [20, 20, 30, 28], "label": "dog", "confidence": 0.6},   # IoU 0.8 with dog
         {"bbox_2d": [50, 50, 60, 60], "label": "cat", "confidence": 0.3}]   # false alarm


def score(preds, solution=GT, frame=None, **kw):
    body = preds if isinstance(preds, str) else json.dumps(preds)
    return det(answer(body), make_ctx(solution, frame), **kw)


def test_visual_rft_variant():
    r = score(PREDS)
    assert r.score == pytest.approx((1.0 + 0.8) / 3)
    assert r.components == pytest.approx({"matched": 2, "precision": 2 / 3, "recall": 1.0, "mean_iou": 0.9})


def test_confidence_variant():
    assert score(PREDS, variant="confidence").score == pytest.approx((0.9 + 0.6 + 0.7) / 3)
    no_conf = [{k: v for k, v in p.items() if k != "confidence"} for p in PREDS]
    assert score(no_conf, variant="confidence").score == pytest.approx(2 / 3)  # default 1.0
    assert score(no_conf, variant="confidence", default_confidence=0.5).score == pytest.approx(0.5)


def test_vlm_r1_variant():
    assert score(PREDS, variant="vlm_r1").score == pytest.approx(1 - 0.5 * 1 / 3)
    assert score(PREDS[:1], variant="vlm_r1").score == pytest.approx(1 - 0.5 * 1 / 2)
    assert score(PREDS, variant="vlm_r1", w_miss=0.2, w_false_alarm=0.8).score == pytest.approx(1 - 0.8 / 3)
    with pytest.raises(ValueError):
        score(PREDS, variant="vlm_r1", w_miss=0.8, w_false_alarm=0.8)


def test_labels_case_insensitive_and_must_match():
    assert score([{"bbox_2d": [0, 0, 10, 10], "label": "CAT"}], solution={"objects": GT["objects"][:1]}).score == 1.0
    assert score([{"bbox_2d": [0, 0, 10, 10], "label": "dog"}], solution={"objects": GT["objects"][:1]}).score == 0.0


def test_iou_below_half_is_not_a_match_and_matching_is_one_to_one():
    one = {"objects": GT["objects"][:1]}
    assert score([{"bbox_2d": [0, 0, 10, 4], "label": "cat"}], solution=one).score == 0.0
    dup = [{"bbox_2d": [0, 0, 10, 10], "label": "cat"}, {"bbox_2d": [0, 0, 10, 9], "label": "cat"}]
    r = score(dup, solution=one)
    assert r.components["matched"] == 1 and r.score == pytest.approx(1.0 / 2)


def test_empty_lists():
    assert score([], solution={"objects": []}).score == 1.0
    assert score([], solution=GT).score == 0.0
    assert score(PREDS, solution={"objects": []}).score == 0.0
    assert score([], solution={"objects": []}, variant="confidence").score == 1.0


def test_cap_on_predictions_scores_zero():
    many = [{"bbox_2d": [0, 0, 10, 10], "label": "cat"}] * 5
    r = score(many, max_predictions=4)
    assert r.score == 0.0 and "cap" in r.reason


def test_frames_and_clipping():
    # Qwen2.5-VL resized pixels: scale 0.448 both ways
    preds = [{"bbox_2d": [0, 0, 4.48, 4.48], "label": "cat"}, {"bbox_2d": [8.96, 8.96, 13.44, 13.44], "label": "dog"}]
    assert score(preds, frame=QWEN25_FRAME).score == pytest.approx(1.0)
    preds = [{"bbox_2d": [0, 0, 10, 20], "label": "cat"}, {"bbox_2d": [20, 40, 30, 60], "label": "dog"}]
    assert score(preds, frame=NORM_FRAME).score == pytest.approx(1.0)
    # NORM [-50, -50, 10, 10] -> original [-50, -25, 10, 5] -> clipped [0, 0, 10, 5]: IoU 50 / 100
    # (unclipped it would be 50 / 1800, no match)
    assert score([{"bbox_2d": [-50, -50, 10, 10], "label": "cat"}], solution={"objects": GT["objects"][:1]},
                 frame=NORM_FRAME).score == pytest.approx(0.5)


@pytest.mark.parametrize("body", ["cats everywhere", '[{"bbox_2d": [0, 0, 10, NaN], "label": "cat"}]',
                                  '[{"bbox_2d": [0, 0, 10, 1e300], "label": "cat"}]',
                                  '[{"bbox_2d": [0, 0, 10, 10], "label": "cat", "confidence": "high"}]'])
def test_unparseable_scores_zero_with_reason(body):
    r = score(body)
    assert r.score == 0.0 and r.reason


def test_several_answer_blocks():
    r = det("<answer>[]</answer><answer>[]</answer>", make_ctx({"objects": []}))
    assert r.score == 0.0 and "several" in r.reason


def test_unknown_variant_is_a_config_error():
    with pytest.raises(ValueError, match="variant"):
        score(PREDS, variant="map")
