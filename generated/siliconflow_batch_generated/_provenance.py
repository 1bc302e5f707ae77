"""Where this package came from; written by scripts/regenerate."""

SPEC_SHA256 = "17fdf2f2fe923ab4586177571802da208516dac63eb9f0e434c7efe42126774c"
GENERATOR_VERSION = "openapi-python-client 0.29.1"
