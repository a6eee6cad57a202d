"""Occupancy from views, as every user-facing path computes it: one pass, or flip-averaged.

Training flips each view left-right with probability 0.5 and keeps the target grid as it is
(Pix2Vox's ``RandomFlip``): a mirrored view of a bilaterally symmetric object is a view of the
same object from the mirrored azimuth, so the network learns to give a mirrored view the same
grid. Averaging its occupancy over each view as given and the same views mirrored is then a
second opinion on the same input, at the cost of one more forward pass.

Measured before it became the default of ``parvox reconstruct`` and the web page, on the
procedural *validation* split (3900 models, Pix2Vox's views; the model shipped at d1413d5,
IoU@0.4 class mean): 1 view 0.573 in one pass, 0.580 flip-averaged; 5 views 0.641 and 0.645;
no class lower at either (``parvox eval --checkpoint W --data data/ship --split val --views
1,5 [--flip-average]``, W from ``git show d1413d5:parvox/weights/small-procedural.safetensors``).
``parvox eval`` keeps Pix2Vox's single pass unless asked
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
