"""``python -m huggingface_sb3.hub_server [options]`` is ``huggingface-sb3 hub serve [options]``."""

import sys

from ..cli.main import main

sys.exit(main(["hub", "serve", *sys.argv[1:]]))
