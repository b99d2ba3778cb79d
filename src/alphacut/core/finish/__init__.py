"""Finishing touches applied to the matte and the clean foreground before compositing."""
