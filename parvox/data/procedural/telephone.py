"""Telephones: smartphones (upright, on a dock, with camera bumps), candy-bar phones with
antennas, open flip phones, desk phones and cordless cradles with handsets, rotary phones,
candlestick phones and wall pay phones.

Frame: screens and keypads face +X, width along Z, +Y up (phones stand upright).
"""

from __future__ import annotations

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import Part, rot_z
from .palette import Material
from .primitives import (
    bezier,
    box,
    cylinder,
    disc,
    lathe,
    prism,
    rounded_box,
    superellipsoid,
    tube,
)


def _slab(h: float, w: float, t: float, r: float, body: Material, screen: Material,
          bez: float) -> list[tuple[Part, Material]]:
    """Phone slab standing on y = 0 (rounded corners in the screen plane) and its screen."""
    c = (0.0, h / 2, 0.0)
    return [(rounded_box((t, h, w), r, c, axis=0), body),
            (box((0.001, h - 2 * bez * 1.5, w - 2 * bez), (t / 2 + 0.0004, h / 2, 0.0)), screen)]


def _smartphone(b: ShapeBuilder, rng: np.random.Generator, body: Material,
                screen: Material) -> None:
    """Modern slab, upright or leaning on a dock, maybe with a camera bump on the back."""
    h = rng.uniform(0.11, 0.17)
    w = h * rng.uniform(0.42, 0.56)
    t = rng.uniform(0.006, 0.013)
    parts = _slab(h, w, t, w * rng.uniform(0.05, 0.2), body, screen, rng.uniform(0.001, 0.006))
    if rng.random() < 0.6:
        cam = rng.uniform(0.012, 0.035)
        parts.append((rounded_box((0.003, cam, cam * rng.uniform(1.0, 2.2)), cam * 0.3,
                                  (-t / 2 - 0.0015, h - cam, w * rng.uniform(0.0, 0.3)),
                                  axis=0), body))
    if rng.random() < 0.35:
        tilt = rng.uniform(0.15, 0.5)
        dock = pal.any_of(rng, pal.plastic, pal.metal, pal.wood)
        base_d = rng.uniform(0.05, 0.09)
        b.add(rounded_box((base_d, 0.012, w * rng.uniform(0.6, 1.1)), 0.005,
                          (-base_d * 0.3, 0.006, 0)), dock)
        b.add(box((0.006, h * 0.4, w * 0.3), (-base_d * 0.3 - 0.01, h * 0.2, 0)).rotated(
            rot_z(tilt), (-base_d * 0.3, 0, 0)), dock)
        for p, m in parts:
            b.add(p.rotated(rot_z(tilt)).moved((0, 0.012, 0)), m)
        return
    for p, m in parts:
        b.add(p, m)


def _candybar(b: ShapeBuilder, rng: np.random.Generator, body: Material,
              screen: Material) -> None:
    """Older phone: thick slab, small screen above a keypad, maybe an antenna stub."""
    h, w, t = rng.uniform(0.1, 0.15), rng.uniform(0.04, 0.055), rng.uniform(0.015, 0.028)
    b.add(rounded_box((t, h, w), w * 0.3, (0, h / 2, 0), axis=0), body)
    b.add(box((0.002, h * 0.3, w * 0.75), (t / 2, h * 0.72, 0)), screen)
    keys = pal.any_of(rng, pal.plastic, pal.metal)
    for i in range(4):
        for j in range(3):
            c = (t / 2, h * (0.1 + 0.1 * i), w * (j - 1) * 0.27)
            b.add(box((0.003, h * 0.05, w * 0.18), c), keys)
    if rng.random() < 0.5:
        ah = rng.uniform(0.02, 0.1)
        b.add(cylinder((-t * 0.2, h * 0.95, w * 0.3), (-t * 0.2, h + ah, w * 0.3),
                       rng.uniform(0.003, 0.007), m=8), body)


