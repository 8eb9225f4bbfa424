//! flowc
