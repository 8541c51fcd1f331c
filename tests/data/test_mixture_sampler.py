"""MixtureSampler: proportions follow weights, epochs without replacement, rank sharding, exact resume."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vrft.data.mixture_sampler import MixtureSampler
from vrft.data.sample import Sample


def make(name, n):
    return [Sample(id=f"{name}/{i}", dataset=name, task="vqa", prompt="q", solution={"answer": "a"})
            for i in range(n)]


DATA = {"a": make("a", 50), "b": make("b", 30), "c": make("c", 7)}
W = {"a": 0.5, "b": 0.3, "c": 0.2}


def test_proportions_match_weights_chi_square():
    s = MixtureSampler(DATA, W, batch_size=40, seed=1)
    counts = {n: 0 for n in DATA}
    for _ in range(100):
        for name, _ in s.next_global_indices():
            counts[name] += 1
    observed = np.array([counts[n] for n in DATA])
    expected = np.array([W[n] for n in DATA]) * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_without_replacement_within_epoch():
    s = MixtureSampler(DATA, {"a": 0.0, "b": 0.0, "c": 1.0}, batch_size=7, seed=0)
    for _ in range(3):  # each batch is exactly one epoch of c, in a fresh order
        idx = [i for _, i in s.next_global_indices()]
        assert sorted(idx) == list(range(7))
    orders = [tuple(i for _, i in s.next_global_indices()) for _ in range(4)]
    assert len(set(orders)) > 1  # reshuffled per epoch


def test_ranks_disjoint_and_cover_global_batch():
    world = 4
    samplers = [MixtureSampler(DATA, W, batch_size=16, seed=7, rank=r, world_size=world) for r in range(world)]
    ref = MixtureSampler(DATA, W, batch_size=16, seed=7)
    for _ in range(5):
        batches = [s.next_batch() for s in samplers]
        global_ids = [x.id for x in ref.next_batch()]
        assert all(len(b) == 4 for b in batches)
        flat = [x.id for b in batches for x in b]
        assert flat == global_ids  # disjoint slices, in order, covering the global batch
        assert len(set(flat)) == len(flat)
    with pytest.raises(ValueError, match="multiple of world_size"):
        MixtureSampler(DATA, W, batch_size=10, world_size=4)


def test_resume_reproduces_stream():
    full = MixtureSampler(DATA, W, batch_size=12, seed=3)
    stream = [full.next_global_indices() for _ in range(20)]
    part = MixtureSampler(DATA, W, batch_size=12, seed=3)
    for _ in range(8):
        part.next_global_indices()
    state = part.state_dict()
    resumed = MixtureSampler(DATA, W, batch_size=12, seed=3)
    resumed.load_state_dict(state)
    assert [resumed.next_global_indices() for _ in range(12)] == stream[8:]
    with pytest.raises(ValueError, match="resume with the same data and seed"):
        MixtureSampler(DATA, W, batch_size=12, seed=4).load_state_dict(state)


def test_resume_after_weight_change_and_seed_determinism():
    a = MixtureSampler(DATA, W, batch_size=8, seed=5)
    b = MixtureSampler(DATA, W, batch_size=8, seed=5)
    for s in (a, b):
        s.next_batch()
        s.set_weights({"a": 0.1, "b": 0.1, "c": 0.8})
    st = a.state_dict()
    c = MixtureSampler(DATA, W, batch_size=8, seed=5)
    c.load_state_dict(st)
    assert [x.id for x in a.next_batch()] == [x.id for x in b.next_batch()] == [x.id for x in c.next_batch()]


def test_weights_settable_and_validated():
    s = MixtureSampler(DATA, W, batch_size=20, seed=0)
    s.set_weights({"a": 0, "b": 1, "c": 0})
    assert {n for n, _ in s.next_global_indices()} == {"b"}
    with pytest.raises(ValueError, match="missing \\['c'\\]"):
        s.set_weights({"a": 1, "b": 1})
    with pytest.raises(ValueError, match="positive sum"):
        s.set_weights({"a": 0, "b": 0, "c": 0})


def test_skip_function_draws_replacements():
    s = MixtureSampler(DATA, W, batch_size=10, seed=0)
    batch = s.next_batch(skip=lambda x: x.dataset == "a")
    assert len(batch) == 10 and all(x.dataset != "a" for x in batch)
    always = MixtureSampler(DATA, W, batch_size=4, seed=0, max_skip_factor=2)
    assert len(always.next_batch(skip=lambda x: True)) == 4  # gives up skipping: never stalls
