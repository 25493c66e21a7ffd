//! Stage `config`, YAML layer, the fast path: a direct reader of the plain subset of YAML that
//! configuration files are written in (what `export` and the generators write, and what people
//! usually type): block mappings and sequences indented with spaces, single-line flow mappings
//! and sequences, and single-line plain, single-quoted and escape-free double-quoted scalars, with
//! comments and blank lines anywhere between entries. It builds the very tree the full parser
//! (yaml-rust2 and the builder) builds, with the same positions, several times faster.
//!
//! Anything else (tabs, carriage returns, other control characters, document markers and
//! directives, anchors, aliases, tags, block scalars, multi-line scalars or flow collections,
//! `?` keys, empty values, keys that are not plain strings, duplicate keys, any error) makes it
//! give up (`None`), and the full parser reads the text: every error message and every rarer
//! YAML feature stays the full parser's. In debug builds every tree it builds is compared with
//! the full parser's (see [`super::parse`]). Pure.

use super::builder::resolve_plain;
use super::{Key, Node, Pos, Value};

/// Reads `text` when it is a mapping written in the subset; `None` otherwise.
pub(super) fn parse(text: &str) -> Option<Node> {
    if !plain_text(text) {
        return None;
    }
    let mut r = Reader {
        text,
        s: text.as_bytes(),
        i: 0,
        line: 1,
        line_start: 0,
        entries: Vec::new(),
        items: Vec::new(),
    };
    let indent = r.next_content()?;
    if r.at_block_entry() {
        return None; // a document that is a list: the full parser reports it
    }
    let doc = r.block_map(indent, 0)?;
    // Only blank and comment lines may follow.
    match r.next_content() {
        None => Some(doc),
        Some(_) => None,
    }
}

/// No byte the subset leaves to the full parser: control characters but the line feed (tabs,
/// carriage returns, NUL ends the stream for yaml-rust2), DEL, a byte order mark, and lines that
/// start with a document marker (`---`, `...`) or a directive (`%`).
fn plain_text(text: &str) -> bool {
    let s = text.as_bytes();
    let mut line_start = true;
    for (i, &b) in s.iter().enumerate() {
        if line_start && (b == b'%' || s[i..].starts_with(b"---") || s[i..].starts_with(b"...")) {
            return false;
        }
        if (b < 0x20 && b != b'\n')
            || b == 0x7f
            || (b == 0xef && s[i..].starts_with(b"\xef\xbb\xbf"))
        {
            return false;
        }
        line_start = b == b'\n';
    }
    true
}

/// Deeper nesting than this is left to the full parser (no deep recursion here).
const MAX_DEPTH: usize = 64;

/// The longest implicit key read here (yaml-rust2 refuses keys over 1024 characters).
const MAX_KEY_BYTES: usize = 1000;

struct Reader<'t> {
    text: &'t str,
    s: &'t [u8],
    /// The next byte to read.
    i: usize,
    /// The 1-based line of `i`.
    line: usize,
    /// Where that line starts.
    line_start: usize,
    /// The entries of the mappings being read, innermost last (each mapping takes its own off
    /// the top when it ends, into a vector of exactly their number).
    entries: Vec<(Key, Node)>,
    /// The items of the sequences being read, likewise.
    items: Vec<Node>,
}

impl<'t> Reader<'t> {
    /// The byte at `at`, or 0 at the end.
    fn byte(&self, at: usize) -> u8 {
        self.s.get(at).copied().unwrap_or(0)
    }

    /// The position of byte `at` of the current line (columns count characters).
    fn pos(&self, at: usize) -> Pos {
        let before = &self.s[self.line_start..at];
        let col = if before.is_ascii() {
            before.len()
        } else {
            self.text[self.line_start..at].chars().count()
        };
        Pos {
            line: self.line,
            col: col + 1,
        }
    }

    fn skip_spaces(&mut self) {
        while self.byte(self.i) == b' ' {
            self.i += 1;
        }
    }

    /// Moves past the line feed at `i` (or stays at the end).
    fn next_line(&mut self) {
        if self.i < self.s.len() {
            self.i += 1;
            self.line += 1;
            self.line_start = self.i;
        }
    }

