"""The training-backend layer: everything that differs between single process, DDP, FSDP2 and
DeepSpeed lives behind one `TrainBackend`, so the loop never asks which backend it runs.

    backend = build_backend(cfg.train.backend, info)
    model = backend.setup(model, optimizer_factory, accum_steps)   # wrap, build optimizer + schedule
    backend.zero_grad()
    with backend.accumulating(last_micro_batch):                   # no gradient sync before the last
        backend.backward(loss)                                     # loss already normalised globally
    grad_norm, stepped = backend.optimizer_step(grad_clip)         # nan / inf: the step is skipped
    backend.scheduler_step()

A backend also owns the device rule (`device`: every tensor that enters the model, the sampler or
a collective lives there), mixed precision (`train.bf16`: bf16 compute with fp32 master weights and
fp32 gradient reduction, the same meaning on every backend; `autocast()` wraps forwards), the collectives (`reduce_sum`, `gather_objects`, `any_rank`), whether
its forwards are collective (`lockstep`: ranks must then run every decode step together), and the
pieces of a checkpoint that it alone knows how to gather (`full_state_dict`, optimizer state),
and every rank's full view of the weights (`full_parameters`, e.g. to copy them into another model).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, ContextManager, Iterator

import torch
import torch.distributed as dist

from vrft.parallel.dist import DistInfo, all_gather_object, all_reduce_sum, any_rank
from vrft.registry import Registry

OptimizerFactory = Callable[[torch.nn.Module], tuple[torch.optim.Optimizer, Any]]

BACKENDS: Registry[type["TrainBackend"]] = Registry("training backend")


class TrainBackend:
    """Single process (also the base of the others): plain backward, clip, step."""

    #: Whether the backend needs a torch.distributed process group (torchrun) to run at all.
    needs_process_group: bool = False

    #: Whether every forward is a collective (parameters are gathered per layer), so that a rank
    #: with nothing left to decode must keep decoding a dummy in step with the others.
    sharded: bool = False

    def __init__(self, info: DistInfo, options: dict[str, Any] | None = None) -> None:
        """`options`: `bf16` (bool, mixed precision) and backend settings (`train.deepspeed`)."""
        self.info = info
        self.options = dict(options or {})
        self.bf16 = bool(self.options.get("bf16", False))
        self.model: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None

    # ---- where things live ----------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.info.device

    def autocast(self) -> ContextManager:
        """Context for forward passes: bf16 compute over fp32 weights when mixed precision is on."""
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def gathered_for_rollout(self) -> ContextManager:
        """Context for a rollout or evaluation phase (no backward): sharded backends gather their
        parameters once here instead of at every decode step, and release them at the end."""
        return contextlib.nullcontext()

    # ---- set-up -------------------------------------------------------------------------------
    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def master_weights(self, model: torch.nn.Module) -> torch.nn.Module:
        """Under mixed precision the optimizer updates fp32 weights: a bf16 checkpoint is upcast
        (an update of lr 1e-6 x a gradient of 1 rounds away in bf16 for any weight above ~0.004)."""
        if self.bf16:
            for p in model.parameters():
                if p.is_floating_point() and p.dtype != torch.float32:
                    p.data = p.data.float()
        return model

    def setup(self, model: torch.nn.Module, make_optimizer: OptimizerFactory, accum_steps: int) -> torch.nn.Module:
        """Wrap `model` for this backend and build its optimizer and LR schedule; returns the model
        the policy should call from now on."""
        self.model = self.wrap(self.master_weights(model))
        self.optimizer, self.scheduler = make_optimizer(self.model)
        return self.model

    # ---- one optimizer step ---------------------------------------------------------------------
    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def accumulating(self, last: bool) -> ContextManager:
        """Context for one micro-batch's forward and backward; gradients are synchronised only on
        the last micro-batch of an optimizer step."""
        return contextlib.nullcontext()

    def backward(self, loss: torch.Tensor) -> None:
        """`loss` is this micro-batch's share of the global loss; data-parallel backends average
        gradients over ranks, so it is scaled by the world size to give the global sum."""
        (loss * self.info.world).backward()

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def optimizer_step(self, grad_clip: float) -> tuple[float, bool]:
        """Clip, step; returns (global gradient norm, whether the step was taken). A non-finite
        norm skips the step and drops the gradients."""
        gnorm = float(torch.nn.utils.clip_grad_norm_(self.trainable_parameters(),
                                                     grad_clip if grad_clip > 0 else math.inf))
        if not math.isfinite(gnorm):
            self.zero_grad()
            return gnorm, False
        self.optimizer.step()
        return gnorm, True

    def scheduler_step(self) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ---- ranks ----------------------------------------------------------------------------------
    def reduce_sum(self, x: torch.Tensor) -> torch.Tensor:
        return all_reduce_sum(x, self.info)

    def gather_objects(self, obj: Any) -> list:
        return all_gather_object(obj, self.info)

    def any_rank(self, flag: bool) -> bool:
        return any_rank(flag, self.info)

    @property
    def lockstep(self) -> Callable[[bool], bool] | None:
        """For sharded backends: `lockstep(done)` -> True once every rank is done decoding; None
        when each rank may stop on its own."""
        if not (self.sharded and self.info.enabled):
            return None
        return lambda done: not self.any_rank(not done)

    # ---- checkpoints ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def full_parameters(self, module: torch.nn.Module) -> Iterator[Iterator[tuple[str, torch.Tensor]]]:
        """`(name, full tensor)` of every parameter of `module` (the unwrapped model), read-only, on
        every rank. On sharded backends each parameter is gathered as it is read (a collective), so
        every rank must read all of them in the same order, inside the context."""
        yield iter(module.named_parameters())

    def full_state_dict(self) -> dict[str, torch.Tensor] | None:
        """The full (unsharded) weights on rank 0, gathered with every rank taking part; None when
        the unwrapped model's own state dict is already full."""
        return None

    @property
    def sharded_optimizer(self) -> bool:
        """Whether each rank saves its own optimizer shard (optimizer-rank{r}.pt)."""
        return False

    def checkpoint_objects(self) -> tuple[Any, Any]:
        """(optimizer, scheduler) for the generic checkpoint files; (None, None) when the backend
        saves them itself (`save_own_state`)."""
        return self.optimizer, self.scheduler

    def save_own_state(self, step_dir) -> None:
        """Write state only the backend can write (DeepSpeed's partitioned optimizer)."""

    def load_own_state(self, step_dir) -> None:
        """Read what `save_own_state` wrote."""


@BACKENDS.register("single")
class SingleBackend(TrainBackend):
    pass


def bf16_enabled(setting: bool | str, device: torch.device) -> bool:
    """`train.bf16`: true, false, or auto (on with a CUDA device that supports bfloat16)."""
    if setting == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return bool(setting)


def build_backend(name: str, info: DistInfo, options: dict[str, Any] | None = None) -> TrainBackend:
    """The backend registered as `name` (train.backend; an unknown name lists the valid ones). A
    backend that needs a process group runs as `single` in a plain process (no torchrun); under
    torchrun it is the real one, with one process too."""
    cls = BACKENDS.get(name)
    if cls.needs_process_group and not (dist.is_available() and dist.is_initialized()):
        return SingleBackend(info, options)
    return cls(info, options)
