"""The demo centre `make demo` seeds, and its past: loans, readings and weekly classes."""
