"""What the real-model and real-server tiers share.

``MODEL_THREADS``: the model runs on one thread in tests. The suite runs two tests at a time on
a 2-core machine (pytest-xdist), so the other core is always busy; there, SmolLM2 decoding on
two threads took 4-5x the CPU time and wall time of one thread (60 tokens: 3.9 s CPU and 10 s
vs 0.85 s and 1.5 s, measured under load), since each token waits hundreds of times for the
thread that lost its core. The thread plan itself is tested apart (test_threads, test_runtime).
"""

MODEL_THREADS = 1
