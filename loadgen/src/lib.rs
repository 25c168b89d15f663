//! The load generator: arrival schedules x request sources x a connection engine that measures
//! latency from each request's intended send time (coordinated-omission corrected).

pub mod arrivals;
pub mod schedule;
pub mod source;
pub mod traffic;
