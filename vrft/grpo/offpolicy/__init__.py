"""Rows the policy did not sample (expert demonstrations, injected ground truth, old rollouts) in the
GRPO update: their objective (:mod:`.objective`), their advantages (:mod:`.advantage`) and the
trainer's hooks (:mod:`.recipe`). docs/algorithms.md gives the formulas and config keys."""
