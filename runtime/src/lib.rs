//! flow-runtime
pub mod pattern;
