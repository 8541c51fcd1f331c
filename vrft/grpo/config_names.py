"""The registries that run-config keys name: ``load_config(path, registries=CONFIG_REGISTRIES)``.

``vrft/config`` sits below the engine and does not import it, so a caller that wants the names of
``algo.advantage``, ``algo.loss`` and ``algo.kl_estimator`` checked when the config is read (``vrft train`` does) hands
these over; ``vrft.config.check_names`` raises a ConfigError naming the key and the valid names.
"""

from __future__ import annotations

from vrft.grpo.advantages import ADVANTAGES
from vrft.grpo.kl import KL_ESTIMATORS
from vrft.grpo.losses import LOSSES
from vrft.grpo.offpolicy.advantage import EXPERT_ADVANTAGES
from vrft.grpo.offpolicy.objective import EXPERT_FORMS
from vrft.registry import Registry

CONFIG_REGISTRIES: dict[str, Registry] = {
    "algo.advantage": ADVANTAGES, "algo.loss": LOSSES, "algo.kl_estimator": KL_ESTIMATORS,
    "algo.offpolicy.expert_form": EXPERT_FORMS, "algo.offpolicy.expert_advantage": EXPERT_ADVANTAGES,
    "algo.prefix_sampling.form": EXPERT_FORMS,
}
