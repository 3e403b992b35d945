"""The ``huggingface-sb3`` command line."""
