"""Allow ``python -m parvox ...`` (and ``torchrun -m parvox ...``)."""

import os
import sys

from parvox.cli import main

if __name__ == "__main__":
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # A rank has finished (its process group is already destroyed): leave without the
        # interpreter's teardown, where gloo's background threads occasionally abort the
        # process ("terminate called without an active exception") and turn a finished run
        # into a failed rank.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
