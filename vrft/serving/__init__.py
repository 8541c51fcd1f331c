"""vrft code that runs in other environments (the vLLM rollout server): imports nothing of vrft."""
