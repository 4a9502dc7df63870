"""Datacenter planning: demand by year -> replicas that meet the SLO -> chips, racks, MW, energy, money."""
