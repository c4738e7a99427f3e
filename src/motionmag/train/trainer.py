"""The training loop every learned magnifier shares (FlowMag, Oh et al. 2018, Axial-MM, EulerMormer, STB-VMM).

A model-specific :class:`TrainingTask` says what a sample is, what the loss is and what to
export; :func:`train` does the rest: seeding, a deterministic sample stream, DataLoader
workers, DistributedDataParallel under torchrun, bf16 autocast on CUDA, Adam (with an optional
step schedule), a progress bar, a CSV log, a loss plot, validation, atomic checkpoints and
automatic resume.

Resuming is exact: every random choice is a pure function of (seed, position), never of how
far a process got. Sample k of the stream is item perm_epoch[k mod N] with augmentations seeded
by (seed, k); step s draws its own randomness (e.g. alpha) from (seed, s, rank). A run killed at
any point and restarted from its last checkpoint therefore ends with the same weights as one
that was never interrupted (on the CPU, where kernels are deterministic; tested).
"""

from __future__ import annotations

import copy
import csv
import signal
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from motionmag.checkpoint import load_checkpoint, save_checkpoint
from motionmag.errors import MotionmagError
from motionmag.seeding import derive_seed
from motionmag.train.distributed import Distributed, init_distributed, shutdown_distributed

STATE_FILE = "state/latest.pt"  # the resumable training state, next to the run's outputs
STATE_LOG = "state/log.csv"  # the live log; published to log.csv at checkpoints (workflow managers
# may delete a failed job's declared outputs, never this folder, so a resumed run keeps its history)
EXIT_PREEMPTED = 143  # 128 + SIGTERM: the state was saved; rerun to resume


@dataclass(frozen=True)
class TrainSettings:
    """What every training run has, whatever the model (the config's ``train`` and ``log`` keys)."""

    steps: int
    batch_size: int  # global: split evenly over the processes
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    num_workers: int = 2
    amp: bool = True  # bf16 autocast on CUDA; ignored on the CPU
    seed: int = 0
    log_every: int = 10
    val_every: int = 500
    checkpoint_every: int = 500
    grad_clip: float = 0.0  # > 0: clip the gradients' global norm to this before each step (RAFT's 1.0)
    # {"step": N, "gamma": g}: the learning rate times g every N optimiser steps (torch's StepLR,
    # stepped once per step as Axial-MM's train.py does); its state is saved in checkpoints
    schedule: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class SampleSource(ABC):
    """Training items by index; ``sample`` must be deterministic given (index, seed)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def sample(self, index: int, seed: int): ...


class TrainingTask(ABC):
    """What a model brings to :func:`train`."""

    kind: str  # names the checkpoints, e.g. "flowmag"
    metric_names: tuple[str, ...] = ("loss",)
    probe_names: tuple[str, ...] = ()  # further metrics only validation gives (train.probe)

    model: nn.Module  # the trained network (built, seeded, on the CPU)

    @abstractmethod
    def source(self) -> SampleSource: ...

    @abstractmethod
    def loss(self, model: nn.Module, batch, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Metrics of one batch (already on the device); "loss" is the one minimised."""

    @abstractmethod
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Metrics on held-out data with the model in eval mode (deterministic)."""

    @abstractmethod
    def export(self, model: nn.Module, step: int) -> dict:
        """The payload of the final model file (what inference loads)."""

    @abstractmethod
    def config(self) -> dict:
        """Everything that changes the result of a step (not its length, logging or workers):
        a run resumes only from a state saved under the same."""

    def to(self, device: torch.device) -> None:
        """Move task-owned modules (a frozen flow network, say) to the device."""


def result_config(config: dict) -> dict:
    """A training config minus what does not change a step's result: its length (train.steps),
    logging (log) and loader workers (data.num_workers). What :meth:`TrainingTask.config` returns
    for configs laid out as ours are."""
    config = copy.deepcopy(config)
    config.pop("log", None)
    config.get("train", {}).pop("steps", None)
    if config.get("train", {}).get("init", "") is None:  # no init = the runs saved before it existed
        config["train"].pop("init")
    config.get("data", {}).pop("num_workers", None)
    return config


class SampleStream(Dataset):
    """Position k -> the k-th sample of an endless, epoch-wise shuffled, augmented stream."""

    def __init__(self, source: SampleSource, seed: int):
        self.source, self.seed, self.n = source, seed, len(source)
        if self.n == 0:
            raise MotionmagError("the training set is empty")
        self._perm = (None, None)

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, k: int):
        epoch, i = divmod(int(k), self.n)
        if self._perm[0] != epoch:
            generator = torch.Generator().manual_seed(derive_seed(self.seed, 1, epoch))
            self._perm = (epoch, torch.randperm(self.n, generator=generator))
        return self.source.sample(int(self._perm[1][i]), derive_seed(self.seed, 2, k))


class StepSampler(Sampler):
    """The positions of this process's share of steps [start, steps)."""

    def __init__(self, start: int, steps: int, local_batch: int, ctx: Distributed):
        self.start, self.steps, self.local_batch, self.ctx = start, steps, local_batch, ctx

    def __len__(self) -> int:
        return (self.steps - self.start) * self.local_batch

    def __iter__(self):
        global_batch = self.local_batch * self.ctx.world_size
        for step in range(self.start, self.steps):
            first = step * global_batch + self.ctx.rank * self.local_batch
            yield from range(first, first + self.local_batch)


