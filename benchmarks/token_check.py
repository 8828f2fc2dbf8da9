"""What checking a bearer token costs a request: the first check (a store read and argon2id),
then every check while the token is remembered, against the same call with no token at all.

    python benchmarks/token_check.py [--calls 200000]

Makes a fresh store in a temporary home with `relevo init`'s first admin and token, then times
`identity.authenticate` once (the first check) and `identity.remembered` --calls times (every
later request within 30 s), and, as the baseline in the same run, a call that does nothing but
return a fixed principal. Prints each and the ratio of a remembered check to one decision's CPU
time (pass --decision-ms, default 2.0, from `benchmarks/http_throughput.py`'s CPU ms/req).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import timeit
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--decision-ms", type=float, default=2.0, help="CPU ms one decision costs (default 2.0)")
    args = parser.parse_args()

    from relevo import identity
    from relevo.context import Context
    from relevo.settings import Settings
    from relevo.store import upgrade

    home = Path(tempfile.mkdtemp(prefix="relevo-token-bench-"))
    settings = Settings(home=home, actor="bench")
    upgrade(settings.resolved_database_url())
    ctx = Context.open(settings)
    admin = ctx.acting_as("bench", frozenset({("admin", None)}))
    identity.add_identity(admin, "bench", grants=[identity.Grant("admin")])
    _, token = identity.create_token(admin, "bench")
    now = ctx.clock.now()
    started = time.perf_counter()
    principal = identity.authenticate(ctx.engine, token, now)
    first = time.perf_counter() - started
    assert principal is not None
    remembered = timeit.timeit(lambda: identity.remembered(token, now), number=args.calls) / args.calls
    baseline = timeit.timeit(lambda: principal, number=args.calls) / args.calls
    ctx.close()
    print(f"first check (store read + argon2id): {first * 1000:.1f} ms")
    print(f"remembered check: {remembered * 1e6:.2f} us; baseline (no check): {baseline * 1e6:.3f} us; "
          f"ratio {remembered / baseline:.0f}x")
    print(f"a remembered check is {remembered * 1000 / args.decision_ms:.3%} of a decision's "
          f"{args.decision_ms} ms of CPU (goal: authentication costs at most 10% of decisions/s)")


if __name__ == "__main__":
    main()
