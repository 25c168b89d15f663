//! server crate (work in progress).
