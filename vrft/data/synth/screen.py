"""Synthetic app screens for the GUI tasks: a title bar and a flow of buttons, icons, fields, links.

`make_screen` returns the PIL image and the placed widgets, each with its kind, its text (or icon
name) and its exact box `[x1, y1, x2, y2]` (x2/y2 exclusive). Every widget's text or icon name is
unique on its screen, so "click the Save button" names exactly one element. Drawing uses Pillow's
bundled default font, so screens look the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from vrft.data.synth.common import font, lerp_int, pick, pick_k

BUTTONS = ["Save", "Cancel", "Submit", "Delete", "Open", "Next", "Back", "Log in", "Sign up", "Help",
           "Export", "Share", "Print", "Edit", "Send", "Reset", "Apply", "Upload", "Download",
           "Refresh", "Copy", "OK", "Continue", "Archive", "Rename", "Update"]
FIELDS = ["Name", "Email", "Password", "Phone", "City", "Address", "Username", "Company", "Title",
          "Country", "Zip code", "Website", "Comment", "Subject", "Nickname", "Search"]
LINKS = ["Forgot password?", "Privacy policy", "Terms of use", "Learn more", "Contact us", "View all"]
CHECKS = ["Remember me", "Dark mode", "Send newsletter", "Auto save", "Show hints"]
HEADINGS = ["Profile", "Preferences", "Account", "Details", "Options", "General"]
APPS = ["Settings", "Account", "Mail", "Notes", "Shop", "Calendar", "Files", "Photos", "Bank", "Travel"]
ICONS = ["settings", "search", "delete", "home", "add", "close", "favorite", "star", "notifications",
         "menu", "mail", "lock"]
ACCENTS = [(25, 118, 210), (46, 125, 50), (198, 40, 40), (123, 31, 162), (0, 121, 107), (239, 108, 0)]


@dataclass
class Widget:
    kind: str  # "button" | "icon" | "field" | "link" | "check" | "heading" | "note"
    text: str
    box: list[int] = field(default_factory=list)  # the clickable part: the input box of a field
    value: str = ""  # text shown inside a field / a note's payload


# ----------------------------------------------------------------------------- icons


def _icon(draw: ImageDraw.ImageDraw, name: str, box: list[int], fg, lw: int) -> None:
    x1, y1, x2, y2 = box
    m = max(2, (x2 - x1) // 5)
    a, b, c, e = x1 + m, y1 + m, x2 - 1 - m, y2 - 1 - m
    cx, cy, r = (a + c) / 2, (b + e) / 2, (c - a) / 2
    if name == "settings":
        for k in range(8):
            t = k * np.pi / 4
            draw.line([(cx, cy), (cx + r * np.cos(t), cy + r * np.sin(t))], fill=fg, width=lw + 1)
        draw.ellipse([cx - r * 0.65, cy - r * 0.65, cx + r * 0.65, cy + r * 0.65], fill=fg)
        draw.ellipse([cx - r * 0.25, cy - r * 0.25, cx + r * 0.25, cy + r * 0.25], fill=(255, 255, 255))
    elif name == "search":
        draw.ellipse([a, b, a + 1.3 * r, b + 1.3 * r], outline=fg, width=lw)
        draw.line([(a + 1.1 * r, b + 1.1 * r), (c, e)], fill=fg, width=lw + 1)
    elif name == "delete":
        draw.rectangle([a + r * 0.3, b + r * 0.5, c - r * 0.3, e], outline=fg, width=lw)
        draw.line([(a, b + r * 0.3), (c, b + r * 0.3)], fill=fg, width=lw)
        draw.line([(cx - r * 0.3, b), (cx + r * 0.3, b)], fill=fg, width=lw)
    elif name == "home":
        draw.polygon([(cx, b), (c, cy), (a, cy)], fill=fg)
        draw.rectangle([a + r * 0.3, cy, c - r * 0.3, e], fill=fg)
    elif name == "add":
        draw.line([(cx, b), (cx, e)], fill=fg, width=lw + 1)
        draw.line([(a, cy), (c, cy)], fill=fg, width=lw + 1)
    elif name == "close":
        draw.line([(a, b), (c, e)], fill=fg, width=lw + 1)
        draw.line([(a, e), (c, b)], fill=fg, width=lw + 1)
    elif name == "favorite":
        draw.ellipse([a, b, cx, cy], fill=fg)
        draw.ellipse([cx, b, c, cy], fill=fg)
        draw.polygon([(a + 1, (b + cy) / 2 + 1), (c - 1, (b + cy) / 2 + 1), (cx, e)], fill=fg)
    elif name == "star":
        pts = [(cx + (r if k % 2 == 0 else r * 0.45) * np.cos(-np.pi / 2 + k * np.pi / 5),
                cy + (r if k % 2 == 0 else r * 0.45) * np.sin(-np.pi / 2 + k * np.pi / 5)) for k in range(10)]
        draw.polygon(pts, fill=fg)
    elif name == "notifications":
        draw.chord([a + r * 0.2, b, c - r * 0.2, e + r * 0.6], 180, 360, fill=fg)
        draw.rectangle([a, cy + r * 0.3, c, cy + r * 0.5], fill=fg)
        draw.ellipse([cx - r * 0.2, e - r * 0.3, cx + r * 0.2, e], fill=fg)
    elif name == "menu":
        for yy in (b + r * 0.2, cy, e - r * 0.2):
            draw.line([(a, yy), (c, yy)], fill=fg, width=lw + 1)
    elif name == "mail":
        draw.rectangle([a, b + r * 0.3, c, e - r * 0.3], outline=fg, width=lw)
        draw.line([(a, b + r * 0.3), (cx, cy), (c, b + r * 0.3)], fill=fg, width=lw)
    elif name == "lock":
        draw.arc([a + r * 0.4, b, c - r * 0.4, cy + r * 0.4], 180, 360, fill=fg, width=lw + 1)
        draw.rectangle([a + r * 0.1, cy, c - r * 0.1, e], fill=fg)
    else:
        raise ValueError(f"unknown icon {name!r}")


# ----------------------------------------------------------------------------- screens


def _size(draw: ImageDraw.ImageDraw, w: Widget, fs: int) -> tuple[int, int]:
    f = font(fs)
    tw = int(draw.textlength(w.text, font=f))
    if w.kind == "button":
        return tw + 2 * fs, int(fs * 2.2)
    if w.kind == "icon":
        return int(fs * 2.2), int(fs * 2.2)
    if w.kind == "field":
        return tw + fs // 2 + int(fs * 9), int(fs * 2.2)
    if w.kind == "check":
        return fs + 6 + tw, int(fs * 1.6)
    if w.kind == "note":
        return int(draw.textlength(f"{w.text}: {w.value}", font=f)) + fs, int(fs * 2.2)
    return tw, int(fs * 1.6)  # link, heading


def make_widgets(rng: np.random.Generator, n: int, icon_frac: float, kinds: tuple = ("button", "icon", "field", "link", "check")) -> list[Widget]:
    """`n` widgets with unique texts, mixed kinds (icons about `icon_frac` of them)."""
    pools = {"button": BUTTONS, "field": FIELDS, "link": LINKS, "check": CHECKS, "icon": ICONS}
    used = {k: pick_k(rng, pools[k], len(pools[k])) for k in pools}
    others = [k for k in kinds if k != "icon"]
    out = []
    for _ in range(n):
        kind = "icon" if ("icon" in kinds and rng.random() < icon_frac) else pick(rng, others)
        if not used[kind]:
            kind = next((k for k in kinds if used[k]), None)
            if kind is None:
                break
        out.append(Widget(kind, used[kind].pop()))
    return out


def make_screen(rng: np.random.Generator, d: float, widgets: list[Widget]) -> tuple[Image.Image, list[Widget]]:
    """Lay `widgets` out in rows under a title bar and draw them; return the image and the widgets
    that fitted (with boxes), in drawing order. Difficulty shrinks text and enlarges the screen."""
    w = int(rng.integers(320, lerp_int(400, 448, d) + 1))
    h = int(rng.integers(280, lerp_int(360, 448, d) + 1))
    fs = int(rng.integers(lerp_int(13, 10, d), lerp_int(15, 12, d) + 1))
    dark = bool(rng.random() < 0.3 * d)
    bg, fg, muted = ((34, 36, 40), (235, 235, 235), (150, 150, 150)) if dark else \
        ((248, 248, 250), (30, 30, 30), (150, 150, 150))
    panel = (48, 50, 56) if dark else (255, 255, 255)
    accent = pick(rng, ACCENTS)
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    bar_h = int(fs * 2.2)
    draw.rectangle([0, 0, w - 1, bar_h - 1], fill=accent)
    draw.text((10, bar_h // 2), pick(rng, APPS), font=font(fs + 1), fill=(255, 255, 255), anchor="lm")

    pad, gap, row_gap = int(rng.integers(8, 14)), int(rng.integers(8, 16)), int(rng.integers(8, 28))
    x, y, row_h = pad, bar_h + pad, 0
    placed: list[Widget] = []
    for wd in widgets:
        ww, wh = _size(draw, wd, fs)
        if x + ww > w - pad and x > pad:
            x, y, row_h = pad, y + row_h + row_gap, 0
            if rng.random() < 0.3:  # a section heading now and then
                head = Widget("heading", pick(rng, HEADINGS))
                draw.text((pad, y), head.text, font=font(fs + 1), fill=muted)
                y += int(fs * 1.6) + gap // 2
        if x + ww > w - pad or y + wh > h - pad:
            continue
        _draw_widget(draw, wd, x, y, ww, wh, fs, fg=fg, panel=panel, accent=accent, muted=muted, rng=rng)
        placed.append(wd)
        x += ww + gap
        row_h = max(row_h, wh)
    return img, placed


def _draw_widget(draw, wd: Widget, x, y, ww, wh, fs, *, fg, panel, accent, muted, rng) -> None:
    f = font(fs)
    if wd.kind == "button":
        primary = rng.random() < 0.4
        draw.rounded_rectangle([x, y, x + ww - 1, y + wh - 1], radius=fs // 3,
                               fill=accent if primary else panel, outline=accent, width=1)
        draw.text((x + ww / 2, y + wh / 2), wd.text, font=f, fill=(255, 255, 255) if primary else fg, anchor="mm")
        wd.box = [x, y, x + ww, y + wh]
    elif wd.kind == "icon":
        draw.rounded_rectangle([x, y, x + ww - 1, y + wh - 1], radius=fs // 3, fill=panel)
        _icon(draw, wd.text, [x, y, x + ww, y + wh], accent if rng.random() < 0.5 else fg, max(1, fs // 7))
        wd.box = [x, y, x + ww, y + wh]
    elif wd.kind == "field":
        draw.text((x, y + wh / 2), wd.text, font=f, fill=fg, anchor="lm")
        fx = x + int(draw.textlength(wd.text, font=f)) + fs // 2
        draw.rectangle([fx, y, x + ww - 1, y + wh - 1], fill=panel, outline=muted, width=1)
        if wd.value:
            draw.text((fx + 4, y + wh / 2), wd.value, font=f, fill=muted, anchor="lm")
        wd.box = [fx, y, x + ww, y + wh]
    elif wd.kind == "check":
        draw.rectangle([x, y + (wh - fs) // 2, x + fs - 1, y + (wh - fs) // 2 + fs - 1], outline=fg, width=1)
        draw.text((x + fs + 6, y + wh / 2), wd.text, font=f, fill=fg, anchor="lm")
        wd.box = [x, y, x + ww, y + wh]
    elif wd.kind == "note":
        draw.rectangle([x, y, x + ww - 1, y + wh - 1], fill=(255, 236, 150), outline=(200, 170, 60))
        draw.text((x + fs // 2, y + wh / 2), f"{wd.text}: {wd.value}", font=f, fill=(30, 30, 30), anchor="lm")
        wd.box = [x, y, x + ww, y + wh]
    else:  # link
        draw.text((x, y + wh / 2), wd.text, font=f, fill=accent, anchor="lm")
        draw.line([(x, y + wh - 3), (x + ww - 1, y + wh - 3)], fill=accent, width=1)
        wd.box = [x, y, x + ww, y + wh]
