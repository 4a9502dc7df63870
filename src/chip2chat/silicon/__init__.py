"""Custom accelerator design: die area, yield, cost and power from a chip spec (catalog/silicon.yaml)."""
