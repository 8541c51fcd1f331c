"""Built-in rewards; importing this package registers all of them."""

from rewards.builtin import (answer_match, chart_answer, detection, format, gui_action, gui_click, iou,
                             temporal_iou, tool_use)

__all__ = ["answer_match", "chart_answer", "detection", "format", "gui_action", "gui_click", "iou",
           "temporal_iou", "tool_use"]
