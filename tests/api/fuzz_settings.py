"""The API fuzzing's pinned settings (tests/api/test_api_fuzz.py), printed in the report
header by tests/conftest.py."""

SEED = 20261204
MAX_EXAMPLES = 40
