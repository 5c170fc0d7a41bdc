//! The command line: `gui` (default), `loss`, `inspect`, `bench`.

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    0
}
