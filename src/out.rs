//! Standard output for the command line. `println!` panics when the reader
//! has gone (`redsim run … | head`); these end redsim quietly instead, as a
//! reader that stops early ends any Unix tool.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes `args` and a newline to standard output; see [`write`].
pub fn write_line(args: fmt::Arguments<'_>) {
    write(format_args!("{args}\n"));
}

/// Writes `args` to standard output. A closed pipe exits with status 0 (the
/// reader wanted no more); any other write error is reported and exits with 1.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("redsim: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the command line, quiet when the reader has gone.
#[macro_export]
macro_rules! outln {
    () => { $crate::out::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::out::write_line(format_args!($($arg)*)) };
}

/// `print!` for the command line, quiet when the reader has gone.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}
