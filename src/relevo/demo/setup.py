"""Setting up the demo: store, the licence pre-filter service, and its three trained versions.

Running it again is safe: training is deterministic, so the same artifacts are found already
registered and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import yaml

from relevo.clock import Clock
from relevo.context import Context
from relevo.demo import SERVICE_NAME, spec_resource, suite_resource
from relevo.demo import applications as apps
from relevo.demo.training import TEST_ROWS, TrainedVersion, train_versions
from relevo.errors import AlreadyRegistered
from relevo.registry import (
    Verification,
    VersionRecord,
    register_version,
    resolve_version,
    verify,
)
from relevo.rollouts import route_by_hand
from relevo.routing import read_route
from relevo.services import ServiceSpec, parse_spec
from relevo.services.catalogue import apply_spec
from relevo.demo.governance import keep_records
from relevo.demo.people import APPROVER, PUBLISHER, as_person, meet_the_people
from relevo.settings import Settings
from relevo.store import connect, upgrade
from relevo.suites import Suite, apply_suite, load_suite

# The demo's story: v1 serves, v2 is the next candidate, v3 rejects noticeably more. The stable
# tag comes with v1's route (a first version is put in front of citizens by an approver's
# override: there is nothing to roll it out against).
DEMO_TAGS = {"v1": [], "v2": ["candidate"], "v3": []}
FIRST_VERSION_REASON = ("first version of the licence pre-filter: nothing to roll it out against; validated offline "
                        "on held-out synthetic applications (see its metadata)")


@dataclass(frozen=True)
class DemoVersion:
    """One trained demo version and what the registry holds for it."""

    trained: TrainedVersion
    record: VersionRecord
    newly_registered: bool


@dataclass(frozen=True)
class DemoSetup:
    """What `relevo demo` prepared."""

    versions: list[DemoVersion]
    verifications: list[Verification]
    spec_outcome: str


def set_up_demo(settings: Settings, step: Callable[[str], None] = lambda _: None,
                clock: Clock | None = None, people: bool = False,
                trained: Sequence[TrainedVersion] | None = None) -> DemoSetup:
    """Initialise the store, declare the service, train and register v1-v3, verify them, and put
    v1 in front of citizens in production (once, by the demo's approver, with a reason); people:
    make the story's identities first (`relevo demo` does; tests start without identities);
    trained: versions `train_versions` made earlier (training is deterministic: tests train once)."""
    step("initialising the store")
    upgrade(settings.resolved_database_url())
    ctx = Context.open(settings, clock=clock)
    try:
        if people:
            made = meet_the_people(ctx)
            if made:
                step(f"the people of the story, with their roles: {', '.join(made)}")
        ctx = as_person(ctx, PUBLISHER)
        step(f"declaring the {SERVICE_NAME} service")
        spec = parse_spec(yaml.safe_load(spec_resource().read_text(encoding="utf-8")), "packaged demo spec")
        spec_outcome = apply_spec(ctx, spec)
        step("its records: the DPIA and record of processing (the DPO), the AI Act role, FRIA and EU registration "
             "(the service owner)")
        keep_records(ctx)
        step("its test suite: golden cases, held-out applications for regression and fairness")
        apply_suite(ctx, SERVICE_NAME, demo_suite(settings.home / "demo", spec))
        if trained is None:
            step("generating licence applications and training three versions")
            trained = train_versions(settings.home / "demo", trained_at=ctx.clock.now().replace(microsecond=0))
        out = []
        for version in trained:
            step(f"registering {version.name}")
            tags = DEMO_TAGS.get(version.name, [])
            try:
                record = register_version(ctx, SERVICE_NAME, version.artifact_dir, version.metadata_path,
                                          tags=tags, reference_data=version.reference_data_path)
                new = True
            except AlreadyRegistered as exc:
                # Tags are set once, at registration: later runs leave them where rollouts moved them.
                with connect(ctx.engine) as conn:
                    record = resolve_version(conn, SERVICE_NAME, exc.version)
                new = False
            out.append(DemoVersion(version, record, new))
        step("verifying every artifact")
        verifications = verify(ctx, SERVICE_NAME)
        with connect(ctx.engine) as conn:
            routed = read_route(conn, SERVICE_NAME, "production")
        if routed is None and all(v.ok for v in verifications):
            step("v1 in front of citizens: routed by the demo's approver, with the reason on record")
            route_by_hand(as_person(ctx, APPROVER), SERVICE_NAME, "production", stable="v1", mode="stable",
                          override=FIRST_VERSION_REASON)
        return DemoSetup(out, verifications, spec_outcome)
    finally:
        ctx.close()


def demo_suite(folder: Path, spec: ServiceSpec, seed: int = 7) -> Suite:
    """The demo's test suite, written to folder beside its reference set (the held-out synthetic
    applications the versions are measured on, without the applicant id), and read from there."""
    folder.mkdir(parents=True, exist_ok=True)
    suite_file = folder / f"{SERVICE_NAME}.tests.yaml"
    suite_file.write_text(suite_resource().read_text(encoding="utf-8"), encoding="utf-8")
    reference = [field for field in apps.FIELDS if field not in apps.PERSONAL] + [apps.LABEL]
    apps.write_csv(apps.generate(TEST_ROWS, seed + 1), folder / f"{SERVICE_NAME}.reference.csv", reference)
    return load_suite(suite_file, spec)


def set_up_answering_demo(settings: Settings, trained: Sequence[TrainedVersion] | None = None) -> DemoSetup:
    """The demo set up with v1 answering alone in production: where tests and benchmarks start."""
    return set_up_demo(settings, trained=trained)
