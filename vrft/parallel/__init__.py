"""Training backends {single, ddp, fsdp2, deepspeed} and the torchrun plumbing under them."""

from vrft.parallel import ddp, fsdp2  # noqa: F401  (register the backends)
from vrft.parallel import deepspeed as _deepspeed  # noqa: F401  (imports deepspeed itself only in setup)
from vrft.parallel.backend import BACKENDS, TrainBackend, bf16_enabled, build_backend
from vrft.parallel.dist import DistInfo, init_distributed, shutdown

__all__ = ["BACKENDS", "DistInfo", "TrainBackend", "bf16_enabled", "build_backend", "init_distributed", "shutdown"]
