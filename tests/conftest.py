"""Every test talks to one local Hub started for the session (see huggingface_sb3.testing)."""

pytest_plugins = ["huggingface_sb3.testing"]
