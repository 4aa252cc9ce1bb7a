"""Device drivers: one package per device kind, each a small interface, real drivers and a sim."""
