"""DenseFace training side, by stage: ``labels`` (topology, teacher, ICT fitting, face profiling, the
dataset builder), ``learning`` (the dataset's shards, augmentation, the Keras model and its training,
export) and ``evaluation`` (accuracy, metrics, box calibration, graph cost, plots); ``data`` says
where the shared data and the caches live.

Everything here imports the runtime contract (crop rule, topology, model I/O) from the SDK package
``denseface``; the SDK never imports from ``train``.
"""
