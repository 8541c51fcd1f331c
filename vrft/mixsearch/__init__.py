"""Offline mixture search (MoDoMoDo-style): proxy trainings at sampled mixtures, a quadratic surrogate
of held-out score over the simplex, and its maximiser written as a mixture YAML.

    vrft mix-search run.yaml --trials 16 --steps 20 --out runs/mix-search

Modules: :mod:`~vrft.mixsearch.surrogate` (pure numpy fit and maximiser),
:mod:`~vrft.mixsearch.mixture_yaml` (mixture copies with new weights),
:mod:`~vrft.mixsearch.search` (the trials), :mod:`~vrft.mixsearch.report` (report.json / .md).
See docs/mix_search.md.
"""

from vrft.mixsearch.surrogate import (QuadraticSurrogate, dirichlet_mixtures, fit_quadratic, maximize_on_simplex,
                                      project_simplex, scheffe_features)

__all__ = ["QuadraticSurrogate", "dirichlet_mixtures", "fit_quadratic", "maximize_on_simplex", "project_simplex",
           "scheffe_features"]
