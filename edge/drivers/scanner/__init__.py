"""Scanners: the `Scanner` interface (base), each driver's settings (settings), the SANE driver,
the simulated twin and the file importer; which serves which `driver` is in drivers/registry.py."""
