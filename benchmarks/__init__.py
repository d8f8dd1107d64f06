"""DenseFace benchmarks: latency, size/FLOPs, accuracy, memory, and the ARM check.

Each script runs as ``python -m benchmarks.NAME --help``; see benchmarks/README.md. This package
imports the SDK (``denseface``) and ``train``; the SDK never imports from here.
"""
