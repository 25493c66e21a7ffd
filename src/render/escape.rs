//! Stage `render`, how the outputs show text that comes from the API or the configuration
//! (names, emails, keys, settings, the messages that quote them), so that every output is safe
//! to open: text shows control, bidirectional and zero-width characters escaped (a terminal
//! never receives an ESC it did not get from the palette), markdown renders such text as
//! the literal text it is (no HTML, no line breaks, no links or images, no table cells), CSV
//! cells never start a formula, and JSON writes those characters as `\u` escapes, which decode
//! to the same text. Pure.

use std::borrow::Cow;
use std::io;

use serde::Serialize;

use crate::vocab::rules::{escape_hidden, hidden_char};

/// Text for a terminal or a log: every hidden character escaped (`\u{202e}`, `\n`).
pub(super) fn text(s: &str) -> Cow<'_, str> {
    escape_hidden(s)
}

/// `s` in double quotes, with `"` and `\` escaped and hidden characters shown as escapes:
/// `"Jane \"JD\" Doe"`, `"Acme\u{202e}"`.
pub(super) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if hidden_char(c) => out.push_str(&escape_hidden(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that markdown reads as syntax anywhere in a line: escapes, code spans, emphasis
/// and strikethrough, links, images and footnotes (`[`, `]`: without them `!`, `(` and `)` are
/// plain), HTML and angle-bracket autolinks, entities, table cells and math.
fn inline_syntax(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '~' | '[' | ']' | '<' | '>' | '&' | '|' | '$'
    )
}

/// Text inside a markdown line (a table cell, a list item, a quote) that renders as exactly
/// itself: hidden characters escaped as in [`text`] (so no line break), and a backslash before
/// every character that markdown could read as syntax there: those of [`inline_syntax`]; a `_`
/// that is not inside a word; the `:` of `http://` and the `.` of `www.`, which would become
/// links; and, at the start, what would open a heading, a quote, a list or a thematic break in
/// a list item (`#`, `>`, `-`, `+`, `=`, `1.`, `1)`). So no HTML, link, image, autolink,
/// emphasis, block or table cell comes out of it, and the rendered text is the text.
pub(super) fn markdown(s: &str) -> String {
    let shown: Vec<char> = text(s).chars().collect();
    let mut out = String::with_capacity(shown.len() + 8);
    let digits = shown.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in shown.iter().enumerate() {
        let before = |n: usize| i.checked_sub(n).map(|j| shown[j]);
        let after = |n: usize| shown.get(i + n).copied();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let escape = inline_syntax(c)
            || (c == '_' && !(word(before(1)) && word(after(1))))
            || (c == ':' && after(1) == Some('/') && after(2) == Some('/'))
            || (c == '.' && i >= 3 && shown[i - 3..i].iter().all(|w| w.eq_ignore_ascii_case(&'w')))
            || (i == 0 && matches!(c, '#' | '>' | '-' | '+' | '='))
            || (digits > 0 && i == digits && matches!(c, '.' | ')'));
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A markdown code span of `s`, which renders it as literal text in a fixed-width font: hidden
/// characters escaped, fenced by more backticks than the longest run inside, and, in a table
/// cell (`in_table`), `|` written `\|` (which a table cell's code span shows as `|`).
pub(super) fn markdown_code(s: &str, in_table: bool) -> String {
    let shown = text(s);
    let shown = if in_table {
        Cow::Owned(shown.replace('|', "\\|"))
    } else {
        shown
    };
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest == 0 && !shown.starts_with(' ') && !shown.ends_with(' ') {
        format!("{fence}{shown}{fence}")
    } else {
        // A space at each end, which the code span drops, keeps a backtick or a space at
        // either end of the text.
        format!("{fence} {shown} {fence}")
    }
}

/// Does a spreadsheet read a cell that starts with `c` as a formula (or a command): `=`, `+`,
/// `-`, `@`, a tab or a carriage return?
fn formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A CSV cell that a spreadsheet shows as text: hidden characters escaped as in [`text`], and
/// a cell that would start a formula prefixed with an apostrophe (`'=HYPERLINK(...)`), as
/// OWASP advises against CSV injection. The CSV writer quotes what needs quoting.
pub(super) fn csv_cell(s: &str) -> Cow<'_, str> {
    let shown = text(s);
    if shown.starts_with(formula_start) {
        Cow::Owned(format!("'{shown}"))
    } else {
        shown
    }
}

/// Pretty JSON of `value` (as `serde_json::to_string_pretty` writes it) in which hidden
/// characters are written as `\u` escapes: the same JSON to a parser, inert on a terminal.
pub(super) fn json_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    write_json(value, serde_json::ser::PrettyFormatter::new())
}

/// JSON of `value` on one line, a space after each `,` and `:` (`{"a": [1, 2]}`), hidden
/// characters written as `\u` escapes as in [`json_pretty`].
pub(super) fn json_line<T: Serialize + ?Sized>(value: &T) -> String {
    write_json(value, OneLine)
}

fn write_json<T: Serialize + ?Sized, F: serde_json::ser::Formatter>(
    value: &T,
    formatter: F,
) -> String {
    let mut buf = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, SafeFormatter(formatter));
    value.serialize(&mut ser).expect("JSON values serialize");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

/// serde_json's compact formatter with a space after each `,` and `:`.
struct OneLine;

impl serde_json::ser::Formatter for OneLine {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// A formatter (serde_json's pretty one, or [`OneLine`]) that writes hidden characters in
/// strings as `\uXXXX` (serde_json escapes the C0 controls itself; this covers the others).
struct SafeFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if hidden_char(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // Every hidden character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_escapes_quotes_backslashes_and_hidden_characters() {
        assert_eq!(quoted("Jane Doe"), "\"Jane Doe\"");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted("x\u{202e}y\n\u{1b}"), "\"x\\u{202e}y\\n\\u{1b}\"");
    }

    #[test]
    fn markdown_text_is_literal() {
        for plain in [
            "Contoso Ltd",
            "jane@contoso.example (admin, active) on customer.contoso-paris",
            "acc_89ed: O'Brien-Smith 2.5 = 5/2 # 1 + 1 ! :)",
        ] {
            assert_eq!(markdown(plain), plain);
        }
        assert_eq!(
            markdown("x\n</details>\n# Owned\n![i](http://e.example/i.png)"),
            "x\\\\n\\</details\\>\\\\n# Owned\\\\n!\\[i\\](http\\://e.example/i.png)"
        );
        assert_eq!(
            markdown("a|b *c* _d_ ~e~ `f` $g$ &amp;"),
            "a\\|b \\*c\\* \\_d\\_ \\~e\\~ \\`f\\` \\$g\\$ \\&amp;"
        );
        assert_eq!(markdown("see WWW.e.example"), "see WWW\\.e.example");
        for (start, shown) in [
            ("# x", "\\# x"),
            ("> x", "\\> x"),
            ("- x", "\\- x"),
            ("+ x", "\\+ x"),
            ("===", "\\==="),
            ("12. x", "12\\. x"),
            ("1) x", "1\\) x"),
            ("12 x. y", "12 x. y"),
        ] {
            assert_eq!(markdown(start), shown, "{start}");
        }
        assert!(!markdown("\u{202e}\u{200b}").chars().any(hidden_char));
    }

    #[test]
    fn markdown_code_spans_fence_whatever_is_inside() {
        assert_eq!(
            markdown_code("customer.contoso", true),
            "`customer.contoso`"
        );
        assert_eq!(markdown_code("a`b", false), "`` a`b ``");
        assert_eq!(markdown_code("``x", false), "``` ``x ```");
        assert_eq!(markdown_code(" x", false), "`  x `");
        assert_eq!(markdown_code("a|b", true), "`a\\|b`");
        assert_eq!(markdown_code("a|b", false), "`a|b`");
        assert_eq!(markdown_code("a\nb", false), "`a\\nb`");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        for (cell, shown) in [
            (
                "=HYPERLINK(\"http://e.example\",\"x\")",
                "'=HYPERLINK(\"http://e.example\",\"x\")",
            ),
            ("+1", "'+1"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "\\tx"),
            ("\r=1", "\\r=1"),
            ("Jane Doe", "Jane Doe"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(cell), shown, "{cell:?}");
        }
    }

    #[test]
    fn json_escapes_hidden_characters_and_means_the_same() {
        let v = serde_json::json!({"name": "a\u{202e}b\u{1b}c\u{85}", "n": [1, 2], "e": {}});
        let s = json_pretty(&v);
        assert!(!s.chars().any(|c| hidden_char(c) && c != '\n'), "{s}");
        assert!(s.contains("a\\u202eb\\u001bc\\u0085"), "{s}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
        let plain = serde_json::json!({"a": [1, {"b": "c"}], "d": []});
        assert_eq!(
            json_pretty(&plain),
            serde_json::to_string_pretty(&plain).unwrap()
        );
    }

    #[test]
    fn json_on_one_line_escapes_hidden_characters_and_means_the_same() {
        let v = serde_json::json!({"name": "a\u{202e}b\nc", "n": [1, 2], "e": {}, "l": []});
        let s = json_line(&v);
        assert_eq!(
            s,
            "{\"name\": \"a\\u202eb\\nc\", \"n\": [1, 2], \"e\": {}, \"l\": []}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
