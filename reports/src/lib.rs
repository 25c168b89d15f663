//! Histograms, run results, report formats and gates (SLO checks, regression compare).

pub mod histogram;
pub mod run;

pub use run::*;
