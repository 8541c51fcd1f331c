"""ReMix's policy reincarnation of the base model (arXiv 2507.06892, ``algo.remix.reincarnate_reference``).

"Policy reincarnation replaces the base model with the mix-policy RFT model in the mid way of
training and restarts on-policy training." vrft drops the replay buffer at ``algo.remix.until_step``
(:mod:`.remix`); with this key the frozen reference model of the KL term (the *base* model) also
becomes a copy of the policy there: once, at the start of step ``until_step`` (0-based, the step
from which the buffer is gone), before its update, so that step's KL is taken against the policy
it starts from::

    theta_ref <- theta_policy(step until_step, before its update)

The reference is a full, unsharded model on every rank under every backend (``load_reference``), so
each rank copies the policy's full weights into its own reference, parameter by parameter, with
``copy_`` (cast to the reference's dtype, onto the reference's own device). The backend gathers
each parameter of a sharded policy as it is read (:meth:`TrainBackend.full_parameters`).

Resume: once replaced, the reference can no longer be rebuilt from the initial model, and the
policy has moved on since, so every checkpoint taken after ``until_step`` carries the reference's
weights in ``reference/`` (:mod:`vrft.grpo.run_state`), and a resumed run loads its reference from
there (:meth:`Reincarnation.reference_dir`).
"""

from __future__ import annotations

import os

import torch

from vrft.grpo.checkpoint import checkpoint_step
from vrft.policy.unwrap import unwrap

REFERENCE_DIR = "reference"


class Reincarnation:
    """When the reference is replaced (inactive unless ``algo.remix.reincarnate_reference``)."""

    def __init__(self, cfg) -> None:
        self.enabled = bool(cfg.reincarnate_reference)
        self.step = cfg.until_step

    def due(self, step: int) -> bool:
        """Whether training step ``step`` (0-based, not yet run) starts by replacing the reference."""
        return self.enabled and step == self.step

    def replaced(self, steps_done: int) -> bool:
        """Whether the reference was replaced within the first ``steps_done`` steps (it then goes
        into a checkpoint taken at ``steps_done``)."""
        return self.enabled and steps_done > self.step

    def metrics(self, step: int) -> dict[str, float]:
        return {"remix/reincarnated": float(step >= self.step)} if self.enabled else {}

    def reference_dir(self, checkpoint) -> str | None:
        """The folder to load the reference from when resuming from ``checkpoint``: its ``reference/``
        when the reference was replaced before it was taken, else None (the initial model)."""
        if checkpoint is None or not self.replaced(checkpoint_step(checkpoint)):
            return None
        path = os.path.join(checkpoint, REFERENCE_DIR)
        if not os.path.isdir(path):
            raise ValueError(f"checkpoint {checkpoint} was taken after algo.remix.until_step={self.step} but holds "
                             f"no {REFERENCE_DIR}/ (it was saved without algo.remix.reincarnate_reference), so the "
                             f"reincarnated reference model cannot be restored; resume with the setting it ran with")
        return path


@torch.no_grad()
def copy_policy_into(reference: torch.nn.Module, policy: torch.nn.Module, backend) -> None:
    """Overwrite every parameter of ``reference`` with the policy's; a collective on sharded
    backends (every rank calls it). Both are the same architecture, so the names match one to one."""
    ref = dict(unwrap(reference).named_parameters())
    seen = set()
    with backend.full_parameters(unwrap(policy)) as named:
        for name, full in named:
            ref[name].copy_(full)  # cast and moved onto the reference's own device and dtype
            seen.add(name)
    assert seen == set(ref), f"policy and reference parameters differ: {sorted(set(ref) ^ seen)[:5]}"

