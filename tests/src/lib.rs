//! Fixture harness and end-to-end tests of flowc live in `tests/`.
