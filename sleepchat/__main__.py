import sys

from sleepchat.cli import main

sys.exit(main())
