"""Tools for the SDK's bundled BlazeFace detector (``denseface.detect``): its int8 quantization."""
