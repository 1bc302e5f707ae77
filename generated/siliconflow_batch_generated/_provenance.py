"""Where this package came from; written by scripts/regenerate."""

SPEC_SHA256 = "572687cfecbe4c9b602ea246ba5c85ad64e3087f78d057560a9028d5df3200eb"
GENERATOR_VERSION = "openapi-python-client 0.29.1"
