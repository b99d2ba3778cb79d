"""The model in the browser: the pinned ONNX Runtime Web files (``runtime``), the models a
page may run (``models``) and the static-site export (``export``).

Nothing here imports numpy, onnxruntime or the network at import time.
"""
