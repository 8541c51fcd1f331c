"""Atomic, rank-aware training checkpoints.

Layout of ``run_dir/checkpoints/step-000123/``::

    model/               whatever ``save_model(dir)`` wrote (HF weights + processor, LoRA adapters,
                         or a DeepSpeed checkpoint)
    reference/           the KL reference model, only once ReMix's reincarnation replaced it (also
                         written by ``save_model``: vrft.grpo.run_state)
    optimizer.pt         optimizer state dict (rank 0), or optimizer-rank{r}.pt when sharded
    scheduler.pt         LR scheduler state dict (rank 0)
    trainer_state.pt     ``extra_state``: sampler, mixture learner, difficulty, counters... (rank 0)
    trainer_state.json   the step and the JSON-serialisable part of ``extra_state``, for humans
    rng-rank{r}.pt       python / numpy / torch CPU (/ CUDA) RNG states of rank r
    rank-state-rank{r}.pt ``rank_state`` of rank r: what differs between ranks (its sampling generator)
    COMPLETE             written last; a directory without it is not a checkpoint

How a save stays atomic: everything is written into ``checkpoints/.tmp-step-000123-<pid>`` (rank 0's
pid); once every rank has written its part (a ``barrier``), rank 0 checks the per-rank files, writes
``COMPLETE``, fsyncs, and ``os.replace``-s the directory to ``step-000123``, then deletes complete
checkpoints beyond ``keep_last``. A crash at any point leaves either the previous checkpoints
untouched or the new one complete; :func:`latest_checkpoint` ignores temporary directories and
directories without the marker, and the next save removes leftovers.

Ranks: call :func:`save_checkpoint` on every rank with the same ``run_dir`` and ``step`` (the run dir
must be on a filesystem all ranks see). ``save_model`` runs on every rank, because sharded backends
(FSDP2 full-state gathering, DeepSpeed) need every rank to take part; it should write files from
rank 0 only unless the backend writes shards. ``barrier`` is e.g. ``torch.distributed.barrier``;
None (single process) means no synchronisation. A rank that raises mid-save leaves the others
waiting at the barrier, as any collective would: let the launcher tear the job down.

The ``.pt`` files are pickles: load only checkpoints you wrote. RNG, optimizer and scheduler files
are read with ``weights_only=True``; ``trainer_state.pt`` may hold arbitrary Python objects.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch

CHECKPOINTS_DIR = "checkpoints"
COMPLETE = "COMPLETE"
MODEL_DIR = "model"
OPTIMIZER = "optimizer.pt"
SCHEDULER = "scheduler.pt"
TRAINER_STATE = "trainer_state.pt"
TRAINER_STATE_JSON = "trainer_state.json"
_STEP_RE = re.compile(r"^step-(\d+)$")

PathLike = Union[str, os.PathLike]


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def rng_file(rank: int) -> str:
    return f"rng-rank{rank}.pt"


def rank_state_file(rank: int) -> str:
    return f"rank-state-rank{rank}.pt"


def optimizer_file(rank: int, sharded: bool) -> str:
    return f"optimizer-rank{rank}.pt" if sharded else OPTIMIZER


def checkpoints_dir(run_dir: PathLike) -> Path:
    return Path(run_dir) / CHECKPOINTS_DIR


def checkpoint_step(path: PathLike) -> int:
    """The step number encoded in a ``step-000123`` directory name."""
    m = _STEP_RE.match(Path(path).name)
    if not m:
        raise ValueError(f"{path} is not a step-NNNNNN checkpoint directory")
    return int(m.group(1))


def is_complete(path: PathLike) -> bool:
    path = Path(path)
    return bool(_STEP_RE.match(path.name)) and (path / COMPLETE).is_file()


def list_checkpoints(run_dir: PathLike) -> list[Path]:
    """Complete checkpoints of ``run_dir``, oldest first."""
    root = checkpoints_dir(run_dir)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and is_complete(p)), key=checkpoint_step)


def latest_checkpoint(run_dir: PathLike) -> Optional[Path]:
    """The newest complete checkpoint of ``run_dir``, or None."""
    done = list_checkpoints(run_dir)
    return done[-1] if done else None


def resolve_resume(run_dir: PathLike, resume: Optional[str]) -> Optional[Path]:
    """What ``checkpoint.resume`` points at: ``auto`` -> the latest checkpoint of ``run_dir`` (None on
    a fresh run); ``none`` / None -> None; a path -> that checkpoint, or the latest of that run dir."""
    if resume is None or str(resume).lower() in ("none", ""):
        return None
    if resume == "auto":
        return latest_checkpoint(run_dir)
    path = Path(resume).expanduser()
    if is_complete(path):
        return path
    latest = latest_checkpoint(path) if path.is_dir() else None
    if latest is not None:
        return latest
    raise ValueError(f"checkpoint.resume: {resume!r} is neither a complete checkpoint (a step-NNNNNN "
                     f"directory with a {COMPLETE} file) nor a run directory holding one; use 'auto', "
                     f"'none' or such a path")


# ---- RNG ----------------------------------------------------------------------------------------

def capture_rng_state() -> dict[str, Any]:
    """The RNG states of python ``random``, numpy's global generator, torch CPU and (when CUDA is
    initialised) the current CUDA device, in a form ``torch.load(weights_only=True)`` accepts."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    random.setstate(_as_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def _as_tuple(x: Any) -> Any:
    return tuple(_as_tuple(v) for v in x) if isinstance(x, (list, tuple)) else x


