"""Run configs shipped with the package (the embedded default used by `vrft demo`)."""

import os

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))


def config_path(name: str) -> str:
    return os.path.join(CONFIG_DIR, name + ".yaml")
