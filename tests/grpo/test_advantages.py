"""Advantage estimators against hand-computed values, the cross-rank stats path, and properties."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.two_ranks import spawn_two
from vrft.grpo.advantages import ADVANTAGES, GroupStats, get_advantage, group_stats, register_advantage

NAN = float("nan")
# Group 0: three valid samples; group 1: one errored (NaN) sample and one valid one.
REWARDS = torch.tensor([1.0, 0.0, 0.5, NAN, 2.0])
GROUPS = torch.tensor([0, 0, 0, 1, 1])
VALID = torch.tensor([True, True, True, False, True])


def test_registry_names_and_error():
    assert set(ADVANTAGES.names()) >= {"grpo", "dr_grpo", "batch_std", "rloo"}
    with pytest.raises(ValueError, match=r"did you mean 'grpo'.*valid names: \['batch_std'"):
        get_advantage("gpro")


def test_register_advantage_duplicate_rejected():
    with pytest.raises(ValueError, match="already registered"):
        register_advantage("grpo")(lambda *a, **k: None)


def test_grpo_two_groups_hand_computed():
    adv, m = get_advantage("grpo")(torch.tensor([1.0, 0.0, 1.0, 1.0]), torch.tensor([0, 0, 1, 1]))
    s = 1 / math.sqrt(2)  # 0.5 / unbiased std sqrt(0.5)
    torch.testing.assert_close(adv, torch.tensor([s, -s, 0.0, 0.0]), atol=1e-5, rtol=0)
    assert adv.dtype == torch.float32
    assert m["adv/zero_std_frac"].item() == pytest.approx(0.5)


def test_grpo_uneven_groups_with_excluded_sample():
    adv, m = get_advantage("grpo")(REWARDS, GROUPS, VALID)
    # group 0: mean 0.5, unbiased std sqrt((0.25 + 0.25 + 0) / 2) = 0.5; group 1 has one valid sample
    torch.testing.assert_close(adv, torch.tensor([1.0, -1.0, 0.0, 0.0, 0.0]), atol=1e-5, rtol=0)
    assert m["adv/valid_frac"].item() == pytest.approx(0.8)
    assert m["adv/zero_std_frac"].item() == pytest.approx(0.5)  # the single-sample group
    assert torch.isfinite(adv).all()


def test_dr_grpo_mean_only():
    adv, _ = get_advantage("dr_grpo")(REWARDS, GROUPS, VALID)
    torch.testing.assert_close(adv, torch.tensor([0.5, -0.5, 0.0, 0.0, 0.0]))


def test_batch_std_uses_std_of_centred_rewards_over_batch():
    adv, _ = get_advantage("batch_std")(REWARDS, GROUPS, VALID)
    # centred: [0.5, -0.5, 0, -, 0] over 4 valid samples: var = 0.5 / 4, std = 0.35355
    s = 0.5 / math.sqrt(0.125)
    torch.testing.assert_close(adv, torch.tensor([s, -s, 0.0, 0.0, 0.0]), atol=1e-5, rtol=0)


def test_rloo_leave_one_out():
    adv, _ = get_advantage("rloo")(REWARDS, GROUPS, VALID)
    # r0 = 1 vs mean(0, 0.5) = 0.25; r1 = 0 vs mean(1, 0.5) = 0.75; r2 = 0.5 vs 0.5; singleton -> 0
    torch.testing.assert_close(adv, torch.tensor([0.75, -0.75, 0.0, 0.0, 0.0]))


def test_rloo_equals_scaled_dr_grpo():
    r = torch.tensor([3.0, 1.0, 0.0, 2.0])
    g = torch.zeros(4, dtype=torch.long)
    rloo, _ = get_advantage("rloo")(r, g)
    dr, _ = get_advantage("dr_grpo")(r, g)
    torch.testing.assert_close(rloo, dr * 4 / 3)


def test_all_excluded_group_gives_zero():
    adv, _ = get_advantage("grpo")(torch.tensor([NAN, NAN, 1.0, 0.0]), torch.tensor([0, 0, 1, 1]),
                                   torch.tensor([False, False, True, True]))
    assert adv[:2].tolist() == [0.0, 0.0]
    assert torch.isfinite(adv).all()


def test_group_stats_values():
    st_ = group_stats(REWARDS, GROUPS, VALID, num_groups=3)
    assert st_.sum_G.tolist() == [1.5, 2.0, 0.0]
    assert st_.sumsq_G.tolist() == [1.25, 4.0, 0.0]
    assert st_.count_G.tolist() == [3.0, 1.0, 0.0]
    assert st_.pack().shape == (3, 3)
    assert st_.sum_G.dtype == torch.float64


def test_stats_reduced_across_simulated_ranks_match_full_batch():
    """A group split over two 'ranks': summing the local stats gives the full-batch advantages."""
    r = torch.tensor([1.0, 0.0, 0.3, 0.9, 0.2, 0.7, 0.4, 0.4])
    g = torch.tensor([0, 0, 1, 1, 0, 0, 1, 2])
    halves = [slice(0, 4), slice(4, 8)]
    local = [group_stats(r[h], g[h], num_groups=3) for h in halves]
    for name in ("grpo", "dr_grpo", "batch_std", "rloo"):
        full, _ = get_advantage(name)(r, g)
        parts = []
        for i, h in enumerate(halves):
            other = local[1 - i].pack()
            stats = local[i].reduced(lambda t, other=other: t.add_(other))  # the all_reduce stand-in
            adv, _ = get_advantage(name)(r[h], g[h], stats=stats)
            parts.append(adv)
        torch.testing.assert_close(torch.cat(parts), full, msg=name)


def test_reduced_does_not_modify_the_original():
    s = group_stats(torch.tensor([1.0, 2.0]), torch.tensor([0, 0]))
    s.reduced(lambda t: t.mul_(2))
    assert s.sum_G.tolist() == [3.0]


def test_errors_on_bad_inputs():
    with pytest.raises(ValueError, match=r"non-finite reward.*\[1\]"):
        get_advantage("grpo")(torch.tensor([1.0, NAN]), torch.tensor([0, 0]))
    stats = group_stats(torch.tensor([1.0, 0.0]), torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="non-finite"):
        get_advantage("rloo")(torch.tensor([1.0, NAN]), torch.tensor([0, 0]), stats=stats)
    with pytest.raises(ValueError, match="out of range"):
        group_stats(torch.tensor([1.0, 2.0]), torch.tensor([0, 3]), num_groups=2)
    with pytest.raises(ValueError, match="integer group ids"):
        group_stats(torch.tensor([1.0]), torch.tensor([0.0]))
    with pytest.raises(ValueError, match="out of range for stats"):
        get_advantage("grpo")(torch.tensor([1.0]), torch.tensor([4]),
                              stats=GroupStats(*(torch.zeros(2, dtype=torch.float64),) * 3))


def _reference_grpo(r: list[float], g: list[int], eps=1e-6) -> list[float]:
    out = []
    for ri, gi in zip(r, g):
        vals = [rj for rj, gj in zip(r, g) if gj == gi]
        if len(vals) < 2:
            out.append(0.0)
            continue
        t = torch.tensor(vals, dtype=torch.float64)
        out.append(float((ri - t.mean()) / (t.std() + eps)))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0])), min_size=1,
                max_size=12))
def test_grpo_matches_torch_std_reference_and_centres_groups(rows):
    g = [gi for gi, _ in rows]
    r = [ri for _, ri in rows]
    adv, _ = get_advantage("grpo")(torch.tensor(r), torch.tensor(g))
    torch.testing.assert_close(adv.double(), torch.tensor(_reference_grpo(r, g), dtype=torch.float64),
                               atol=1e-5, rtol=1e-5)
    for gi in set(g):
        idx = [i for i, x in enumerate(g) if x == gi]
        assert abs(float(adv[idx].sum())) < 1e-4


def _gloo_worker(rank, port, out):
    import torch.distributed as dist

    from vrft.grpo.advantages import all_reduce_sum

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        r = torch.tensor([1.0, 0.0, 0.3, 0.9, 0.2, 0.7, 0.4, 0.4])
        g = torch.tensor([0, 0, 1, 1, 0, 0, 1, 2])
        h = slice(4 * rank, 4 * rank + 4)
        stats = group_stats(r[h], g[h], num_groups=3).reduced(all_reduce_sum)
        out[rank] = get_advantage("grpo")(r[h], g[h], stats=stats)[0].tolist()
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_group_stats_all_reduce_over_two_gloo_ranks():
    out = spawn_two(_gloo_worker)
    full, _ = get_advantage("grpo")(torch.tensor([1.0, 0.0, 0.3, 0.9, 0.2, 0.7, 0.4, 0.4]),
                                    torch.tensor([0, 0, 1, 1, 0, 0, 1, 2]))
    torch.testing.assert_close(torch.tensor(out[0] + out[1]), full)