# ---- save ---------------------------------------------------------------------------------------

def _state_of(obj: Any) -> Any:
    return obj.state_dict() if hasattr(obj, "state_dict") else obj


def _json_part(extra: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in extra.items():
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_dir(path: Path) -> None:
    """Delete a checkpoint so it is never seen half-deleted: marker first, then rename, then files."""
    (path / COMPLETE).unlink(missing_ok=True)
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_leftovers(root: Path) -> None:
    for p in root.iterdir():
        if p.is_dir() and (p.name.startswith(".tmp-") or p.name.startswith(".trash-")):
            shutil.rmtree(p, ignore_errors=True)


def _find_tmp(root: Path, name: str) -> Path:
    found = sorted(root.glob(f".tmp-{name}-*"))
    if len(found) != 1:
        raise RuntimeError(f"expected one temporary directory {root}/.tmp-{name}-* created by rank 0, "
                           f"found {len(found)}: is {root} on a filesystem shared by all ranks, and is "
                           f"another run writing to it?")
    return found[0]


def save_checkpoint(run_dir: PathLike, step: int, *,
                    save_model: Optional[Callable[[Path], None]] = None,
                    optimizer: Any = None, scheduler: Any = None,
                    extra_state: Optional[dict[str, Any]] = None,
                    rank_state: Optional[dict[str, Any]] = None,
                    rank: int = 0, world_size: int = 1,
                    barrier: Optional[Callable[[], None]] = None,
                    keep_last: Optional[int] = None,
                    sharded_optimizer: bool = False) -> Path:
    """Write checkpoint ``step`` of ``run_dir`` atomically; returns ``checkpoints/step-NNNNNN``.

    ``optimizer`` / ``scheduler``: objects with ``state_dict()`` (or state dicts); saved by rank 0,
    or by every rank to ``optimizer-rank{r}.pt`` when ``sharded_optimizer``. ``extra_state``: a dict
    of anything picklable (saved by rank 0), the same on every rank; ``rank_state``: what each rank
    holds of its own (saved by every rank, restored to the same rank). ``keep_last``: keep that many complete checkpoints
    (None keeps all). Re-saving an existing step replaces it.
    """
    if keep_last is not None and keep_last < 1:
        raise ValueError(f"keep_last must be >= 1 or None, got {keep_last}")
    sync = barrier or (lambda: None)
    rng = capture_rng_state()
    root = checkpoints_dir(run_dir)
    name = step_dir_name(step)
    if rank == 0:
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root)
        tmp = root / f".tmp-{name}-{os.getpid()}"
        tmp.mkdir()
    sync()  # the temporary directory exists for every rank
    if rank != 0:
        tmp = _find_tmp(root, name)
    try:
        (tmp / MODEL_DIR).mkdir(exist_ok=True)
        if save_model is not None:
            save_model(tmp / MODEL_DIR)
        if optimizer is not None and (sharded_optimizer or rank == 0):
            torch.save(_state_of(optimizer), tmp / optimizer_file(rank, sharded_optimizer))
        if rank == 0:
            if scheduler is not None:
                torch.save(_state_of(scheduler), tmp / SCHEDULER)
            extra = dict(extra_state or {})
            torch.save(extra, tmp / TRAINER_STATE)
            meta = {"step": step, "world_size": world_size, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "state": _json_part(extra)}
            (tmp / TRAINER_STATE_JSON).write_text(json.dumps(meta, indent=2, default=str))
        torch.save(rng, tmp / rng_file(rank))
        if rank_state is not None:
            torch.save(rank_state, tmp / rank_state_file(rank))
    except BaseException:
        if rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    sync()  # every rank has written its part
    final = root / name
    if rank == 0:
        _finalize(tmp, final, step, world_size, sharded_optimizer and optimizer is not None)
        if keep_last is not None:
            for old in list_checkpoints(run_dir)[:-keep_last]:
                _remove_dir(old)
    sync()  # nobody reads or re-saves before the rename
    return final


