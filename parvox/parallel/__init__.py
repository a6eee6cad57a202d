"""The parallel plan, applied from outside to unmodified models."""
