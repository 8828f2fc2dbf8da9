"""The gateway: where a citizen's case meets a model, and always gets an answer."""
