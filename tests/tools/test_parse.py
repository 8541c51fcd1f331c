"""parse_tool_call: the Qwen format, lenient where harmless, and an error (never an exception) on garbage."""

import pytest

from vrft.tools.parse import MAX_BODY_CHARS, ToolCallError, has_tool_call, parse_tool_call

ZOOM = '{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 30, 40]}}'


def test_parses_the_qwen_format():
    assert parse_tool_call(f"<think>look closer</think>\n<tool_call>\n{ZOOM}\n</tool_call>") == \
        ("zoom_in", {"bbox_2d": [1, 2, 30, 40]})


def test_lenient_forms():
    assert parse_tool_call(f"<tool_call>```json\n{ZOOM}\n```</tool_call>")[0] == "zoom_in"
    as_string = '{"name": "zoom_in", "arguments": "{\\"bbox_2d\\": [1, 2, 3, 4]}"}'
    assert parse_tool_call(f"<tool_call>{as_string}</tool_call>") == ("zoom_in", {"bbox_2d": [1, 2, 3, 4]})
    first = parse_tool_call(f"<tool_call>{ZOOM}</tool_call> then <tool_call>garbage</tool_call>")
    assert first == ("zoom_in", {"bbox_2d": [1, 2, 30, 40]})


@pytest.mark.parametrize("text, message", [
    ("no call here", "no <tool_call>"),
    (f"<tool_call>{ZOOM}", "no closing"),
    ("<tool_call>   </tool_call>", "empty"),
    ('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2]}</tool_call>', "not valid JSON"),
    ("<tool_call>[1, 2, 3]</tool_call>", "JSON object"),
    ('<tool_call>{"arguments": {}}</tool_call>', 'no "name"'),
    ('<tool_call>{"name": 3, "arguments": {}}</tool_call>', 'no "name"'),
    ('<tool_call>{"name": "zoom_in"}</tool_call>', 'no "arguments"'),
    ('<tool_call>{"name": "zoom_in", "arguments": [1, 2, 3, 4]}</tool_call>', "must be a JSON object"),
    ('<tool_call>{"name": "zoom_in", "arguments": "{oops"}</tool_call>', "not valid JSON"),
    ('<tool_call>{"name": "zoom_in", "arguments": {}, "id": 7}</tool_call>', "unexpected keys"),
    ("<tool_call>" + "[" * 5000 + "</tool_call>", "too long"),
    ("<tool_call>" + "[" * 100_000 + "</tool_call>", "no closing"),  # the tag is past the 64 KB read
    ("<tool_call>" + "[" * 2000 + "]" * 2000 + "</tool_call>", "nested too deeply"),
    ("<tool_call>__import__('os').system('echo hi')</tool_call>", "not valid JSON"),
])
def test_garbage_is_an_error_not_an_exception(text, message):
    out = parse_tool_call(text)
    assert isinstance(out, ToolCallError) and message in out.message, out


def test_bounded_input_and_non_text():
    assert isinstance(parse_tool_call(None), ToolCallError)
    huge = "x" * 10_000_000 + f"<tool_call>{ZOOM}</tool_call>"
    assert isinstance(parse_tool_call(huge), ToolCallError)  # only the first 64 KB are looked at
    assert len(ZOOM) < MAX_BODY_CHARS


def test_nan_and_infinity_parse_and_are_left_to_the_tool():
    name, args = parse_tool_call('<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [NaN, 1, Infinity, 1e999]}}'
                                 "</tool_call>")
    assert name == "zoom_in" and args["bbox_2d"][0] != args["bbox_2d"][0]


def test_has_tool_call():
    assert has_tool_call("<tool_call>{") and has_tool_call("x</tool_call>") and not has_tool_call("<answer>3</answer>")
