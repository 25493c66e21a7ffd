//! Stage `config`, the text of a table file: its bytes as text, in whichever encoding a
//! spreadsheet program saved it: UTF-8 with or without a byte order mark, UTF-16 with one
//! (little- or big-endian), or Windows-1252 (what Excel on Western Windows writes for "CSV
//! (Comma delimited)"). A file that is none of these is refused once, at the row of the first
//! thing that is not text. Pure.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::ProblemKind;
use super::yaml::Pos;

/// The bytes Windows-1252 leaves undefined.
const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// The text of a table file, or the problem that refuses it (at its row).
pub fn decode(bytes: &[u8]) -> Result<String, (Pos, ProblemKind)> {
    decode_owned(bytes.to_vec())
}

/// [`decode`] of bytes it may keep: UTF-8 becomes the text in the same memory (a large table
/// is never in memory twice, as bytes and as text); the other encodings are decoded into a new
/// text and the bytes freed.
pub fn decode_owned(mut bytes: Vec<u8>) -> Result<String, (Pos, ProblemKind)> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
        return utf8(bytes);
    }
    for (bom, encoding) in [(b"\xFF\xFE", UTF_16LE), (b"\xFE\xFF", UTF_16BE)] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            return match encoding.decode_without_bom_handling_and_without_replacement(rest) {
                Some(text) => no_nul(text.into_owned()),
                None => {
                    let (lossy, _) = encoding.decode_without_bom_handling(rest);
                    let at = lossy.find('\u{FFFD}').unwrap_or(0);
                    let found = "a broken UTF-16 character".to_string();
                    Err(refused(lossy.as_bytes(), at, found))
                }
            };
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) => no_nul(text),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // Text that is UTF-8 in places is not Windows-1252 elsewhere: it is broken.
            if bytes.iter().any(|b| *b >= 0x80) && has_utf8_sequence(&bytes) {
                return Err(refused(&bytes, bad, format!("byte 0x{:02X}", bytes[bad])));
            }
            if let Some(at) = bytes.iter().position(|b| UNDEFINED_1252.contains(b)) {
                return Err(refused(&bytes, at, format!("byte 0x{:02X}", bytes[at])));
            }
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(&bytes);
            no_nul(text.into_owned())
        }
    }
}

/// UTF-8 (after its byte order mark).
fn utf8(bytes: Vec<u8>) -> Result<String, (Pos, ProblemKind)> {
    match String::from_utf8(bytes) {
        Ok(text) => no_nul(text),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            Err(refused(&bytes, bad, format!("byte 0x{:02X}", bytes[bad])))
        }
    }
}

/// `text`, unless it holds a NUL, which no table's text does (it is binary, or UTF-16 without
/// a byte order mark).
fn no_nul(text: String) -> Result<String, (Pos, ProblemKind)> {
    match text.find('\0') {
        None => Ok(text),
        Some(at) => Err(refused(text.as_bytes(), at, "a NUL byte".to_string())),
    }
}

/// Does `bytes` hold a valid multi-byte UTF-8 sequence?
fn has_utf8_sequence(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => return s.bytes().any(|b| b >= 0x80),
            Err(e) => {
                let good = &rest[..e.valid_up_to()];
                if good.iter().any(|b| *b >= 0x80) {
                    return true;
                }
                let skip = e.valid_up_to() + e.error_len().unwrap_or(1);
                if skip >= rest.len() {
                    return false;
                }
                rest = &rest[skip..];
            }
        }
    }
}

/// The refusal of a file whose byte `at` of `text` is `found`, at that byte's row.
fn refused(text: &[u8], at: usize, found: String) -> (Pos, ProblemKind) {
    (
        Pos {
            line: row_of(text, at),
            col: 1,
        },
        ProblemKind::Encoding { found },
    )
}

/// The spreadsheet row of byte `at`: line breaks before it, but those inside a quoted cell.
pub(super) fn row_of(text: &[u8], at: usize) -> usize {
    let mut row = 1;
    let mut quoted = false;
    let mut i = 0;
    let end = at.min(text.len());
    while i < end {
        match text[i] {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted => {
                if text[i] == b'\r' && text.get(i + 1) == Some(&b'\n') && i + 1 < end {
                    i += 1;
                }
                row += 1;
            }
            _ => {}
        }
        i += 1;
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name;contact_name\r\nZürich Café;Jörg\r\n";

    fn utf16(text: &str, little: bool) -> Vec<u8> {
        let mut out = if little {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text.encode_utf16() {
            let b = if little {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            };
            out.extend(b);
        }
        out
    }

    #[test]
    fn every_encoding_a_spreadsheet_saves_in_is_read() {
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(TEXT.as_bytes());
        let (cp1252, _, _) = WINDOWS_1252.encode(TEXT);
        for (what, bytes) in [
            ("UTF-8", TEXT.as_bytes().to_vec()),
            ("UTF-8 with a BOM", bom),
            ("UTF-16LE", utf16(TEXT, true)),
            ("UTF-16BE", utf16(TEXT, false)),
            ("Windows-1252", cp1252.into_owned()),
        ] {
            assert_eq!(decode(&bytes).as_deref(), Ok(TEXT), "{what}");
        }
        // Windows-1252's own characters, such as the euro sign and curly quotes.
        assert_eq!(
            decode(b"a,\x80 \x93x\x94\n").unwrap(),
            "a,\u{20ac} \u{201c}x\u{201d}\n"
        );
    }

    #[test]
    fn what_is_none_of_them_is_refused_at_its_row() {
        let refused = |bytes: &[u8]| {
            let (pos, kind) = decode(bytes).unwrap_err();
            format!("{} {kind}", pos.line)
        };
        // UTF-8 in one place and something else in another.
        let mixed = "a\nZürich\n\"two\nlines\"\nbXc\n";
        let mut bytes = mixed.as_bytes().to_vec();
        let at = bytes.iter().position(|b| *b == b'b').unwrap();
        bytes[at + 1] = 0xFF;
        let shown = refused(&bytes);
        assert!(shown.starts_with("4 this file is not text in UTF-8, UTF-16 (with a byte order mark) or Windows-1252 (byte 0xFF on this row is none of them): save it as \"CSV UTF-8\""), "{shown}");
        // Bytes Windows-1252 does not define.
        assert!(refused(b"a\nb\nc\x81\n").starts_with("3 "));
        // UTF-16 without a byte order mark, and binary files.
        assert!(refused(b"n\0a\0m\0e\0").contains("a NUL byte"));
        assert!(refused(b"PK\x03\x04\x14\0\x06\0").starts_with("1 "));
        // UTF-16 with a broken character.
        let mut broken = utf16("a\nb", true);
        broken.extend([0x00, 0xD8, b'x', 0]);
        assert!(refused(&broken).starts_with("2 "), "{}", refused(&broken));
    }
}
