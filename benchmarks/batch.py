"""Batch throughput: images/s of ``denseface batch`` with 1 and N local workers and on Ray (local
mode), memory per worker, and where an image's time goes.

    python -m benchmarks.batch [--images 2000] [--runs local:1 local:2 ray:2] [--stage-images 300] [--out DIR]

Inputs: the first ``--images`` AFLW2000-3D originals (450×450 JPEG, one face each), the same for
every run. Each run (engine:workers) is a fresh process (multiprocessing "spawn") that landmarks them
into a new folder with the CLI's options (``--max-faces 4``, full model, 1 thread per model); its
wall time covers everything a user waits for: starting the workers (and Ray), reading, landmarking,
writing the Parquet files. "start" = the time to the first finished input (local) or ``ray.init``
(Ray). CPU s = user + system time of the run's process and its pool's (local runs; NaN for Ray, whose
workers this process does not wait for): images per CPU-second is what a core gives, much less
disturbed by other processes than wall time. Memory: the parent samples its child's process tree
every 0.2 s and reports the peak RSS (VmHWM) of the worker processes (local 1 worker: the run's own
process; N workers: the pool's processes; Ray: its actor processes) and the peak summed RSS of the
whole tree (Ray: with its raylet, GCS and idle workers).

Stages (in this process, ``--stage-images`` of the same images, the full model): read (JPEG decode,
cv2.imread), the SDK's stages through ``timer=`` (detect, crop, infer, decode), pose (``Face.pose``),
rows (``records.faces_table``) and write (``records.write_atomically``); ms per image.

Writes OUT/batch.json (with the machine) and prints the tables with the host's ISA flags.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import DEFAULT_OUT, format_table, isa_features, load_warning, machine_info, write_json
from benchmarks.frames import aflw_paths


def run_engine(engine: str, workers: int, paths: list[Path], out_dir: Path, results) -> None:
    """In a fresh process: one batch run; puts (wall s, start s, CPU s of the process and its children,
    inputs done, faces) on ``results``."""
    from denseface import DenseFaceOptions
    from denseface.batch import run_batch

    options = DenseFaceOptions(max_faces=4)  # the CLI's default
    start = time.perf_counter()
    if engine == "ray":
        import ray

        from denseface.batch_ray import run_ray

        ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
        first = time.perf_counter() - start
        done = run_ray(paths, out_dir, options, workers)
    else:
        firsts = []
        done = run_batch(paths, out_dir, options, workers,
                         on_result=lambda r: firsts or firsts.append(time.perf_counter() - start))
        first = firsts[0]
    wall = time.perf_counter() - start
    # Ray's workers are the raylet's children, not waited for by this process: their CPU time is not seen
    cpu = math.nan if engine == "ray" else sum(
        u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
    results.put((wall, first, cpu, sum(r.error is None for r in done), sum(r.faces for r in done)))


def _status(pid: str) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("PPid:", "VmRSS:", "VmHWM:")):
            fields[line.split(":")[0]] = int(line.split()[1])
    return fields


def sample_tree(root: int, stop: threading.Event, every_s: float = 0.2) -> dict:
    """Peak VmHWM (KiB) per descendant of ``root`` (and ``root``), its command line, and the peak sum
    of their RSS, until ``stop`` is set."""
    peaks, names, total_peak = {}, {}, 0
    while not stop.is_set():
        table = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    table[int(entry.name)] = _status(entry.name)
                except (OSError, ValueError):  # gone meanwhile
                    continue
        tree, grew = {root}, True
        while grew:
            added = {pid for pid, f in table.items() if f.get("PPid") in tree} - tree
            tree |= added
            grew = bool(added)
        total_peak = max(total_peak, sum(table[p].get("VmRSS", 0) for p in tree if p in table))
        for pid in tree & table.keys():
            peaks[pid] = max(peaks.get(pid, 0), table[pid].get("VmHWM", 0))
            try:  # read again each time: a Ray worker renames itself when it becomes an actor
                name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            except OSError:
                continue
            names[pid] = name or names.get(pid, "")  # an exiting process's command line reads empty
        stop.wait(every_s)
    return {"peaks_kib": peaks, "names": names, "total_peak_kib": total_peak}


def measure_run(engine: str, workers: int, paths: list[Path]) -> dict:
    """One run in a fresh process, with its process tree's memory."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with tempfile.TemporaryDirectory() as out_dir:
        process = context.Process(target=run_engine, args=(engine, workers, paths, Path(out_dir), results))
        process.start()
        stop, memory = threading.Event(), {}
        sampler = threading.Thread(target=lambda: memory.update(sample_tree(process.pid, stop)))
        sampler.start()
        wall, first, cpu, done, faces = results.get()
        stop.set()
        sampler.join()
        process.join()
    if engine == "ray":
        worker_pids = [p for p, n in memory["names"].items() if n.startswith("ray::") and "Landmarker" in n]
    elif workers == 1:
        worker_pids = [process.pid]
    else:
        worker_pids = [p for p, n in memory["names"].items() if "spawn_main" in n and p != process.pid]
    per_worker = [memory["peaks_kib"][p] / 1024 for p in worker_pids]
    return {"engine": engine, "workers": workers, "images": len(paths), "done": done, "faces": faces,
            "wall_s": wall, "start_s": first, "cpu_s": cpu, "images_per_cpu_s": done / cpu, "images_per_s": done / wall,
            "images_per_s_after_start": done / max(wall - first, 1e-9),
            "worker_peak_mib": per_worker, "tree_peak_mib": memory["total_peak_kib"] / 1024}


