"""Fargate's allowed task sizes (Linux), checked before anything reaches AWS."""

from __future__ import annotations

from dockyard.config import limits

# CPU units -> the memory values (MiB) Fargate accepts with it. From the ECS developer guide,
# "Task CPU and memory"; 8 and 16 vCPU need platform version 1.4.0 or later.
_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

CPU_VALUES: tuple[int, ...] = tuple(_MEMORY_BY_CPU)

# Ephemeral storage: 20 GiB is what every task gets without asking; a size given must be
# 21-200 GiB (ECS refuses 20), and what is above 20 is billed.
STORAGE_MIN_GIB = limits.STORAGE_MIN_GIB
STORAGE_MAX_GIB = limits.STORAGE_MAX_GIB


def check_cpu(cpu: int) -> int:
    """Return ``cpu`` if Fargate offers it, else raise ValueError naming the allowed values."""
    if cpu not in _MEMORY_BY_CPU:
        allowed = ", ".join(str(c) for c in CPU_VALUES)
        raise ValueError(f"{cpu} is not a Fargate CPU value; use one of {allowed}")
    return cpu


def check_memory(cpu: int, memory: int) -> int:
    """Return ``memory`` if Fargate accepts it with ``cpu``, else raise ValueError saying what
    it accepts."""
    allowed = _MEMORY_BY_CPU.get(cpu)
    if allowed is None or memory in allowed:
        return memory
    if len(allowed) <= 4:
        choices = ", ".join(str(m) for m in allowed)
    else:
        choices = f"{allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
    raise ValueError(f"{memory} MiB does not go with cpu {cpu}; Fargate allows {choices} MiB")


def check_storage(gib: int) -> int:
    """Return ``gib`` if it is a valid Fargate ephemeral storage size."""
    if not STORAGE_MIN_GIB <= gib <= STORAGE_MAX_GIB:
        raise ValueError(
            f"{gib} GiB is outside Fargate's ephemeral storage range "
            f"{STORAGE_MIN_GIB}-{STORAGE_MAX_GIB} GiB"
        )
    return gib


def given_size_problem(cpu: int | None, memory: int | None) -> str | None:
    """What is wrong with ``--cpu`` and ``--memory`` as far as they can be checked before the
    task's other half is known (``run`` takes the other from the app's running revision):
    each given one must be a size Fargate has at all. None when nothing is wrong yet."""
    if cpu is not None and memory is not None:
        return task_size_problem(cpu, memory)
    if cpu is not None:
        return task_size_problem(cpu, min(_MEMORY_BY_CPU.get(cpu, (0,))))
    if memory is not None and not any(memory in sizes for sizes in _MEMORY_BY_CPU.values()):
        return (f"--memory: {memory} MiB is not a Fargate memory size; each cpu value takes its "
                f"own, from {min(_MEMORY_BY_CPU[CPU_VALUES[0]])} to "
                f"{max(_MEMORY_BY_CPU[CPU_VALUES[-1]])} MiB")
    return None


def task_size_problem(cpu: int, memory: int, storage_gib: int | None = None) -> str | None:
    """What is wrong with a task size given on the command line, as ``--option: reason``
    (``--cpu``, ``--memory``, ``--storage``), or None when Fargate accepts it."""
    option = "--cpu"
    try:
        check_cpu(cpu)
        option = "--memory"
        check_memory(cpu, memory)
        option = "--storage"
        if storage_gib is not None:
            check_storage(storage_gib)
    except ValueError as err:
        return f"{option}: {err}"
    return None
