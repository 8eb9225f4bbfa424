//! flow-runtime
