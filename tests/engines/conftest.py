from tests.fal_double.fixtures import fal_double, fal_engine  # noqa: F401  (fixtures by name)
