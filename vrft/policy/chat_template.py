"""A Qwen-style chat template for locally built checkpoints.

It follows the layout of the Qwen2/2.5/3-VL templates (ChatML turns, one
`<|vision_start|><|image_pad|><|vision_end|>` per image block) and tests `content['type']`
rather than key presence, because dataset rows often carry `"video": None` in every block.
Tool observations (`role: tool`) are rendered as a user turn wrapped in `<tool_response>`,
as Qwen's own templates do. No whitespace control is used: the pieces are concatenated with no
whitespace between tags, so every newline in the output is one written here on purpose. A newline
right after a block tag is written as `{{ '\n' }}`, because Hugging Face renders templates with
`trim_blocks`, which would drop it.
"""

QWEN_VL_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "{% if message['role'] == 'tool' %}<|im_start|>user\n<tool_response>\n"
    "{% else %}<|im_start|>{{ message['role'] }}\n{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "{% if message['role'] == 'tool' %}{{ '\\n' }}</tool_response>{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
