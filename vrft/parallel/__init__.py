"""Training backends {single, ddp, fsdp2, deepspeed} and the torchrun plumbing under them."""

from vrft.parallel import ddp, fsdp2  # noqa: F401  (register the backends)
from vrft.parallel import deepspeed as _deepspeed  # noqa: F401  (imports deepspeed itself only in setup)
from vrft.parallel.backend import BACKENDS, TrainBackend, build_backend
from vrft.parallel.dist import DistInfo, init_distributed, shutdown

__all__ = ["BACKENDS", "DistInfo", "TrainBackend", "build_backend", "init_distributed", "shutdown"]
