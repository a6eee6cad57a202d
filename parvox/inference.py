"""Occupancy from views, as every user-facing path computes it: one pass, or flip-averaged.

Training flips each view left-right with probability 0.5 and keeps the target grid as it is
(Pix2Vox's ``RandomFlip``): a mirrored view of a bilaterally symmetric object is a view of the
same object from the mirrored azimuth, so the network learns to give a mirrored view the same
grid. Averaging its occupancy over each view as given and the same views mirrored is then a
second opinion on the same input, at the cost of one more forward pass.

Measured before it became the default of ``parvox reconstruct`` and the web page, on the
procedural *validation* split (20 models per class, the model shipped at d1413d5, IoU@0.4):
at 1 view (4 random views of each, one at a time) 0.557 in one pass, 0.557 on the mirrored
views alone, 0.564 averaged (higher in 12 of 13 classes); at 5 random views together 0.624,
0.626 and 0.628. ``parvox eval`` keeps Pix2Vox's single pass unless asked
(``--flip-average``), so its numbers stay comparable with published ones.
"""

from __future__ import annotations

import torch
from torch import Tensor

from parvox.models import occupancy


def predict_occupancy(model: torch.nn.Module, images: Tensor, *,
                      flip_average: bool = False) -> Tensor:
    """P(occupied), float32 ``(B, N, N, N)`` on the CPU, from ``images`` ``(B, V, 3, H, W)``
    (moved to the model's device): the mean over the views as given and mirrored left-right
    (the width axis) when ``flip_average``, else one pass."""
    device = next(model.parameters(), images).device
    images = images.to(device)
    with torch.no_grad():
        prob = occupancy(model(images)).float()
        if flip_average:
            prob = (prob + occupancy(model(images.flip(-1))).float()) / 2
    return prob.cpu()
