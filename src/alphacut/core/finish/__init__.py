"""Finishing touches on the final matte: feathered edges, synthesised shadows (issue 13)."""
