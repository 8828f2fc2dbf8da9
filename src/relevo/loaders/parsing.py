"""One artifact file parsed at a time in a process.

Reading a model's arrays parses their headers with `ast.literal_eval` (numpy's format, used by
skops and joblib). Before Python 3.11.8 and 3.12.1 the AST constructor keeps its recursion depth
in state shared by every thread (CPython gh-106905): two parses at once in two threads can leave
it wrong, and from then on every parse in the process fails with "SystemError: AST constructor
recursion depth mismatch", so a version that loads fine is refused as unable to answer. Gateways
and registration load versions in threads, so loads take this lock; a load is rare and slow
anyway, the lock costs nothing that matters.
"""

from __future__ import annotations

import threading

ONE_AT_A_TIME = threading.Lock()
