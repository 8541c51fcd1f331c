"""Format loaders, one file per public format, behind a registry.

``get_loader("refcoco")(path, media_root, dataset_name, task, **opts) -> LoadResult``.
Built-in formats: refcoco, coco, chartqa, screenspot, screenspot_pro, charades_sta, activitynet,
jsonl (native Sample rows; also parquet).
"""

from vrft.data.loaders.registry import LoaderSpec, get_loader, list_loaders, register_loader
from vrft.data.loaders import (  # noqa: F401  (importing registers the loaders)
    activitynet, charades_sta, chartqa, coco, native, refcoco, screenspot, screenspot_pro,
)

__all__ = ["LoaderSpec", "get_loader", "list_loaders", "register_loader"]
