"""Data: the Sample schema, format loaders, mixtures, difficulty and synthetic tasks.

Entry points (imported from their modules, so importing ``vrft.data`` stays cheap):

- ``vrft.data.mixture_config.load_mixture_config(path_or_name)`` -> ``MixtureConfig``;
  ``validate_rewards(cfg, known_reward_names)``.
- ``vrft.data.load.load_datasets(cfg)`` -> ``{name: LoadedDataset(samples, heldout, config)}``.
- ``vrft.data.mixture.MixtureData.build(cfg, batch_size, seed, rank, world_size)``: sampler +
  mixture strategy + difficulty tracker; ``next_batch()``, ``observe(groups)``, ``state_dict()``.
- ``vrft.data.templates.render_prompt`` / ``render_solution_completion``.
- ``vrft.data.loaders.get_loader(format)``; ``vrft.data.synth.generate`` (synthetic tasks).

See docs/datasets.md.
"""
