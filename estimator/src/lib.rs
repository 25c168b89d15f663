//! Scenario model, units and capacity-estimate maths for napkin.
//!
//! A scenario file is read in two steps: YAML into raw structs, then validation into the domain
//! types of [`model`], which carry base units only. [`estimate`] turns a scenario into numbers.

pub mod model;

pub use model::*;
