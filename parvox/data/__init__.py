"""Data layer: formats (binvox, R2N2 layout, splits), camera, dataset builder, datasets."""
