import sys

from amazon_bluecherry.cli import main

sys.exit(main())
