//! One module per subcommand: its arguments (clap derive) and its `run`.

pub mod ab;
pub mod capacity;
pub mod check;
pub mod compare;
pub mod estimate;
pub mod fit;
pub mod load;
pub mod merge;
pub mod report;
pub mod serve;
