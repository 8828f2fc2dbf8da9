"""The controller judges after each batch of decisions, not only on its clock ticks."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from tests.conftest import start_cleared
from relevo.demo import SERVICE_NAME as SERVICE
from relevo.demo.traffic import requests
from relevo.gateway.gateway import JUDGING_BATCH, Gateway
from relevo.rollouts.controller import Controller
from relevo.store import connect
from relevo.store.tables import rollout_verdicts


def verdicts(ctx) -> int:
    with connect(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(rollout_verdicts)).scalar_one()


def test_a_batch_of_decisions_wakes_the_controller(demo):
    start_cleared(demo, SERVICE, "v2", plan="canary-only")
    controller = Controller(demo, interval=3600).start()  # its clock alone would not tick here
    try:
        with Gateway(demo, pseudonym_key=b"k" * 32) as gateway:
            gateway.after_batch = controller.nudge
            cases = requests(2 * JUDGING_BATCH, seed=5)
            for case_id, inputs in list(cases)[:JUDGING_BATCH - 1]:
                gateway.decide(SERVICE, case_id, inputs)
            time.sleep(0.5)
            assert verdicts(demo) == 0  # one short of a batch: nothing judged yet
            for case_id, inputs in requests(2, seed=6):
                gateway.decide(SERVICE, case_id, inputs)
            deadline = time.monotonic() + 20
            while verdicts(demo) == 0:
                assert time.monotonic() < deadline, "the batch did not wake the controller"
                time.sleep(0.05)
    finally:
        controller.close()
