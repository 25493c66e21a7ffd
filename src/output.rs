//! Writing to stdout without panicking on a closed pipe (`partnerctl ... | head`).
//! May touch: stdout only.

use std::io::{self, Write};

/// Writes `text` to stdout through a locked handle. A closed pipe (`BrokenPipe`) counts as success:
/// the reader has seen all it wanted.
pub fn print_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
