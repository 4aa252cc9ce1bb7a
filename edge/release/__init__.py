"""Releases: signed bundles (one file per architecture), their verification, and updates that
install side by side, switch atomically and roll back by themselves."""
