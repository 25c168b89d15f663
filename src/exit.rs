//! Exit codes of SPEC section 2 and the error type that selects code 3.

/// Success.
pub const OK: u8 = 0;
/// A gate failed: an SLO threshold or a regression check.
pub const GATE_FAILED: u8 = 1;
/// Bad input: usage, scenario, file.
pub const BAD_INPUT: u8 = 2;
/// The run could not be carried out (e.g. the target was unreachable for the whole run).
pub const RUN_FAILED: u8 = 3;

/// An error meaning "the run could not be carried out" (exit 3). Any other error is bad input.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunFailed(pub String);

/// The exit code for an error returned by [`crate::run`].
pub fn code_of(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<RunFailed>().is_some() {
        RUN_FAILED
    } else {
        BAD_INPUT
    }
}
