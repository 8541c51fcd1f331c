"""The tool registry, the runner's error observations and the default system prompt."""

import json

import pytest

from rewards.frames import NORM_1000, RESIZED_PIXELS
from vrft.policy.families import FAMILIES
from vrft.policy.media import VisionSettings
from vrft.tools import (
    Observation, ToolContext, UnknownToolError, default_system_prompt, get_tool, list_tools, register_tool,
    run_tool_call, tools_system_prompt,
)
from vrft.tools.registry import TOOLS


def test_builtins_and_unknown_names():
    assert {"zoom_in", "zoom_in_video"} <= set(list_tools())
    with pytest.raises(UnknownToolError, match=r"did you mean 'zoom_in'\?.*valid tools: \["):
        get_tool("zoom_im")
    with pytest.raises(ValueError, match="already registered"):
        register_tool("zoom_in", description="x")(lambda a, c: Observation("x"))


def test_custom_tool_and_runner():
    @register_tool("echo_test", description="Echo the text.", parameters={"type": "object"})
    def echo(arguments, ctx):
        return Observation(text=str(arguments.get("text")), result={"echoed": True})

    try:
        ctx = ToolContext(images=[], image_frames=[], settings=VisionSettings(), family=FAMILIES["qwen2_vl"])
        obs, call = run_tool_call('<tool_call>{"name": "echo_test", "arguments": {"text": "hi"}}</tool_call>',
                                  ctx, ["echo_test"])
        assert obs.text == "hi" and call.valid and call.error is None and call.result == {"echoed": True}
        obs, call = run_tool_call('<tool_call>{"name": "echo_test", "arguments": {}}</tool_call>', ctx, ["zoom_in"])
        assert obs.text == "Error: unknown tool 'echo_test'; available tools: zoom_in" and not call.valid
        assert call.name == "echo_test" and call.error == obs.error
        obs, call = run_tool_call('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call>',
                                  ctx, ["zoom_in"])
        assert obs.error == "zoom_in: this task has no image" and not call.valid
    finally:
        TOOLS.unregister("echo_test")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_default_system_prompt_lists_the_tools_in_the_policy_frame(family):
    frame = FAMILIES[family].output_frame
    text = default_system_prompt(["zoom_in", "zoom_in_video"], frame)
    sigs = [json.loads(line) for line in text.split("<tools>\n")[1].split("\n</tools>")[0].splitlines()]
    assert [s["function"]["name"] for s in sigs] == ["zoom_in", "zoom_in_video"]
    zoom = sigs[0]["function"]
    assert zoom["parameters"]["required"] == ["bbox_2d"]
    assert ("0-1000" in zoom["description"]) == (frame == NORM_1000)
    assert ("pixel coordinates of the image you see" in zoom["description"]) == (frame == RESIZED_PIXELS)
    assert '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>' in text
    assert "zoom_in_video" not in default_system_prompt(["zoom_in"], frame)


def test_tools_system_prompt():
    assert tools_system_prompt("Mine.", ["zoom_in"], NORM_1000) == "Mine."
    assert tools_system_prompt(None, [], NORM_1000) is None
    assert "# Tools" in tools_system_prompt(None, ["zoom_in"], NORM_1000)
