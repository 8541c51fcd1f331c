"""One rank of tests/serving/test_sharded_sync.py, launched by ``torchrun --nproc_per_node=2``: a
sharded GRPO trainer (FSDP2 or ZeRO-3, from the config overrides on the command line) against the
real vLLM server. It scores a fixed continuation on the server and with the trainer's own sharded
forward (every rank takes part) before and after one training step, and rank 0 writes them as JSON.

    torchrun --nproc_per_node=2 tests/serving/sharded_sync_worker.py OUT.json IMAGE KEY=VALUE...
"""

from __future__ import annotations

import json
import sys

import torch

from vrft.config import load_config
from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample
from vrft.grpo.trainer import GRPOTrainer
from vrft.parallel import shutdown
from vrft.policy.logprobs import completion_logprobs
from vrft.rollout import VLLMServerBackend, prepare_episode


def main() -> None:
    out_path, image, overrides = sys.argv[1], sys.argv[2], sys.argv[3:]
    trainer = GRPOTrainer(load_config(None, overrides))
    try:
        policy = trainer.policy
        cfg = DatasetConfig(name="t", format="jsonl", files=["t.jsonl"], task="vqa", rewards=[], tools=ToolsConfig())
        ep = prepare_episode(policy, Sample(id="t/1", dataset="t", task="vqa", prompt="What colour is it?",
                                            solution={"answer": "red"}, images=[image]), cfg)
        cont = torch.tensor(policy.tokenizer("<answer>red</answer>", add_special_tokens=False)["input_ids"])

        def scores() -> tuple[list[float], list[float]]:
            """(server, trainer) log-probs of ``cont`` at temperature 1, no token suppression (as /score)."""
            with torch.no_grad():  # the sharded forward is a collective: every rank runs it
                mine = completion_logprobs(policy.model, [ep.prompt], [0], [cont], pad_id=policy.pad_id,
                                           suppress_ids=None).logprobs[0]
            server = []
            if trainer.info.is_main:
                req = {**VLLMServerBackend.request(ep.request([])), "continuation": cont.tolist()}
                server = trainer.draws.engine().score([req])[0]
            return server, mine.float().cpu().tolist()

        trainer.draws.engine()  # first contact: every rank gathers, rank 0 sends the starting weights
        server_before, trainer_before = scores()
        trainer.train_step()  # rollouts through the server, the sharded update, the sync after it
        server_after, trainer_after = scores()
        if trainer.info.is_main:
            with open(out_path, "w") as f:
                json.dump({"server_before": server_before, "trainer_before": trainer_before,
                           "server_after": server_after, "trainer_after": trainer_after,
                           "world": trainer.info.world, "sharded": bool(trainer.backend.sharded)}, f)
    finally:
        shutdown()


if __name__ == "__main__":
    main()