def _finalize(tmp: Path, final: Path, step: int, world_size: int, sharded_optimizer: bool) -> None:
    expected = [rng_file(r) for r in range(world_size)]
    if sharded_optimizer:
        expected += [optimizer_file(r, True) for r in range(world_size)]
    missing = [f for f in expected if not (tmp / f).is_file()]
    if missing:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"checkpoint step {step}: rank files {missing} are missing from {tmp}; "
                           f"the run dir must be on a filesystem shared by all ranks")
    marker = tmp / COMPLETE
    with open(marker, "w") as f:
        f.write(json.dumps({"step": step, "world_size": world_size}) + "\n")
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(tmp)
    if final.exists():
        _remove_dir(final)
    os.replace(tmp, final)
    _fsync_dir(final.parent)


# ---- load ---------------------------------------------------------------------------------------

@dataclass
class LoadedCheckpoint:
    """What :func:`load_checkpoint` restored."""

    path: Path
    step: int
    model_dir: Path
    extra_state: dict[str, Any] = field(default_factory=dict)
    rng_restored: bool = False
    rank_state: Optional[dict[str, Any]] = None  # this rank's own state, None if it was not saved


def load_checkpoint(path: PathLike, *, optimizer: Any = None, scheduler: Any = None, rank: int = 0,
                    restore_rng: bool = True, load_model: Optional[Callable[[Path], None]] = None,
                    sharded_optimizer: bool = False, map_location: Any = "cpu") -> LoadedCheckpoint:
    """Restore a complete checkpoint into ``optimizer`` / ``scheduler`` (objects with
    ``load_state_dict``), call ``load_model(model_dir)`` if given, and restore this rank's RNG
    states. Returns the step, the model directory and ``extra_state``.

    If the checkpoint has no RNG file for ``rank`` (resumed on more ranks than it was saved with),
    RNG states are left alone and ``rng_restored`` is False: seed that rank as for a fresh start.
    """
    path = Path(path)
    if not is_complete(path):
        raise ValueError(f"{path} is not a complete checkpoint (a step-NNNNNN directory with a "
                         f"{COMPLETE} file)")
    model_dir = path / MODEL_DIR
    if load_model is not None:
        load_model(model_dir)
    if optimizer is not None:
        f = path / optimizer_file(rank, sharded_optimizer)
        if not f.is_file():
            raise ValueError(f"{path}: no optimizer state {f.name}; was it saved with "
                             f"sharded_optimizer={not sharded_optimizer}, or without an optimizer?")
        optimizer.load_state_dict(torch.load(f, map_location=map_location, weights_only=True))
    if scheduler is not None:
        if not (path / SCHEDULER).is_file():
            raise ValueError(f"{path}: no scheduler state {SCHEDULER}")
        scheduler.load_state_dict(torch.load(path / SCHEDULER, map_location=map_location, weights_only=True))
    extra: dict[str, Any] = {}
    if (path / TRAINER_STATE).is_file():
        extra = torch.load(path / TRAINER_STATE, map_location=map_location, weights_only=False)
    rng_restored = False
    if restore_rng and (path / rng_file(rank)).is_file():
        restore_rng_state(torch.load(path / rng_file(rank), map_location="cpu", weights_only=True))
        rng_restored = True
    rank_state = None
    if (path / rank_state_file(rank)).is_file():
        rank_state = torch.load(path / rank_state_file(rank), map_location=map_location, weights_only=False)
    return LoadedCheckpoint(path=path, step=checkpoint_step(path), model_dir=model_dir,
                            extra_state=extra, rng_restored=rng_restored, rank_state=rank_state)
