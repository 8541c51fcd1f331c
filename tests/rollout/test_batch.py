"""RolloutBatch.select / concat walk the fields' per-prompt / per-row metadata: a new field needs
no constructor edits and round-trips."""

from dataclasses import dataclass

import torch

from vrft.rollout import RolloutBatch, group_has_signal
from vrft.rollout.batch import per_prompt, per_row


@dataclass
class WithNewFields(RolloutBatch):
    row_note: list[str] = per_row(default_factory=list)
    prompt_note: list[str] = per_prompt(default_factory=list)
    row_score: torch.Tensor | None = per_row(default=None)


def _batch(tag: str, p: int = 2, g: int = 3, cls=WithNewFields) -> RolloutBatch:
    b = p * g
    return cls(samples=[f"{tag}s{k}" for k in range(p)], prompts=[f"{tag}p{k}" for k in range(p)],
               seq_prompt=[i // g for i in range(b)], completions=[torch.tensor([i]) for i in range(b)],
               sampler_logprobs=[None] * b, texts=[f"{tag}{i}" for i in range(b)], finish_reasons=["eos"] * b,
               behaviour=["policy"] * b, contexts=[f"{tag}c{i}" for i in range(b)], traces=[], multi_turn=[False] * p,
               rewards=torch.arange(b, dtype=torch.float), valid=torch.ones(b, dtype=torch.bool),
               components={tag: torch.arange(b, dtype=torch.float)},
               row_note=[f"{tag}n{i}" for i in range(b)], prompt_note=[f"{tag}q{k}" for k in range(p)],
               row_score=torch.arange(b, dtype=torch.float) * 10)


def test_select_keeps_rows_of_the_chosen_prompts_in_order():
    batch = _batch("a")
    sel = batch.select([1, 0])
    assert type(sel) is WithNewFields
    assert sel.samples == ["as1", "as0"] and sel.prompt_note == ["aq1", "aq0"]
    assert sel.seq_prompt == [0, 0, 0, 1, 1, 1]
    assert sel.texts == ["a3", "a4", "a5", "a0", "a1", "a2"] and sel.row_note[0] == "an3"
    assert sel.row_score.tolist() == [30, 40, 50, 0, 10, 20] and sel.rewards.tolist() == [3, 4, 5, 0, 1, 2]
    assert sel.components["a"].tolist() == [3, 4, 5, 0, 1, 2] and sel.traces == []
    assert batch.select([]).seq_prompt == [] and batch.select([]).row_note == []


def test_concat_offsets_prompts_and_fills_missing_components_with_nan():
    a, b = _batch("a"), _batch("b", p=1)
    both = WithNewFields.concat([a, b])
    assert both.samples == ["as0", "as1", "bs0"] and both.prompt_note == ["aq0", "aq1", "bq0"]
    assert both.seq_prompt == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert both.row_note[-1] == "bn2" and both.row_score.shape == (9,)
    assert torch.isnan(both.components["a"][6:]).all() and torch.isnan(both.components["b"][:6]).all()
    # round trip: concat then select gives each part back
    back = both.select([2])
    assert back.row_note == b.row_note and back.prompt_note == b.prompt_note and torch.equal(back.row_score, b.row_score)
    assert back.seq_prompt == b.seq_prompt and back.texts == b.texts


def test_unscored_batches_concat_to_unscored():
    a, b = _batch("a", cls=WithNewFields), _batch("b")
    a.rewards = None
    assert RolloutBatch.concat([a, b]).rewards is None


def test_group_has_signal():
    batch = _batch("a")
    batch.rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    assert not group_has_signal(batch, 0) and group_has_signal(batch, 1)
    batch.valid[3] = False
    assert not group_has_signal(batch, 1)


def test_an_empty_selection_concatenates_with_anything():
    a = _batch("a")
    empty = a.select([])
    empty.rewards = None  # an empty batch's unscored fields do not matter
    both = RolloutBatch.concat([empty, a.select([1]), empty])
    assert both.samples == ["as1"] and both.seq_prompt == [0, 0, 0] and both.rewards.tolist() == [3, 4, 5]
    assert RolloutBatch.concat([empty, empty]).samples == []
