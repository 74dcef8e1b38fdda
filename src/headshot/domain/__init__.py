"""Plain data and rules of the product: no I/O imports."""
