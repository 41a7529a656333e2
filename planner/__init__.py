"""VM Capacity Planner."""