def stage_times(paths: list[Path]) -> dict[str, float]:
    """ms per image of each stage, in this process (see the module docstring)."""
    import cv2

    from denseface import DenseFace
    from denseface.records import faces_table, write_atomically
    from denseface.timing import StageTimes

    denseface = DenseFace(max_faces=4, color_order="bgr")
    # untimed: pyarrow's first conversion loads pandas (~1 s), once per worker
    faces_table(str(paths[0]), [(0, None, denseface.landmarks(cv2.imread(str(paths[0]))))])
    times = StageTimes()
    with tempfile.TemporaryDirectory() as out_dir:
        for k, path in enumerate(paths):
            with times.stage("read (JPEG decode)"):
                bgr = cv2.imread(str(path))
            faces = denseface.landmarks(bgr, timer=times)
            with times.stage("pose"):
                for face in faces:
                    face.pose
            with times.stage("rows"):
                table = faces_table(str(path), [(0, None, faces)])
            with times.stage("write (Parquet, rename)"):
                write_atomically(table, Path(out_dir) / f"{k}.parquet")
    return {name: 1000.0 * seconds / len(paths) for name, seconds in times.seconds.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000, help="AFLW2000-3D originals per run (default: 2000)")
    parser.add_argument("--runs", nargs="+", default=["local:1", "local:2", "ray:2"],
                        help="ENGINE:WORKERS runs (default: local:1 local:2 ray:2)")
    parser.add_argument("--stage-images", type=int, default=300, help="images for the stage times (default: 300)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    paths = aflw_paths()[: args.images]
    print(f"ISA: {' '.join(isa_features())}; cores: {machine_info()['cores']}; {machine_info()['cpu']}")
    if load_warning():
        print(load_warning())
    runs = []
    for spec in args.runs:
        engine, workers = spec.split(":")
        runs.append(measure_run(engine, int(workers), paths))
        print(f"  {spec}: {runs[-1]['images_per_s']:.1f} images/s", flush=True)
    base = runs[0]["images_per_s"]
    rows = [(f"{r['engine']}:{r['workers']}", r["done"], r["faces"], r["wall_s"], r["start_s"], r["images_per_s"],
             r["images_per_s_after_start"], r["images_per_s"] / base, r["cpu_s"], r["images_per_cpu_s"],
             " ".join(f"{m:.0f}" for m in r["worker_peak_mib"]), r["tree_peak_mib"]) for r in runs]
    print(format_table(["run", "done", "faces", "wall s", "start s", "images/s", "after start", f"× {args.runs[0]}",
                        "CPU s", "images/CPU-s", "worker peak MiB", "tree peak MiB"], rows,
                       title=f"{len(paths)} AFLW2000-3D originals"))
    stages = stage_times(paths[: args.stage_images])
    total = sum(stages.values())
    print(format_table(["stage", "ms/image", "share"], [(n, v, f"{100 * v / total:.0f} %") for n, v in stages.items()]
                       + [("all", total, "100 %")], title=f"stages, {args.stage_images} images, one process"))
    if load_warning():
        print(load_warning())
    print(f"wrote {write_json(args.out, 'batch', {'runs': runs, 'stages_ms_per_image': stages})}")


if __name__ == "__main__":
    main()
