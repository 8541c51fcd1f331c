"""`vrft data check CONFIG`: decode every image and video a mixture config reads.

    vrft data check datasets_cfg/image_video_mix.yaml --workers 8
    vrft data check refcoco --frames 0        # a builtin config name; decode every video frame

Reads each data file (training and held-out) with its dataset's loader, decodes each media file in
worker processes (a progress bar on stderr), prints every bad row with its dataset, file, row and
reason, and exits 1 when there is any (0 when all are usable, 2 when the config cannot be read).
"""

from __future__ import annotations

import argparse
import sys

from vrft.data.media_check import check_mixture, print_report, progress_bar
from vrft.data.mixture_config import load_mixture_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    check = sub.add_parser("check", help="decode every image and video of a mixture config")
    check.add_argument("config", help="mixture YAML, or a builtin name (demo, refcoco, ...)")
    check.add_argument("--workers", type=int, default=None, help="decoding processes (default: CPU count)")
    check.add_argument("--frames", type=int, default=8,
                       help="frames decoded per video, spread over it with the last included; 0: all (8)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_mixture_config(args.config)
        progress = None if args.no_progress else progress_bar(sys.stderr)
        report = check_mixture(cfg, workers=args.workers, frames=args.frames, progress=progress)
    except (ValueError, FileNotFoundError) as e:
        print(f"vrft data check: error: {e}")
        return 2
    print_report(report)
    return 0 if report.ok else 1
