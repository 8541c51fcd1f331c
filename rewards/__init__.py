"""Verifiable rewards for visual RFT: a registry, built-in rewards and their shared parsing and geometry."""