def _flip(b: ShapeBuilder, rng: np.random.Generator, body: Material, screen: Material) -> None:
    """Open clamshell: keypad half upright, screen half hinged back at an angle."""
    hl, w, t = rng.uniform(0.08, 0.1), rng.uniform(0.045, 0.055), rng.uniform(0.008, 0.012)
    hu = hl * rng.uniform(0.85, 1.05)
    open_angle = np.radians(rng.uniform(140, 175))
    lean = rng.uniform(0.0, 0.3)
    hinge = np.array([0.0, hl, 0.0])
    lower = [(rounded_box((t, hl, w), w * 0.2, (0, hl / 2, 0), axis=0), body)]
    keys = pal.any_of(rng, pal.plastic, pal.metal)
    lower.append((box((0.002, hl * 0.6, w * 0.8), (t / 2, hl * 0.45, 0)), keys))
    upper = [(rounded_box((t, hu, w), w * 0.2, (0, hl + hu / 2, 0), axis=0), body),
             (box((0.002, hu * 0.7, w * 0.8), (t / 2 + 0.0005, hl + hu / 2, 0)), screen)]
    back = np.pi - open_angle
    for p, m in lower:
        b.add(p.rotated(rot_z(lean)), m)
    rot_hinge = rot_z(lean)
    pivot = hinge @ rot_hinge.T
    for p, m in upper:
        b.add(p.rotated(rot_z(lean)).rotated(rot_z(back), pivot), m)
    b.add(cylinder(pivot - [0, 0, w / 2], pivot + [0, 0, w / 2], t * 0.6, m=10), body)


def _handset(rng: np.random.Generator, length: float, y: float, x: float) -> list[Part]:
    """Classic handset lying along Z: a bar with ear and mouth cups hanging below."""
    r = length * rng.uniform(0.07, 0.1)
    parts = [cylinder((x, y, -length / 2), (x, y, length / 2), r, m=10)]
    for s in (-1, 1):
        cup = superellipsoid((r * 3.2, r * 2.4, r * 2.4), (x, y - r * 1.2, s * length * 0.42),
                             0.7, m=12, n=5)
        parts.append(cup)
    return parts


def _desk(b: ShapeBuilder, rng: np.random.Generator, body: Material, screen: Material) -> None:
    """Desk phone: sloped base with keypad, handset in its cradle, maybe a coiled cord."""
    d, w = rng.uniform(0.16, 0.24), rng.uniform(0.18, 0.26)
    hf, hb = rng.uniform(0.03, 0.05), rng.uniform(0.07, 0.11)
    b.add(prism([[-d / 2, 0], [d / 2, 0], [d / 2, hf], [-d / 2, hb]], w, (0, 0, 0)), body)
    keys = pal.any_of(rng, pal.plastic, pal.metal)
    slope = np.arctan2(hb - hf, d)
    pad = box((d * 0.4, 0.006, w * 0.35), (d * 0.1, (hf + hb) / 2 + 0.002, w * 0.15))
    b.add(pad.rotated(rot_z(slope), (0, (hf + hb) / 2, 0)), keys)
    if rng.random() < 0.5:
        b.add(box((d * 0.25, 0.006, w * 0.35), (d * -0.2, (hf + hb) / 2 + 0.01, w * 0.15)),
              screen)
    hl = w * rng.uniform(0.8, 1.0)
    b.add_all(_handset(rng, hl, hb + 0.03, -d * 0.25), body)
    if rng.random() < 0.5:
        t = np.linspace(0, 8 * np.pi, 40)
        coil = np.stack([-d * 0.25 + 0.01 * np.cos(t) - t * 0.002, 0.02 + 0.01 * np.sin(t),
                         -hl / 2 - 0.02 - t * 0.003], axis=1)
        b.add(tube(coil, 0.003, 4), body)


def _cordless(b: ShapeBuilder, rng: np.random.Generator, body: Material,
              screen: Material) -> None:
    """Charging cradle with a handset standing in it, tilted back."""
    d, w = rng.uniform(0.06, 0.12), rng.uniform(0.06, 0.1)
    b.add(rounded_box((d, 0.03, w), 0.01, (0, 0.015, 0), axis=1), body)
    h = rng.uniform(0.13, 0.19)
    hw, t = rng.uniform(0.04, 0.055), rng.uniform(0.02, 0.03)
    handset = [(rounded_box((t, h, hw), hw * 0.3, (0, h / 2, 0), axis=0), body),
               (box((0.002, h * 0.25, hw * 0.7), (t / 2, h * 0.75, 0)), screen)]
    tilt = rng.uniform(0.1, 0.4)
    for p, m in handset:
        b.add(p.rotated(rot_z(tilt)).moved((0, 0.015, 0)), m)


