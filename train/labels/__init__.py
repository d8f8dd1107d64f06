"""Labels: from LFW photos to the dataset's shards (``python -m train.labels.build_dataset``).

teacher (MediaPipe's 468-point mesh) → fit (the ICT model fitted to it) → fuse (our 68 also pulled to
3DDFA_V2's, ``tddfa``) → profiling and render (re-posed views with exact labels; ``whole_image`` turns
the photo around the head with it, 300W-LP style). ``ict`` loads the ICT-FaceKit model,
``make_topology`` builds the SDK's 520-point topology on it; ``label_quality`` and ``render_realism``
measure the labels and the renders.
"""
