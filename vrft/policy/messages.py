"""Chat messages for one prompt: media blocks first, then the text (Qwen's convention)."""

from __future__ import annotations


def build_messages(text: str, n_images: int = 0, has_video: bool = False, system: str | None = None) -> list[dict]:
    content: list[dict] = [{"type": "image"} for _ in range(n_images)]
    if has_video:
        content.append({"type": "video"})
    content.append({"type": "text", "text": text})
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": content})
    return messages
