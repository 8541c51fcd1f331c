"""The embedded default (datasets_cfg/demo.yaml) loads the synthetic tasks as the generator writes
them, and every sample renders a prompt and a ground-truth completion."""

from __future__ import annotations

import pytest

from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame
from vrft.data.load import load_datasets
from vrft.data.mixture import MixtureData
from vrft.data.mixture_config import load_mixture_config
from vrft.data.templates import render_prompt, render_solution_completion


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    synth = pytest.importorskip("vrft.data.synth")
    root = tmp_path_factory.mktemp("vrft_cache")
    synth.generate(root / "synth", "all", n=6, seed=0, test_n=2)
    return root


def test_demo_loads_every_synthetic_task(demo_cache, monkeypatch):
    monkeypatch.setenv("VRFT_CACHE", str(demo_cache))
    cfg = load_mixture_config("demo")
    datasets = load_datasets(cfg)
    assert set(datasets) == {"color", "grounding", "detection", "chart", "gui", "gui_type", "temporal", "zoom"}
    for name, ds in datasets.items():
        assert len(ds.samples) >= 6 and len(ds.heldout) >= 2, name
        for s in ds.samples[:2] + ds.heldout[:1]:
            frames = None
            if s.images:
                w, h = s.meta.get("width", 200), s.meta.get("height", 100)
                frames = [ImageFrame((w, h), (w // 2 * 2, h // 2 * 2), RESIZED_PIXELS)]
            for frame in (NORM_1000, RESIZED_PIXELS):
                assert "<answer>" in render_prompt(s, ds.config.prompt_template, frame)
            assert render_solution_completion(s, frames).startswith("<answer>")
    data = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
    assert len(data.next_batch()) == 8
