//! Diagnostics: what a person must know about, or fix, and where. Every problem a command
//! reports (a configuration's, a service the live catalog rejects, a planning error, a value
//! the API refused at apply, a policy that does not parse) is a [`Diagnostic`]: a message, a
//! [`Severity`], and the [`Location`] to fix when there is one; the edge prints them all one way
//! (text, or JSON objects with the location's parts as fields). Pure.

use std::fmt;

/// A position in a file: 1-based line and column (a table's row and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A place in a file, shown as `path:line:col`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file as the user named it (or as found below a named directory); a workbook's
    /// sheet as `book.xlsx:SHEET!`.
    pub path: String,
    /// 1-based line and column; line 0 for the whole file.
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            // Whole-file problems (cannot read, no files) have no line.
            write!(f, "{}", self.path)
        } else if self.path.ends_with('!') {
            // A workbook's sheet (`book.xlsx:SHEET!`): `book.xlsx:SHEET!ROW:COL`.
            write!(f, "{}{}", self.path, self.pos)
        } else {
            write!(f, "{}:{}", self.path, self.pos)
        }
    }
}

/// How much a diagnostic stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Nothing goes on until it is fixed.
    Error,
    /// Worth knowing; nothing is stopped by it.
    Warning,
}

/// Something a person must know about or fix. Its `Display` is the whole message on one line,
/// starting with `location: ` when it has a location.
pub trait Diagnostic: fmt::Display {
    /// Where to fix it, when it concerns a place in the user's files.
    fn location(&self) -> Option<Location>;

    /// Whether it stops anything.
    fn severity(&self) -> Severity {
        Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_as_path_line_col() {
        let at = |path: &str, line, col| Location {
            path: path.into(),
            pos: Pos { line, col },
        };
        assert_eq!(at("a.yaml", 3, 7).to_string(), "a.yaml:3:7");
        assert_eq!(
            at("book.xlsx:Customers!", 2, 5).to_string(),
            "book.xlsx:Customers!2:5"
        );
        assert_eq!(at("a.yaml", 0, 0).to_string(), "a.yaml");
    }
}
