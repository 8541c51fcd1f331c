"""Rows the policy did not sample (expert demonstrations, injected ground truth, old rollouts) in the
GRPO update: their objective (:mod:`.objective`), their advantages (:mod:`.advantage`), the
trainer's hooks (:mod:`.recipe`), ReLIFT (:mod:`.relift`), replay (:mod:`.remix`) with ReMix's
KL-Convex constraint (:mod:`.kl_convex`), and Prefix-RFT's trainer side (:mod:`.prefix_rft`).
docs/algorithms.md gives the formulas and config keys."""
