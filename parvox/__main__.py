"""Allow ``python -m parvox ...`` (and ``torchrun -m parvox ...``)."""

from parvox.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