    /// After a value: spaces, an optional comment, then the end of the line (consumed).
    fn end_of_line(&mut self) -> Option<()> {
        let before = self.i;
        self.skip_spaces();
        match self.byte(self.i) {
            0 | b'\n' => {}
            b'#' if self.i > before => self.skip_to_line_end(),
            _ => return None,
        }
        self.next_line();
        Some(())
    }

    fn skip_to_line_end(&mut self) {
        self.i += memchr(b'\n', &self.s[self.i..]).unwrap_or(self.s.len() - self.i);
    }

    /// Skips blank and comment lines, from the start of a line: the indentation of the next
    /// line with content, `i` at its first character; `None` at the end.
    fn next_content(&mut self) -> Option<usize> {
        loop {
            self.skip_spaces();
            match self.byte(self.i) {
                0 if self.i >= self.s.len() => return None,
                b'\n' => self.next_line(),
                b'#' => {
                    self.skip_to_line_end();
                    self.next_line();
                }
                _ => return Some(self.i - self.line_start),
            }
        }
    }

    /// Is `i` at a block sequence entry (`-` and a space or the end of the line)?
    fn at_block_entry(&self) -> bool {
        self.byte(self.i) == b'-' && matches!(self.byte(self.i + 1), b' ' | b'\n' | 0)
    }

    /// A block mapping whose first key is at `i`, in column `indent` (0-based); returns with `i`
    /// at the next line with content, or at the end.
    fn block_map(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let base = self.entries.len();
        loop {
            let key = self.block_key()?;
            if self.entries[base..].iter().any(|(k, _)| k.name == key.name) {
                return None; // the full parser reports it with both places
            }
            let value = self.map_value(indent, depth)?;
            self.entries.push((key, value));
            match self.indent_here() {
                Some(c) if c == indent && !self.at_block_entry() => {}
                Some(c) if c > indent => return None,
                Some(c) if c == indent => return None, // `-` in a mapping's column
                _ => break,
            }
        }
        let entries: Vec<(Key, Node)> = self.entries.drain(base..).collect();
        let pos = entries[0].0.pos;
        Some(Node {
            value: Value::Map(entries),
            pos,
        })
    }

    /// The indentation of the line `i` is on, when `i` is at its first character (after
    /// [`Reader::next_content`]); `None` at the end.
    fn indent_here(&self) -> Option<usize> {
        (self.i < self.s.len()).then(|| self.i - self.line_start)
    }

    /// An implicit key and its `:` (followed by a space or the end of the line).
    fn block_key(&mut self) -> Option<Key> {
        let start = self.i;
        let pos = self.pos(start);
        let name = match self.byte(start) {
            b'\'' | b'"' => self.quoted()?,
            _ => {
                let text = self.plain(false)?;
                if resolve_plain(text).is_some() {
                    return None; // `1:`, `true:`, `~:`: the builder's business
                }
                text.to_string()
            }
        };
        if self.byte(self.i) != b':'
            || !matches!(self.byte(self.i + 1), b' ' | b'\n' | 0)
            || self.i - start > MAX_KEY_BYTES
        {
            return None;
        }
        self.i += 1;
        Some(Key { name, pos })
    }

    /// The value after a block mapping key's `:`.
    fn map_value(&mut self, indent: usize, depth: usize) -> Option<Node> {
        let after_colon = self.i;
        self.skip_spaces();
        if matches!(self.byte(self.i), b'#' | b'\n' | 0) {
            // The value is on the next lines: a deeper block, or a sequence in the key's column.
            self.i = after_colon;
            self.end_of_line()?;
            let c = self.next_content()?;
            return if c > indent {
                self.block_node(c, depth + 1)
            } else if c == indent && self.at_block_entry() {
                self.block_seq(indent, depth + 1, true)
            } else {
                None // an empty value
            };
        }
        self.inline_value(indent, depth)
    }

    /// A scalar or flow collection that ends its line; returns at the next line with content,
    /// which must not be deeper than `indent` (that would continue a multi-line scalar).
    fn inline_value(&mut self, indent: usize, depth: usize) -> Option<Node> {
        let node = self.flow_node(false, depth)?;
        self.end_of_line()?;
        match self.next_content() {
            Some(c) if c > indent => None,
            _ => Some(node),
        }
    }

