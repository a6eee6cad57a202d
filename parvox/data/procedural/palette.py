"""Colour/material palettes: woods, metals, plastics, fabrics, leathers, paints, glass, rubber.

A :class:`Material` is an sRGB colour plus a shininess in [0, 1].  Every sampler spans a wide
lightness range (dark and light objects), because renders are composited on near-white
backgrounds and a dataset of only light objects would be easy to segment.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Material:
    """A part's surface: sRGB colour (0..255) and shininess (0 = matte, 1 = mirror-like)."""

    rgb: tuple[int, int, int]
    shininess: float


def hsv(h: float, s: float, v: float, shininess: float) -> Material:
    """Material from hue/saturation/value in [0, 1]."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1)))
    rgb = (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))
    return Material(rgb, float(np.clip(shininess, 0.0, 1.0)))


def shade(mat: Material, factor: float) -> Material:
    """The same material made lighter (factor > 1) or darker (factor < 1)."""
    rgb = tuple(int(np.clip(round(c * factor), 0, 255)) for c in mat.rgb)
    return Material((rgb[0], rgb[1], rgb[2]), mat.shininess)


def wood(rng: np.random.Generator) -> Material:
    """Pale birch/oak to dark walnut/wenge, sometimes painted wood."""
    if rng.random() < 0.15:
        return painted(rng)
    return hsv(rng.uniform(0.04, 0.11), rng.uniform(0.35, 0.8), rng.uniform(0.18, 0.85),
               rng.uniform(0.1, 0.35))


def painted(rng: np.random.Generator) -> Material:
    """Painted/lacquered surface: white, black, grey or a muted colour."""
    kind = rng.integers(4)
    if kind == 0:
        return hsv(0.0, 0.0, rng.uniform(0.8, 0.95), 0.4)
    if kind == 1:
        return hsv(0.0, 0.0, rng.uniform(0.05, 0.2), 0.4)
    if kind == 2:
        return hsv(rng.random(), rng.uniform(0.0, 0.1), rng.uniform(0.3, 0.7), 0.35)
    return hsv(rng.random(), rng.uniform(0.25, 0.7), rng.uniform(0.25, 0.8), 0.35)


def metal(rng: np.random.Generator) -> Material:
    """Chrome, brushed steel, aluminium, black iron, brass or copper."""
    kind = rng.choice(6, p=[0.2, 0.25, 0.15, 0.25, 0.1, 0.05])
    if kind == 0:
        return hsv(0.6, 0.03, rng.uniform(0.75, 0.92), 0.95)
    if kind == 1:
        return hsv(0.6, 0.04, rng.uniform(0.45, 0.65), 0.75)
    if kind == 2:
        return hsv(0.6, 0.02, rng.uniform(0.65, 0.8), 0.6)
    if kind == 3:
        return hsv(0.0, 0.0, rng.uniform(0.06, 0.2), 0.5)
    if kind == 4:
        return hsv(rng.uniform(0.11, 0.14), rng.uniform(0.45, 0.7), rng.uniform(0.55, 0.8), 0.85)
    return hsv(0.06, 0.6, rng.uniform(0.45, 0.7), 0.85)


def plastic(rng: np.random.Generator) -> Material:
    """Black/white/grey plastics, often, or a saturated colour."""
    kind = rng.choice(4, p=[0.35, 0.2, 0.2, 0.25])
    if kind == 0:
        return hsv(0.0, 0.0, rng.uniform(0.03, 0.15), rng.uniform(0.3, 0.6))
    if kind == 1:
        return hsv(0.0, 0.0, rng.uniform(0.8, 0.95), rng.uniform(0.3, 0.6))
    if kind == 2:
        return hsv(rng.random(), 0.03, rng.uniform(0.3, 0.65), rng.uniform(0.3, 0.6))
    return hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.6))


def fabric(rng: np.random.Generator) -> Material:
    """Upholstery: any hue, mostly muted, from near-black to off-white."""
    return hsv(rng.random(), rng.uniform(0.05, 0.7), rng.uniform(0.1, 0.9), rng.uniform(0.0, 0.1))


def leather(rng: np.random.Generator) -> Material:
    """Black, brown, tan, oxblood or white leather."""
    kind = rng.integers(4)
    if kind == 0:
        return hsv(0.0, 0.0, rng.uniform(0.04, 0.14), 0.45)
    if kind == 1:
        return hsv(rng.uniform(0.03, 0.09), rng.uniform(0.5, 0.8), rng.uniform(0.2, 0.7), 0.4)
    if kind == 2:
        return hsv(rng.uniform(0.97, 1.02), rng.uniform(0.6, 0.8), rng.uniform(0.25, 0.5), 0.4)
    return hsv(0.1, 0.08, rng.uniform(0.8, 0.95), 0.4)


def paint(rng: np.random.Generator) -> Material:
    """Glossy vehicle paint: black, white, silver, greys and bold colours."""
    kind = rng.choice(5, p=[0.2, 0.15, 0.2, 0.1, 0.35])
    if kind == 0:
        return hsv(0.0, 0.0, rng.uniform(0.03, 0.12), 0.85)
    if kind == 1:
        return hsv(0.0, 0.0, rng.uniform(0.85, 0.96), 0.85)
    if kind == 2:
        return hsv(0.6, 0.03, rng.uniform(0.55, 0.8), 0.9)
    if kind == 3:
        return hsv(0.6, 0.05, rng.uniform(0.2, 0.45), 0.85)
    return hsv(rng.random(), rng.uniform(0.55, 0.95), rng.uniform(0.3, 0.9), 0.85)


def glass(rng: np.random.Generator) -> Material:
    """Tinted glass / glossy screen: dark, slightly blue or green."""
    return hsv(rng.uniform(0.5, 0.65), rng.uniform(0.1, 0.4), rng.uniform(0.06, 0.3), 0.95)


def rubber(rng: np.random.Generator) -> Material:
    """Tyres, feet, grips: near-black, matte."""
    return hsv(0.0, 0.0, rng.uniform(0.04, 0.12), 0.1)


def light(rng: np.random.Generator) -> Material:
    """Lamp shade paper/fabric or a bulb: warm whites and pale tints, sometimes dark."""
    if rng.random() < 0.3:
        return fabric(rng)
    return hsv(rng.uniform(0.08, 0.15), rng.uniform(0.05, 0.35), rng.uniform(0.75, 0.97), 0.2)


def any_of(rng: np.random.Generator, *samplers: object) -> Material:
    """Material from a sampler chosen uniformly among ``samplers``."""
    sampler = samplers[int(rng.integers(len(samplers)))]
    return sampler(rng)  # type: ignore[operator]