class _Preemption:
    """SIGTERM (SLURM preemption, scancel, torchrun shutting down) -> stop after this step."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if sys.platform != "win32":
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


class TrainingLog:
    """The CSV log: one row per ``log_every`` steps (split=train) and per validation (split=val)."""

    def __init__(self, path: Path, metric_names: tuple[str, ...]):
        self.path = path
        self.columns = ["step", "samples", "split", *metric_names, "lr", "samples_per_s", "elapsed_s"]

    def truncate(self, last_step: int) -> None:
        """Drop rows after ``last_step`` (written after the checkpoint a run resumes from)."""
        if not self.path.exists():
            return
        with open(self.path, newline="") as stream:
            rows = [row for row in csv.DictReader(stream) if int(row["step"]) <= last_step]
        self._rewrite(rows)

    def _rewrite(self, rows: list[dict]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", newline="") as stream:
            writer = csv.DictWriter(stream, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(self.path)

    def append(self, row: dict) -> None:
        if not self.path.exists():
            self._rewrite([])
        with open(self.path, "a", newline="") as stream:
            csv.DictWriter(stream, self.columns, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def train(task: TrainingTask, settings: TrainSettings, out_dir: str | Path, device: str = "cpu",
          progress: bool = True) -> Path:
    """Train (or resume) into ``out_dir``: ``model.pt``, ``log.csv``, ``loss.png``, ``state/``.

    Returns the path of the exported model. Raises SystemExit(143) after saving the state when
    SIGTERM arrives, so a requeued job picks up where this one stopped.
    """
    out_dir = Path(out_dir)
    ctx = init_distributed(device)
    try:
        return _train(task, settings, out_dir, ctx, ctx.device(device), progress)
    finally:
        shutdown_distributed(ctx)


def _train(task, settings, out_dir, ctx, device, progress) -> Path:
    if settings.batch_size % ctx.world_size:
        raise MotionmagError(f"batch_size {settings.batch_size} does not split evenly over {ctx.world_size} processes")
    local_batch = settings.batch_size // ctx.world_size
    out_dir.mkdir(parents=True, exist_ok=True)
    state_path, log = out_dir / STATE_FILE, TrainingLog(out_dir / STATE_LOG, (*task.metric_names, *task.probe_names))
    log.path.parent.mkdir(parents=True, exist_ok=True)
    model = task.model.to(device)
    task.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=settings.betas)
    scheduler = step_scheduler(optimizer, settings.schedule)
    # what a step's result depends on: more steps, other logging or workers resume exactly
    config = {"task": task.config(), "world_size": ctx.world_size,
              "train": {k: getattr(settings, k) for k in ("batch_size", "lr", "betas", "amp", "seed")}}
    if scheduler is not None:  # only then, so that the states saved before schedules existed still resume
        config["train"]["schedule"] = dict(settings.schedule)

    start = 0
    if state_path.exists():
        state = load_checkpoint(state_path, (f"{task.kind}-train",))
        if state["config"] != config:
            ctx.barrier()  # every rank has read it before rank 0 moves it
            if ctx.is_main:
                stale = state_path.with_name("stale.pt")
                state_path.replace(stale)
                print(f"{state_path}: saved under another configuration; moved to {stale.name}, starting afresh",
                      file=sys.stderr)
        else:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(state["scheduler"])
            start = int(state["step"])
            if ctx.is_main:
                print(f"resuming from step {start} ({state_path})", file=sys.stderr)
    if ctx.is_main and start:
        log.truncate(start)
    elif ctx.is_main:
        log.path.unlink(missing_ok=True)

    wrapped = model
    if ctx.enabled:
        wrapped = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def save_state(step: int) -> None:
        if ctx.is_main:
            state = dict(kind=f"{task.kind}-train", step=step, config=config, model=model.state_dict(),
                         optimizer=optimizer.state_dict())
            if scheduler is not None:
                state["scheduler"] = scheduler.state_dict()
            save_checkpoint(state, state_path)

    stream = SampleStream(task.source(), settings.seed)
    loader = DataLoader(stream, batch_size=local_batch, sampler=StepSampler(start, settings.steps, local_batch, ctx),
                        num_workers=settings.num_workers, pin_memory=device.type == "cuda",
                        worker_init_fn=_ignore_sigterm, prefetch_factor=2 if settings.num_workers else None)
    use_amp = settings.amp and device.type == "cuda"
    bar = tqdm(total=settings.steps, initial=start, unit="step", desc=task.kind, disable=not (progress and ctx.is_main),
               dynamic_ncols=True)
    sums, count, t0, t_log = torch.zeros(len(task.metric_names), device=device), 0, time.perf_counter(), time.perf_counter()
    step = start
    with _Preemption() as preemption, _worker_errors():
        for step, batch in enumerate(loader, start=start):
            model.train()
            batch = _to(batch, device)
            generator = torch.Generator().manual_seed(derive_seed(settings.seed, 3, step, ctx.rank))
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                metrics = task.loss(wrapped, batch, generator)
            optimizer.zero_grad(set_to_none=True)
            metrics["loss"].backward()
            if settings.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
            lr = optimizer.param_groups[0]["lr"]  # this step's
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            sums += torch.stack([metrics[name].detach().float() for name in task.metric_names])
            count += 1
            done = step + 1
            last = done == settings.steps
            bar.update()

            if done % settings.log_every == 0 or last:
                means = (ctx.mean(sums) / count).tolist()
                now = time.perf_counter()
                row = dict(zip(task.metric_names, means), step=done, samples=done * settings.batch_size, split="train",
                           lr=lr, samples_per_s=count * settings.batch_size / (now - t_log), elapsed_s=now - t0)
                if ctx.is_main:
                    log.append(row)
                    bar.set_postfix(loss=f"{means[0]:.4g}")
                sums.zero_()
                count, t_log = 0, now
            if ctx.is_main and (done % settings.val_every == 0 or last):
                values = task.validate(model, device)
                log.append(dict(values, step=done, samples=done * settings.batch_size, split="val", lr=lr,
                                elapsed_s=time.perf_counter() - t0))
            if done % settings.checkpoint_every == 0 or last:
                save_state(done)
                if ctx.is_main:
                    _publish(log.path, out_dir)
            if _stop_requested(preemption, ctx):
                save_state(done)
                ctx.barrier()  # no rank leaves (and has torchrun stop the others) before the state is on disk
                bar.close()
                if ctx.is_main:
                    print(f"stopped by SIGTERM at step {done}; state saved, rerun to resume", file=sys.stderr)
                raise SystemExit(EXIT_PREEMPTED)
    bar.close()
    final = out_dir / "model.pt"
    if ctx.is_main:
        save_checkpoint(task.export(model, settings.steps), final)
        _publish(log.path, out_dir)
    ctx.barrier()
    return final


def step_scheduler(optimizer: torch.optim.Optimizer, schedule: dict | None):
    """torch's StepLR for ``schedule`` = {"step": N, "gamma": g} (None: a constant rate), stepped
    after every optimiser step: step s runs at lr * g ** (s // N), computed as StepLR does (one
    multiplication every N steps), so a resumed run continues the same sequence of rates."""
    if schedule is None:
        return None
    step, gamma = schedule.get("step"), schedule.get("gamma")
    if not (isinstance(step, int) and step >= 1 and isinstance(gamma, (int, float)) and 0 < gamma <= 1):
        raise MotionmagError(f"schedule is {{step: N >= 1, gamma: 0 < g <= 1}}, got {schedule}")
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step, gamma=float(gamma))


def _ignore_sigterm(worker_id: int) -> None:
    """DataLoader workers leave SIGTERM to the main process, which saves the state and stops
    them (scancel and SLURM preemption signal the whole process group)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class _worker_errors:
    """A MotionmagError raised in a DataLoader worker comes back as one line, not a traceback."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is MotionmagError and "Original Traceback" in str(exc):
            message = str(exc).strip().splitlines()[-1].split("MotionmagError: ", 1)[-1]
            raise MotionmagError(message) from None
        return False


def _stop_requested(preemption: _Preemption, ctx: Distributed) -> bool:
    if not ctx.enabled:
        return preemption.requested
    flag = torch.tensor([float(preemption.requested)])
    flag = ctx.mean(flag.to("cuda" if torch.distributed.get_backend() == "nccl" else "cpu"))
    return bool(flag.item() > 0)


def _to(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    return type(batch)(_to(b, device) for b in batch)


def _publish(log_csv: Path, out_dir: Path) -> None:
    """Copy the live log to OUT/log.csv and redraw OUT/loss.png (both atomically)."""
    from motionmag.report.plots import plot_training_log

    if log_csv.exists():
        tmp = out_dir / ".log.csv.tmp"
        tmp.write_bytes(log_csv.read_bytes())
        tmp.replace(out_dir / "log.csv")
        plot_training_log(log_csv, out_dir / "loss.png")


def initial_weights(init: str | None) -> Path | None:
    """The file a fine-tune starts from: a released model named in the weights manifest (verified
    by its sha256) or a path; None for a training from random weights."""
    if init is None:
        return None
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    if init in store.entries:
        return store.require(init)
    if not Path(init).is_file():
        raise MotionmagError(f"train.init: {init} is neither a model in {store.manifest} nor a file")
    return Path(init)
