"""Energy for the fleet: power-limited sites, power caps, hourly grids, PUE by month, the supply mix (LP)."""