def _rotary(b: ShapeBuilder, rng: np.random.Generator, body: Material) -> None:
    """Rotary phone: domed body, dial on the front slope, handset across the cradle on top."""
    d, w, h = rng.uniform(0.18, 0.24), rng.uniform(0.16, 0.22), rng.uniform(0.09, 0.13)
    b.add(superellipsoid((d, h, w), (0, h / 2, 0), rng.uniform(0.3, 0.6), m=16, n=8), body)
    dial = disc((0, 0, 0), w * 0.28, 0.01, axis=0, m=16).rotated(rot_z(0.6))
    b.add(dial.moved((d * 0.4, h * 0.6, 0)), pal.Material((235, 235, 225), 0.5))
    b.add_all(_handset(rng, w * 1.05, h * 1.15, -d * 0.05), body)


def _candlestick(b: ShapeBuilder, rng: np.random.Generator, body: Material) -> None:
    """Candlestick phone: round base, tall stem with a mouthpiece, earpiece on a hook."""
    h = rng.uniform(0.25, 0.35)
    r = rng.uniform(0.05, 0.07)
    b.add(lathe([r, r, r * 0.5, 0.012, 0.012], [0, 0.01, 0.03, 0.05, h], m=16), body)
    mouth = lathe([0.01, 0.025, 0.02], [0, 0.03, 0.035], m=12)
    b.add(mouth.rotated(rot_z(-np.pi / 2 + 0.3)).moved((0.005, h - 0.005, 0)), body)
    hook = np.array([0.0, h * 0.75, r * 0.25])
    b.add(cylinder(hook, hook + [0, 0, 0.04], 0.004, m=6), body)
    ear = cylinder(hook + [0, -0.09, 0.05], hook + [0, 0.01, 0.05], 0.012, 0.02, m=10)
    b.add(ear, body)
    cord = bezier([hook + [0, -0.09, 0.05], [0.0, 0.0, r * 1.5], [-r * 1.5, 0.005, 0.0]], 8)
    b.add(tube(cord, 0.003, 4), pal.rubber(rng))


def _payphone(b: ShapeBuilder, rng: np.random.Generator, body: Material) -> None:
    """Pay phone box with keypad, coin slot and a handset hanging on its side."""
    h, w, d = rng.uniform(0.35, 0.55), rng.uniform(0.18, 0.25), rng.uniform(0.1, 0.16)
    b.add(rounded_box((d, h, w), 0.015, (0, h / 2, 0), axis=0), body)
    b.add(box((0.006, h * 0.25, w * 0.4), (d / 2, h * 0.45, -w * 0.1)), pal.metal(rng))
    hl = h * 0.45
    b.add(cylinder((0, h * 0.3, w / 2 + 0.02), (0, h * 0.3 + hl, w / 2 + 0.02), 0.015, m=8),
          pal.plastic(rng))
    cord = np.array([[0, h * 0.3, w / 2 + 0.02], [0.01, h * 0.15, w / 2 + 0.03],
                     [0, h * 0.1, w / 2 - 0.01]])
    b.add(tube(cord, 0.005, 5), pal.metal(rng))


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A telephone of a random kind."""
    b = ShapeBuilder()
    body = pal.any_of(rng, pal.plastic, pal.plastic, pal.metal, pal.paint)
    screen = pal.glass(rng)
    kind = str(rng.choice(["smart", "candybar", "flip", "desk", "cordless", "rotary",
                           "candlestick", "payphone"],
                          p=[0.3, 0.1, 0.12, 0.15, 0.11, 0.1, 0.06, 0.06]))
    b.kind = kind
    if kind == "smart":
        _smartphone(b, rng, body, screen)
    elif kind == "candybar":
        _candybar(b, rng, body, screen)
    elif kind == "flip":
        _flip(b, rng, body, screen)
    elif kind == "desk":
        _desk(b, rng, body, screen)
    elif kind == "cordless":
        _cordless(b, rng, body, screen)
    elif kind == "rotary":
        _rotary(b, rng, body)
    elif kind == "candlestick":
        _candlestick(b, rng, body)
    else:
        _payphone(b, rng, body)
    return b
