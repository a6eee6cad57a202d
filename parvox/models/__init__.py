"""Single-device model code. Never imports torch.distributed: parallelism lives in parvox.parallel."""
