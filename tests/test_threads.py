"""Threads for the embedded model: physical cores, and fewer for idle work."""

from __future__ import annotations

from sleepchat.llm.threads import ThreadPlan, brief_spin_waits, physical_cores


def cpuinfo(*cpus: tuple[int, int, int]) -> str:
    """(processor, physical id, core id) per logical CPU, as /proc/cpuinfo lists them."""
    return "\n\n".join(
        f"processor\t: {p}\nmodel name\t: x\nphysical id\t: {s}\ncore id\t\t: {c}"
        for p, s, c in cpus
    )


def test_hyper_threads_are_not_cores() -> None:
    info = cpuinfo((0, 0, 0), (1, 0, 1), (2, 0, 0), (3, 0, 1))  # 2 cores, 2 threads each
    assert physical_cores(info, allowed={0, 1, 2, 3}) == 2


def test_only_the_cpus_this_process_may_use_count() -> None:
    info = cpuinfo((0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 1, 1))  # 2 sockets x 2 cores
    assert physical_cores(info, allowed={0, 1, 2, 3}) == 4
    assert physical_cores(info, allowed={2, 3}) == 2
    assert physical_cores(info, allowed={0, 2}) == 2  # same core id on different sockets


def test_without_core_ids_each_cpu_counts() -> None:
    info = "processor\t: 0\nBogoMIPS\t: 1\n\nprocessor\t: 1\nBogoMIPS\t: 1"
    assert physical_cores(info, allowed={0, 1}) == 2
    assert physical_cores("", allowed={0, 1, 2}) == 3


def test_the_plan_uses_every_core_for_replies_and_leaves_one_to_the_app_when_idle() -> None:
    plan = ThreadPlan.for_machine(cores=2)
    assert plan.for_request(background=False) == (2, 2)
    assert plan.for_request(background=True) == (2, 2)  # two cores: half would be too slow
    assert ThreadPlan.for_machine(cores=8).for_request(background=True) == (7, 7)
    assert ThreadPlan.for_machine(threads=8, cores=2).reply == 8  # configured wins
    assert ThreadPlan.for_machine(threads=1).for_request(background=True) == (1, 1)


def test_threads_spin_briefly_then_sleep_unless_the_user_chose_otherwise() -> None:
    env: dict[str, str] = {}
    brief_spin_waits(env)
    assert env == {"GOMP_SPINCOUNT": "3000"}
    for chosen in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "100000"}):
        env = dict(chosen)
        brief_spin_waits(env)
        assert env == chosen
