"""``python -m tripwire``: the ``tripwire`` command, for launchers that run a module
(``torchrun -m tripwire train finetune ...``, ``accelerate launch -m tripwire ...``)."""

import sys

from tripwire.cli import main

if __name__ == "__main__":
    sys.exit(main())
