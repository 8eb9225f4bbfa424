//! Executor unit tests: duplicates, out-of-order events, time flushes,
//! hop bound.
