"""Evaluation: accuracy of exported models (``python -m train.evaluation.evaluate``) under 3DDFA's
protocol (``metrics``), the calibration of the SDK's detector-box rule, the MAC count of a .tflite
graph (``macs``) and the pictures in docs/ (``plots``).
"""
