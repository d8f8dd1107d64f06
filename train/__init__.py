"""DenseFace training side: data building, Keras training, export and evaluation.

Everything here imports the runtime contract (crop rule, topology, model I/O) from the SDK package
``denseface``; the SDK never imports from ``train``.
"""
