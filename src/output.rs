//! Edge, output: stdout without panicking on a closed pipe (`partnerctl ... | head`), and the
//! notices and errors for people on stderr, as text or (with `--log-format json`) one JSON
//! object per line like the log events. Whatever a notice or an error quotes (a name from the
//! API, a value of the configuration), its control, bidirectional and zero-width characters
//! reach stderr escaped (`\u{1b}`), never raw. May touch: stdout, stderr.

use std::io::{self, Write};

use crate::vocab::diagnostic::{Diagnostic, Location, Severity};

/// Writes `text` to stdout through a locked handle. A closed pipe (`BrokenPipe`) counts as success:
/// the reader has seen all it wanted.
pub fn print_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Diagnostics as JSON objects (`--log-format json`) instead of text lines.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Chooses how [`note`] and [`error`] write: JSON objects when `json`.
pub fn set_json_logs(json: bool) {
    JSON_LOGS.store(json, std::sync::atomic::Ordering::Relaxed);
}

/// One JSON object shaped like the log events: `timestamp`, `level`, `message`.
pub fn json_line(level: &str, message: &str) -> String {
    serde_json::Value::Object(json_object(level, message)).to_string()
}

fn json_object(level: &str, message: &str) -> serde_json::Map<String, serde_json::Value> {
    use tracing_subscriber::fmt::time::FormatTime;
    let mut timestamp = String::new();
    let _ = tracing_subscriber::fmt::time::SystemTime.format_time(
        &mut tracing_subscriber::fmt::format::Writer::new(&mut timestamp),
    );
    let mut object = serde_json::Map::new();
    object.insert("timestamp".into(), timestamp.into());
    object.insert("level".into(), level.into());
    object.insert("message".into(), message.into());
    object
}

fn stderr_lines(level: &str, text: &str) {
    stderr_lines_at(level, text, None);
}

/// `text` on stderr: as it is; in JSON an object per line, with the parts of `location` when
/// there is one (`file` as the text shows it, `line` and `column` when it has a line).
fn stderr_lines_at(level: &str, text: &str, location: Option<&Location>) {
    let text = &*crate::vocab::rules::escape_hidden_keep_lines(text);
    let mut err = io::stderr().lock();
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut object = json_object(level, line);
            if let Some(at) = location {
                let path = crate::vocab::rules::escape_hidden(&at.path).into_owned();
                object.insert("file".into(), path.into());
                if at.pos.line > 0 {
                    object.insert("line".into(), at.pos.line.into());
                    object.insert("column".into(), at.pos.col.into());
                }
            }
            let _ = writeln!(err, "{}", serde_json::Value::Object(object));
        }
    } else {
        let _ = write!(err, "{text}");
        if !text.ends_with('\n') {
            let _ = writeln!(err);
        }
    }
}

/// A notice for people on stderr (a line of text, or one JSON object per line).
pub fn note(text: &str) {
    stderr_lines("INFO", text);
}

/// An error on stderr: `error: …` in text, level `ERROR` in JSON.
pub fn error(text: &str) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        stderr_lines("ERROR", text);
    } else {
        stderr_lines("ERROR", &format!("error: {text}"));
    }
}

/// Problems already worded with their location (`path:line:col: message`): as they are in
/// text, level `ERROR` in JSON.
pub fn problems(text: &str) {
    stderr_lines("ERROR", text);
}

/// Diagnostics on stderr, in their order: one with a location as its message says it
/// (`path:line:col: message`), one without as `error: message` or `warning: message`; in JSON,
/// an object per line with `level` (`ERROR`, `WARN`), the `message`, and for a located one its
/// `file` (as the message shows it), `line` and `column`.
pub fn diagnostics<'a, D: Diagnostic + 'a>(items: impl IntoIterator<Item = &'a D>) {
    for d in items {
        diagnostic(d);
    }
}

/// One diagnostic, as [`diagnostics`] writes them.
pub fn diagnostic(d: &(impl Diagnostic + ?Sized)) {
    let (level, word) = match d.severity() {
        Severity::Error => ("ERROR", "error"),
        Severity::Warning => ("WARN", "warning"),
    };
    let location = d.location();
    let message = d.to_string();
    let json = JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed);
    let text = match location {
        None if !json => format!("{word}: {message}"),
        _ => message,
    };
    stderr_lines_at(level, &text, location.as_ref());
}