    /// A block node starting at `i`, in column `indent`.
    fn block_node(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if self.at_block_entry() {
            self.block_seq(indent, depth, false)
        } else {
            self.block_map(indent, depth)
        }
    }

    /// A block sequence whose first `-` is at `i`, in column `indent`. It starts at that `-`,
    /// or, for a sequence in its mapping key's column (`indentless`), where its first item does
    /// (yaml-rust2's marks).
    fn block_seq(&mut self, indent: usize, depth: usize, indentless: bool) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut pos = self.pos(self.i);
        let base = self.items.len();
        loop {
            if self.byte(self.i + 1) != b' ' {
                return None; // `-` alone on its line: the item is on the next lines
            }
            self.i += 1;
            self.skip_spaces();
            if matches!(self.byte(self.i), b'#' | b'\n' | 0) || self.at_block_entry() {
                return None;
            }
            let item_indent = self.i - self.line_start;
            if indentless && self.items.len() == base {
                pos = self.pos(self.i);
            }
            let item = if self.at_implicit_key() {
                self.block_map(item_indent, depth + 1)?
            } else {
                self.inline_value(indent, depth)?
            };
            self.items.push(item);
            match self.indent_here() {
                Some(c) if c == indent && self.at_block_entry() => {}
                Some(c) if c > indent => return None,
                _ => break,
            }
        }
        Some(Node {
            value: Value::Seq(self.items.drain(base..).collect()),
            pos,
        })
    }

    /// Does the line go on from `i` with an implicit key (a scalar, then `:` and a space or the
    /// end of the line)? Reads nothing.
    fn at_implicit_key(&mut self) -> bool {
        let (i, line, line_start) = (self.i, self.line, self.line_start);
        let key = match self.byte(i) {
            b'\'' | b'"' => self.quoted().is_some(),
            b'[' | b'{' => false,
            _ => self.plain(false).is_some(),
        };
        let found =
            key && self.byte(self.i) == b':' && matches!(self.byte(self.i + 1), b' ' | b'\n' | 0);
        (self.i, self.line, self.line_start) = (i, line, line_start);
        found
    }

    /// A scalar or a flow collection on one line, in block (`flow` false) or flow context.
    fn flow_node(&mut self, flow: bool, depth: usize) -> Option<Node> {
        let pos = self.pos(self.i);
        let value = match self.byte(self.i) {
            b'{' => return self.flow_map(depth + 1),
            b'[' => return self.flow_seq(depth + 1),
            b'\'' | b'"' => Value::String(self.quoted()?),
            _ => {
                let text = self.plain(flow)?;
                if !flow && self.byte(self.i) == b':' {
                    return None; // `a: b: c`
                }
                resolve_plain(text).unwrap_or_else(|| Value::String(text.to_string()))
            }
        };
        Some(Node { value, pos })
    }

    /// `{ key: value, ... }` on one line.
    fn flow_map(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let pos = self.pos(self.i);
        self.i += 1;
        self.skip_spaces();
        let base = self.entries.len();
        if self.byte(self.i) == b'}' {
            self.i += 1;
        } else {
            loop {
                let key_pos = self.pos(self.i);
                let name = match self.byte(self.i) {
                    b'\'' | b'"' => self.quoted()?,
                    b'{' | b'[' => return None,
                    _ => {
                        let text = self.plain(true)?;
                        if resolve_plain(text).is_some() {
                            return None;
                        }
                        text.to_string()
                    }
                };
                if self.byte(self.i) != b':' || self.byte(self.i + 1) != b' ' {
                    return None;
                }
                self.i += 2;
                self.skip_spaces();
                if matches!(self.byte(self.i), b',' | b'}' | b'#' | b'\n' | 0) {
                    return None;
                }
                let value = self.flow_node(true, depth)?;
                if self.entries[base..].iter().any(|(k, _)| k.name == name) {
                    return None;
                }
                self.entries.push((Key { name, pos: key_pos }, value));
                if !self.flow_next(b'}')? {
                    break;
                }
            }
        }
        Some(Node {
            value: Value::Map(self.entries.drain(base..).collect()),
            pos,
        })
    }

    /// `[ value, ... ]` on one line.
    fn flow_seq(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let pos = self.pos(self.i);
        self.i += 1;
        self.skip_spaces();
        let base = self.items.len();
        if self.byte(self.i) == b']' {
            self.i += 1;
        } else {
            loop {
                if matches!(self.byte(self.i), b',' | b']' | b'#' | b'\n' | 0) {
                    return None;
                }
                let item = self.flow_node(true, depth)?;
                self.items.push(item);
                if !self.flow_next(b']')? {
                    break;
                }
            }
        }
        Some(Node {
            value: Value::Seq(self.items.drain(base..).collect()),
            pos,
        })
    }

    /// After a flow collection's entry: `,` and another entry (true) or the closing bracket
    /// (false, consumed).
    fn flow_next(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        let b = self.byte(self.i);
        self.i += 1;
        if b == close {
            return Some(false);
        }
        if b != b',' {
            return None;
        }
        self.skip_spaces();
        // A trailing comma, or an entry on the next line: the full parser's business.
        (!matches!(self.byte(self.i), b',' | b']' | b'}' | b'#' | b'\n' | 0)).then_some(true)
    }

    /// A quoted scalar on one line: single-quoted (`''` is a quote) or double-quoted without
    /// escapes. Must be followed by a space, the end of the line, `:` or a flow indicator.
    fn quoted(&mut self) -> Option<String> {
        let quote = self.byte(self.i);
        let start = self.i + 1;
        let mut j = start;
        let mut doubled = false;
        loop {
            match self.byte(j) {
                0 | b'\n' => return None,
                b'\\' if quote == b'"' => return None,
                b if b == quote => {
                    if quote == b'\'' && self.byte(j + 1) == b'\'' {
                        doubled = true;
                        j += 2;
                        continue;
                    }
                    break;
                }
                _ => j += 1,
            }
        }
        let raw = &self.text[start..j];
        self.i = j + 1;
        if !matches!(
            self.byte(self.i),
            b' ' | b'\n' | 0 | b':' | b',' | b']' | b'}'
        ) {
            return None;
        }
        Some(if doubled {
            raw.replace("''", "'")
        } else {
            raw.to_string()
        })
    }

    /// A plain scalar on one line, trailing spaces left out; in flow context it also ends at a
    /// flow indicator. `None` when it may not start here.
    fn plain(&mut self, flow: bool) -> Option<&'t str> {
        let start = self.i;
        let first = self.byte(start);
        let next = self.byte(start + 1);
        let blank_next = matches!(next, b' ' | b'\n' | 0);
        match first {
            b'-' if blank_next || (flow && is_flow(next)) => return None,
            b'-' => {}
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => return None,
            _ => {}
        }
        let mut j = start;
        let mut end = start;
        loop {
            match self.byte(j) {
                0 | b'\n' => break,
                b':' if matches!(self.byte(j + 1), b' ' | b'\n' | 0)
                    || (flow && is_flow(self.byte(j + 1))) =>
                {
                    break;
                }
                b'#' if self.byte(j - 1) == b' ' => break,
                b if flow && is_flow(b) => break,
                // yaml-rust2 refuses a word starting with `-` and a flow indicator in flow context.
                b'-' if flow && self.byte(j - 1) == b' ' && is_flow(self.byte(j + 1)) => {
                    return None;
                }
                b' ' => j += 1,
                _ => {
                    j += 1;
                    end = j;
                }
            }
        }
        self.i = end;
        Some(&self.text[start..end])
    }
}

fn is_flow(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Are two trees the same, positions included (floats compared bit for bit, so `.nan` equals
/// itself)?
#[cfg(any(test, debug_assertions))]
pub(super) fn same(a: &Node, b: &Node) -> bool {
    a.pos == b.pos
        && match (&a.value, &b.value) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Seq(x), Value::Seq(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
            }
            (x, y) => x == y,
        }
}

#[cfg(test)]
mod tests;
