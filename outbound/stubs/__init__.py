"""What the stub providers share: the story they tell (``corpus``) and the
drills every stub runs before it answers (``drills``: latency, injected faults,
a call log). Real clients never import this package."""
