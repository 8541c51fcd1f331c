"""Saving and restoring a training run: weights, optimizer, schedule, data state, every rank's RNG.

What is the same on every rank (step counters, the data side: sampler, mixture weights, difficulty)
is saved once by rank 0; what each rank holds of its own (its sampling generator, its RNG states)
is saved per rank and restored to that rank, so that a resumed multi-process run continues exactly.
The weights go through the backend, which knows how to gather them (FSDP2 shards, ZeRO-3 partitions).
After ReMix's reincarnation the reference model is saved too (`reference/`, written by rank 0 into
the same temporary directory, so it is part of the atomic rename), as the initial model no longer
gives it back.
"""

from __future__ import annotations

import os

from vrft.grpo.checkpoint import load_checkpoint, resolve_resume, save_checkpoint
from vrft.grpo.offpolicy.reincarnation import REFERENCE_DIR
from vrft.parallel.dist import barrier


def resume_path(cfg):
    """The checkpoint to resume from (`checkpoint.resume`: auto | none | a path), or None."""
    if cfg.checkpoint.resume in (None, "none"):
        return None
    return resolve_resume(cfg.log.run_dir, cfg.checkpoint.resume)


def shared_state(trainer) -> dict:
    return {"step": trainer.step, "nonfinite": trainer.nonfinite, "data": trainer.data.state_dict(),
            "reward_errors": trainer.rewards.n_errored, "rewards_scored": trainer.rewards.n_scored,
            "relift": trainer.relift.state_dict()}


def save_run(trainer) -> None:
    """Write checkpoint `trainer.step` atomically; every rank calls it."""
    backend, info, cfg = trainer.backend, trainer.info, trainer.cfg

    def save_model(path):
        state = backend.full_state_dict()  # a collective on sharded backends: every rank takes part
        backend.save_own_state(path.parent)
        if info.is_main:
            trainer.policy.save(path, merge_lora=cfg.model.lora.merge_on_save, state_dict=state)
            if trainer.reincarnation.replaced(trainer.step):  # no longer the initial model: it must be kept
                trainer.reference.save(path.parent / REFERENCE_DIR)

    optimizer, scheduler = backend.checkpoint_objects()
    save_checkpoint(trainer.run_dir, trainer.step, save_model=save_model, optimizer=optimizer, scheduler=scheduler,
                    extra_state=shared_state(trainer), rank_state={"generator": trainer.generator.get_state(),
                                                          "replay": trainer.replay.state_dict()},
                    rank=info.rank, world_size=info.world, barrier=(lambda: barrier(info)) if info.enabled else None,
                    keep_last=cfg.checkpoint.keep_last, sharded_optimizer=backend.sharded_optimizer)


def restore_run(trainer, path) -> bool:
    """Restore optimizer, scheduler, data state, counters and this rank's generator and RNG from
    `path` (the weights were loaded with the model). Returns whether the RNG states were restored
    (False when this rank did not exist in the saved run: seed it as for a fresh start)."""
    backend = trainer.backend
    optimizer, scheduler = backend.checkpoint_objects()
    loaded = load_checkpoint(path, optimizer=optimizer, scheduler=scheduler, rank=trainer.info.rank,
                             sharded_optimizer=backend.sharded_optimizer)
    backend.load_own_state(path)
    st = loaded.extra_state
    trainer.step, trainer.nonfinite = st["step"], st["nonfinite"]
    trainer.data.load_state_dict(st["data"])
    trainer.rewards.n_errored, trainer.rewards.n_scored = st["reward_errors"], st["rewards_scored"]
    if "relift" in st:  # checkpoints from before ReLIFT have none
        trainer.relift.load_state_dict(st["relift"])
    if loaded.rank_state is not None:
        trainer.generator.set_state(loaded.rank_state["generator"])
        if "replay" in loaded.rank_state:  # each rank's own replayed rows
            trainer.replay.load_state_dict(loaded.rank_state["replay"])
    return bool(loaded.rng_restored)


def model_dir(path) -> str | None:
    """The weights folder of a checkpoint (loaded through from_pretrained), or None."""
    return os.path.join(path, "model") if path is not None else None
