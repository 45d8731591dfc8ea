import os
import sys

import fastsum

print("triangle(100) =", fastsum.triangle(100), "libpq", fastsum.libpq_major(), "from", fastsum.__file__, "cwd", os.getcwd())
sys.exit(3)
