"""Atomic checkpoints: RNG round-trip, interrupted saves, keep-last-k, rank protocol, resume."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest
import torch

from vrft.grpo.checkpoint import (
    COMPLETE, capture_rng_state, checkpoints_dir, latest_checkpoint, list_checkpoints, load_checkpoint,
    resolve_resume, restore_rng_state, save_checkpoint,
)


def _draws():
    return (random.random(), np.random.rand(3).tolist(), np.random.randn(), torch.rand(3).tolist(),
            torch.randn(2).tolist())


def _model_writer(path):
    (path / "weights.txt").write_text("w")


def _trained_optimizer():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(lin.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    lin(torch.ones(1, 3)).sum().backward()
    opt.step()
    sched.step()
    return lin, opt, sched


def test_round_trip_restores_rng_streams_optimizer_and_state(tmp_path):
    lin, opt, sched = _trained_optimizer()
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    extra = {"step": 7, "sampler": {"epoch": 1, "order": [3, 1, 2]}, "weights": torch.tensor([0.2, 0.8]),
             "difficulty": np.array([0.5, 0.1])}
    ckpt = save_checkpoint(tmp_path, 7, save_model=_model_writer, optimizer=opt, scheduler=sched,
                           extra_state=extra)
    after_save = _draws()
    random.seed(99), np.random.seed(99), torch.manual_seed(99)

    lin2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.AdamW(lin2.parameters(), lr=0.1)
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    loaded = load_checkpoint(ckpt, optimizer=opt2, scheduler=sched2)
    assert _draws() == after_save
    assert loaded.step == 7 and loaded.rng_restored
    assert (loaded.model_dir / "weights.txt").read_text() == "w"
    assert loaded.extra_state["sampler"] == extra["sampler"]
    torch.testing.assert_close(loaded.extra_state["weights"], extra["weights"])
    assert loaded.extra_state["difficulty"].tolist() == [0.5, 0.1]
    s1, s2 = opt.state_dict(), opt2.state_dict()
    for k in s1["state"]:
        torch.testing.assert_close(s1["state"][k]["exp_avg"], s2["state"][k]["exp_avg"])
    assert sched2.last_epoch == sched.last_epoch and opt2.param_groups[0]["lr"] == pytest.approx(0.05)
    meta = json.loads((ckpt / "trainer_state.json").read_text())
    assert meta["step"] == 7 and meta["state"]["sampler"]["order"] == [3, 1, 2]
    assert "weights" not in meta["state"]


def test_capture_restore_rng_in_memory():
    state = capture_rng_state()
    a = _draws()
    restore_rng_state(state)
    assert _draws() == a


def test_interrupted_save_keeps_previous_checkpoint_latest(tmp_path):
    first = save_checkpoint(tmp_path, 1, save_model=_model_writer)

    def crash(path):
        (path / "half.bin").write_bytes(b"x" * 10)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(tmp_path, 2, save_model=crash)
    assert latest_checkpoint(tmp_path) == first
    root = checkpoints_dir(tmp_path)
    assert sorted(p.name for p in root.iterdir()) == ["step-000001"]

    # a hard kill mid-save: a temporary dir, and a step dir that never got its marker
    (root / ".tmp-step-000003-12345").mkdir()
    (root / "step-000004").mkdir()
    (root / "step-000004" / "optimizer.pt").write_bytes(b"")
    assert latest_checkpoint(tmp_path) == first
    assert resolve_resume(tmp_path, "auto") == first
    with pytest.raises(ValueError, match="not a complete checkpoint"):
        load_checkpoint(root / "step-000004")
    save_checkpoint(tmp_path, 5)
    assert not (root / ".tmp-step-000003-12345").exists()  # leftovers cleaned by the next save
    assert latest_checkpoint(tmp_path).name == "step-000005"


def test_keep_last_k_and_resave(tmp_path):
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, keep_last=2, extra_state={"v": step})
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000003", "step-000004"]
    assert not any(p.name.startswith(".") for p in checkpoints_dir(tmp_path).iterdir())
    save_checkpoint(tmp_path, 4, extra_state={"v": "again"})
    assert load_checkpoint(latest_checkpoint(tmp_path)).extra_state == {"v": "again"}
    with pytest.raises(ValueError, match="keep_last"):
        save_checkpoint(tmp_path, 5, keep_last=0)


def test_two_ranks_with_a_barrier(tmp_path):
    """Two 'ranks' as threads sharing a barrier: each writes its RNG file, rank 0 the rest."""
    barrier = threading.Barrier(2, timeout=20)
    _, opt, _ = _trained_optimizer()
    calls, errors = [], []

    def rank_main(rank):
        try:
            save_checkpoint(tmp_path, 10, rank=rank, world_size=2, barrier=barrier.wait,
                            save_model=lambda d: calls.append(rank), optimizer=opt, sharded_optimizer=True,
                            extra_state={"step": 10})
        except Exception as e:  # pragma: no cover - surfaced by the assert below
            errors.append(e)

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ckpt = latest_checkpoint(tmp_path)
    names = sorted(p.name for p in ckpt.iterdir())
    for f in ("rng-rank0.pt", "rng-rank1.pt", "optimizer-rank0.pt", "optimizer-rank1.pt", COMPLETE):
        assert f in names
    assert sorted(calls) == [0, 1]
    opt_b = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.1)
    assert load_checkpoint(ckpt, rank=1, optimizer=opt_b, sharded_optimizer=True).rng_restored
    assert not load_checkpoint(ckpt, rank=2).rng_restored  # resumed on more ranks


def test_missing_rank_file_is_not_marked_complete(tmp_path):
    with pytest.raises(RuntimeError, match="rng-rank1.pt"):
        save_checkpoint(tmp_path, 1, world_size=2)  # rank 1 never wrote
    assert latest_checkpoint(tmp_path) is None


def test_resolve_resume(tmp_path):
    assert resolve_resume(tmp_path, "auto") is None
    ckpt = save_checkpoint(tmp_path, 3)
    assert resolve_resume(tmp_path, "auto") == ckpt
    assert resolve_resume(tmp_path, "none") is None and resolve_resume(tmp_path, None) is None
    other = tmp_path / "elsewhere"
    assert resolve_resume(other, str(tmp_path)) == ckpt  # a run dir -> its latest
    assert resolve_resume(other, str(ckpt)) == ckpt
    with pytest.raises(ValueError, match="checkpoint.resume"):
        resolve_resume(tmp_path, str(tmp_path / "nope"))


def test_load_errors_name_the_missing_part(tmp_path):
    ckpt = save_checkpoint(tmp_path, 1)
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="optimizer"):
        load_checkpoint(ckpt, optimizer=opt)
