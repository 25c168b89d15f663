//! Histograms, run results, report formats and gates (SLO checks, regression compare).

pub mod capacity;
pub mod capacity_format;
pub mod compare;
pub mod compare_format;
pub mod error;
pub mod fixture;
pub mod format;
pub mod histogram;
pub mod hlog;
pub mod io;
pub mod junit;
pub mod merge;
pub mod run;
pub mod samples;
pub mod saturation;
pub mod shards;
pub mod slo;
pub mod stats;
pub mod summary;
pub mod units;

pub use error::ReportError;
pub use run::*;
