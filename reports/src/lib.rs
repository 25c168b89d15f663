//! Histograms, run results, report formats and gates (SLO checks, regression compare).

pub mod error;
pub mod fixture;
pub mod histogram;
pub mod hlog;
pub mod io;
pub mod run;
pub mod slo;
pub mod units;

pub use error::ReportError;
pub use run::*;
