"""`python -m dlcodegen.verify.child JOB_DIR`: the child process of `dlcodegen verify` (see `child.main`)."""

import sys

from dlcodegen.verify.child.main import main

sys.exit(main())
