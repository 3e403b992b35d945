"""The Ray backend of :func:`.bulk_evaluation.evaluate_many`: one Ray task per source, streamed back as each finishes.

Ray is imported only when this backend is chosen (``pip install "huggingface-sb3[ray]"``). A local Ray is started
with ``workers`` CPUs (and shut down afterwards) unless one is running or ``ray_address`` names a cluster to join.
Each task takes one CPU and runs torch, OpenMP and MKL on one thread; a task whose worker dies is retried once, then
its source is recorded as failed. The workers of a Ray started here inherit this process's environment; elsewhere a
runtime environment carries the Hub settings to them (it costs 1 to 2 s at the start on 2 cores, as Ray then starts
dedicated workers, so a Ray started here goes without). At most :data:`WINDOW_PER_WORKER` tasks per worker are in flight, so the driver's
memory does not grow with the number of sources.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .bulk_evaluation import SourceEvaluation, error_line, evaluate_source, failed_record
from .errors import MissingDependencyError

RAY_INSTALL_HINT = 'pip install "huggingface-sb3[ray]"'
WINDOW_PER_WORKER = 2
"""Tasks kept in flight per worker: one running, one queued behind it so that a worker never waits for the driver."""
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_FORWARDED_ENV = ("HF_ENDPOINT", "HF_TOKEN", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")


def import_ray() -> Any:
    """The ``ray`` module, or a MissingDependencyError naming the extra to install."""
    try:
        import ray
    except ImportError as error:
        raise MissingDependencyError(
            f"The Ray backend needs Ray, which is not installed ({error}). Install it with: {RAY_INSTALL_HINT}, "
            "or use backend='serial'."
        ) from None
    return ray


def run_on_ray(
    ray: Any, sources: Iterable[str], options: dict[str, Any], *, workers: int | None, ray_address: str | None
) -> Iterator[SourceEvaluation]:
    """Run the sources as Ray tasks; start (and later shut down) a local Ray unless one is running or joined."""
    started = not ray.is_initialized()
    if started:
        if ray_address is not None:
            ray.init(address=ray_address, logging_level="WARNING")
        else:
            # ERROR: a local Ray's start-up notices (token authentication, ...) are not the user's business
            ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, logging_level="ERROR")
    try:
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray_task(ray, forward_environment=not (started and ray_address is None))

        def submit(source: str) -> Any:
            return task.remote(source, options)

        yield from stream_ray_results(
            ray, sources, submit, window=WINDOW_PER_WORKER * workers, seed=options["seed"],
            n_eval_episodes=options["n_eval_episodes"],
        )  # fmt: skip
    finally:
        if started:
            ray.shutdown()


def ray_task(ray: Any, *, forward_environment: bool) -> Any:
    """The Ray remote function that evaluates one source: one CPU, one thread, retried once if its worker dies.

    With ``forward_environment``, its runtime environment sets one thread for OpenMP and MKL and this process's Hub
    settings in the worker; without, the worker is one of the local Ray's, which inherit this process's environment
    and get ``OMP_NUM_THREADS=1`` from Ray for a one-CPU task.
    """
    options: dict[str, Any] = {"num_cpus": 1, "max_retries": 1}
    if forward_environment:
        env_vars = {**_WORKER_ENV, **{key: os.environ[key] for key in _FORWARDED_ENV if key in os.environ}}
        options["runtime_env"] = {"env_vars": env_vars}
    return ray.remote(**options)(_evaluate_in_worker)


def _evaluate_in_worker(source: str, options: dict[str, Any]) -> SourceEvaluation:
    """A Ray task's body: :func:`evaluate_source` with torch on one thread."""
    import torch

    torch.set_num_threads(1)
    return evaluate_source(source, **options)


def stream_ray_results(
    ray: Any,
    sources: Iterable[str],
    submit: Callable[[str], Any],
    *,
    window: int,
    seed: int,
    n_eval_episodes: int,
) -> Iterator[SourceEvaluation]:
    """Submit a task per source (``submit`` returns its object ref), at most ``window`` in flight, and yield each
    record as its task finishes (``ray.wait``). A task that Ray reports failed (its worker died after the retry, it
    was cancelled, ...) gives a record with that error. Tasks still in flight when the iteration is closed early are
    cancelled.
    """
    queue = iter(sources)
    pending: dict[Any, str] = {}
    try:
        for source in itertools.islice(queue, window):
            pending[submit(source)] = source
        while pending:
            (done,), _ = ray.wait(list(pending), num_returns=1)
            source = pending.pop(done)
            for following in itertools.islice(queue, 1):
                pending[submit(following)] = following
            try:
                record = ray.get(done)
            except ray.exceptions.RayError as error:
                record = failed_record(
                    source, seed=seed, n_eval_episodes=n_eval_episodes, error=_ray_failure(ray, error)
                )
            yield record
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)


def _ray_failure(ray: Any, error: BaseException) -> str:
    """The record's error for a task Ray could not complete."""
    if isinstance(error, ray.exceptions.WorkerCrashedError):
        return (
            f"{type(error).__name__}: the Ray worker evaluating this source died, also on its retry "
            f"({' '.join(str(error).split())})"
        )
    return error_line(error)
