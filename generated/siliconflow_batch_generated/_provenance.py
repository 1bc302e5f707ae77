"""Where this package came from; written by scripts/regenerate."""

SPEC_SHA256 = "930bd39ed4067127797cbcf453d51171bd4800565edb4e3ec6626677ad53201e"
GENERATOR_VERSION = "openapi-python-client 0.29.1"
