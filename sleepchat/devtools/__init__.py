"""Developer tools: a fake Ollama server for wire tests, UI tests and offline demos."""
