"""Demo records for seed_demo (idempotent)."""


def seed() -> None:
    pass
