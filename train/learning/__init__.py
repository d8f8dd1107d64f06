"""Learning: the dataset's shards in memory (``dataset``), augmentation, the landmark model, its
losses and training (``python -m train.learning.training``), export to TFLite, ablations, and the
restoring of a trainable checkpoint from an export.
"""
