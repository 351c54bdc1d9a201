//! The command line's exit codes, as the README documents them.

pub const OK: u8 = 0;
/// An expectation, property or conformance field did not hold.
pub const EXPECTATION_FAILED: u8 = 1;
/// Bad input: a scenario, flag or file that cannot be used.
pub const BAD_INPUT: u8 = 2;
/// The simulation itself failed (an event budget ran out).
pub const SIMULATION_ERROR: u8 = 3;
/// The environment could not run real processes (conform).
pub const ENVIRONMENT: u8 = 4;

/// A scenario file's plan, or its error (file, line, column, hint) on
/// standard error and [`BAD_INPUT`].
pub fn load(path: &std::path::Path) -> Result<crate::scenario::Plan, u8> {
    crate::scenario::load(path).map_err(|e| {
        crate::errln!("{e}");
        BAD_INPUT
    })
}

/// [`load`] with `--set` overrides applied.
pub fn load_with(path: &std::path::Path, sets: &[String]) -> Result<crate::scenario::Plan, u8> {
    crate::scenario::load_with(path, sets).map_err(|e| {
        crate::errln!("{e}");
        BAD_INPUT
    })
}
