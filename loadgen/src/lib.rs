//! loadgen crate (work in progress).
