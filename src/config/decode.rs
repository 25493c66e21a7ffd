//! Stage `config`, the text of a table file: its bytes as text, in whichever encoding a
//! spreadsheet program saved it: UTF-8 with or without a byte order mark, UTF-16 with one
//! (little- or big-endian), or Windows-1252 (what Excel on Western Windows writes for "CSV
//! (Comma delimited)"). A file that is none of these is refused once, at the row of the first
//! thing that is not text. Pure: it reads what it is given, and nothing else.
//!
//! A table of any size is read in bounded memory: [`detect`] goes through the bytes once, a
//! buffer at a time, and says which encoding they are in (or why none); [`Decoded`] then gives
//! the text as UTF-8 a buffer at a time, for the CSV reader. Which encoding a file is in is
//! decided on the whole file, as before it was read whole: a file without a byte order mark is
//! UTF-8 when every byte of it is; otherwise Windows-1252, unless somewhere in it is a UTF-8
//! character of several bytes (then it is UTF-8 broken in places, and refused).

use std::io::{self, Read, Seek, SeekFrom};

use encoding_rs::{Decoder, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::ProblemKind;
use super::yaml::Pos;

/// The bytes Windows-1252 leaves undefined.
const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// How many bytes [`detect`] and [`Decoded`] read at a time.
const BUFFER: usize = 64 * 1024;

/// The encoding of a table's bytes, as [`detect`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, after a byte order mark when `bom`.
    Utf8 {
        /// The bytes start with UTF-8's byte order mark (`EF BB BF`), which is no text.
        bom: bool,
    },
    /// UTF-16, little-endian, after its byte order mark (`FF FE`).
    Utf16Le,
    /// UTF-16, big-endian, after its byte order mark (`FE FF`).
    Utf16Be,
    /// Windows-1252.
    Windows1252,
}

impl Encoding {
    /// How many bytes of byte order mark come before the text.
    fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8 { bom: true } => 3,
            Encoding::Utf8 { bom: false } | Encoding::Windows1252 => 0,
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
        }
    }

    /// The decoder of the text after the byte order mark; `None` for UTF-8, whose bytes are
    /// the text.
    fn decoder(self) -> Option<Decoder> {
        let encoding = match self {
            Encoding::Utf8 { .. } => return None,
            Encoding::Utf16Le => UTF_16LE,
            Encoding::Utf16Be => UTF_16BE,
            Encoding::Windows1252 => WINDOWS_1252,
        };
        Some(encoding.new_decoder_without_bom_handling())
    }
}

/// A table's refusal: the row where its first thing that is not text is, and what it is.
pub type Refusal = (Pos, ProblemKind);

/// The text of a table file, or the problem that refuses it (at its row).
pub fn decode(bytes: &[u8]) -> Result<String, Refusal> {
    decode_owned(bytes.to_vec())
}

/// [`decode`] of bytes it may keep: UTF-8 becomes the text in the same memory (a large table
/// is never in memory twice, as bytes and as text); the other encodings are decoded into a new
/// text and the bytes freed.
pub fn decode_owned(mut bytes: Vec<u8>) -> Result<String, Refusal> {
    let encoding = match detect(&mut io::Cursor::new(&bytes)) {
        Ok(found) => found?,
        // Reading from memory fails in no way.
        Err(e) => return Err(refused(1, e.to_string())),
    };
    if let Encoding::Utf8 { bom } = encoding {
        if bom {
            bytes.drain(..3);
        }
        // Checked by `detect`; refused the same way should it not be.
        return String::from_utf8(bytes).map_err(|e| {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            refused(row_of(&bytes, bad), format!("byte 0x{:02X}", bytes[bad]))
        });
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2);
    let read = Decoded::new(bytes.as_slice(), encoding).read_to_string(&mut text);
    read.map_err(|e| refused(1, e.to_string()))?;
    Ok(text)
}

/// Which encoding the bytes `input` gives (to its end) are in, or the refusal of a file in
/// none: the answers [`decode`] gives, found a buffer at a time. Goes back to the start of
/// `input` only to find the row of what refuses it.
pub fn detect<R: Read + Seek>(input: &mut R) -> io::Result<Result<Encoding, Refusal>> {
    detect_with(input, BUFFER)
}

/// [`detect`], reading `buffer` bytes at a time (at least 4).
fn detect_with<R: Read + Seek>(
    input: &mut R,
    buffer: usize,
) -> io::Result<Result<Encoding, Refusal>> {
    let mut buf = vec![0; buffer.max(4)];
    let start = fill(input, &mut buf[..3])?;
    let head = &buf[..start];
    let found = if head == b"\xEF\xBB\xBF" {
        let scan = scan_utf8(input, &mut buf, 0)?;
        match (scan.invalid, scan.nul) {
            (Some((at, byte)), _) => Bad::Byte(at + 3, byte),
            (None, Some(at)) => Bad::Nul(at + 3),
            (None, None) => return Ok(Ok(Encoding::Utf8 { bom: true })),
        }
    } else if let Some(encoding) = [
        (b"\xFF\xFE", Encoding::Utf16Le),
        (b"\xFE\xFF", Encoding::Utf16Be),
    ]
    .into_iter()
    .find_map(|(bom, encoding)| head.starts_with(bom).then_some(encoding))
    {
        // The byte after the byte order mark is text.
        let rest = head[2..].to_vec();
        let scan = scan_decoded(&mut rest.as_slice().chain(&mut *input), encoding, &mut buf)?;
        match (scan.replaced, scan.nul) {
            (Some(at), _) => Bad::Broken(encoding, at),
            (None, Some(at)) => Bad::DecodedNul(encoding, at),
            (None, None) => return Ok(Ok(encoding)),
        }
    } else {
        let scan = scan_utf8(input, &mut buf, start)?;
        match (scan.invalid, scan.nul) {
            (None, None) => return Ok(Ok(Encoding::Utf8 { bom: false })),
            (None, Some(at)) => Bad::Nul(at),
            // Text that is UTF-8 in places is not Windows-1252 elsewhere: it is broken.
            (Some((at, byte)), _) if scan.multibyte => Bad::Byte(at, byte),
            (Some(_), nul) => match (scan.undefined, nul) {
                (Some((at, byte)), _) => Bad::Byte(at, byte),
                (None, Some(at)) => Bad::Nul(at),
                (None, None) => return Ok(Ok(Encoding::Windows1252)),
            },
        }
    };
    input.seek(SeekFrom::Start(0))?;
    Ok(Err(match found {
        Bad::Byte(at, byte) => refused(rows_until(input, at)?, format!("byte 0x{byte:02X}")),
        Bad::Nul(at) => refused(rows_until(input, at)?, "a NUL byte".to_string()),
        Bad::Broken(encoding, at) | Bad::DecodedNul(encoding, at) => {
            let mut decoded = Decoded::new(input.by_ref(), encoding);
            let row = rows_until(&mut decoded, at)?;
            let what = if matches!(found, Bad::Broken(..)) {
                "a broken UTF-16 character"
            } else {
                "a NUL byte"
            };
            refused(row, what.to_string())
        }
    }))
}

/// What refuses a file, and where: at a byte of the file, or of its text decoded from UTF-16.
enum Bad {
    /// A byte of no encoding read (its offset in the file, and the byte).
    Byte(u64, u8),
    /// A NUL byte (its offset in the file).
    Nul(u64),
    /// A broken UTF-16 character (the offset of its replacement in the decoded text).
    Broken(Encoding, u64),
    /// A NUL in the text decoded from UTF-16 (its offset in that text).
    DecodedNul(Encoding, u64),
}

/// Reads into `buf` until it is full or the input ends; how many bytes were read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What a file's bytes are, as UTF-8 and as Windows-1252 (offsets in the file).
#[derive(Default)]
struct Utf8Scan {
    /// The first byte that is not UTF-8 (a sequence cut short at the end of the file
    /// included), and that byte.
    invalid: Option<(u64, u8)>,
    /// Is there a character of several bytes in valid UTF-8 anywhere?
    multibyte: bool,
    /// The first byte Windows-1252 does not define, and that byte.
    undefined: Option<(u64, u8)>,
    /// The first NUL byte.
    nul: Option<u64>,
}

/// Scans the rest of `input` as UTF-8 (and as Windows-1252), `buf` as the buffer, whose first
/// `held` bytes were read already; offsets count from the first of them.
fn scan_utf8(input: &mut impl Read, buf: &mut [u8], mut held: usize) -> io::Result<Utf8Scan> {
    let mut scan = Utf8Scan::default();
    // The offset of `buf[0]`.
    let mut base = 0u64;
    loop {
        let read = fill(input, &mut buf[held..])?;
        let end = held + read;
        let last = read == 0 || end < buf.len();
        // What can be judged now: all but a character cut short at the end of the buffer.
        let mut settled = end;
        let b = &buf[..end];
        let mut i = 0;
        while i < end {
            match std::str::from_utf8(&b[i..]) {
                Ok(s) => {
                    scan.multibyte |= !s.is_ascii();
                    break;
                }
                Err(e) => {
                    let at = i + e.valid_up_to();
                    scan.multibyte |= !b[i..at].is_ascii();
                    if e.error_len().is_none() && !last {
                        settled = at;
                        break;
                    }
                    if scan.invalid.is_none() {
                        scan.invalid = Some((base + at as u64, b[at]));
                    }
                    i = at + e.error_len().unwrap_or(1);
                }
            }
        }
        let done = &b[..settled];
        if scan.nul.is_none() {
            if let Some(at) = done.iter().position(|b| *b == 0) {
                scan.nul = Some(base + at as u64);
            }
        }
        if scan.undefined.is_none() {
            if let Some(at) = done.iter().position(|b| UNDEFINED_1252.contains(b)) {
                scan.undefined = Some((base + at as u64, done[at]));
            }
        }
        if last {
            return Ok(scan);
        }
        buf.copy_within(settled..end, 0);
        held = end - settled;
        base += settled as u64;
    }
}

/// What a file's text decoded from UTF-16 holds (offsets in that text, as UTF-8).
#[derive(Default)]
struct DecodedScan {
    /// The first replacement character, when a character was broken (a genuine one before it
    /// comes first, as it does when the whole text is searched).
    replaced: Option<u64>,
    /// The first NUL.
    nul: Option<u64>,
}

/// Decodes `input` (after its byte order mark) with replacement, `buf` as the buffer.
fn scan_decoded(
    input: &mut impl Read,
    encoding: Encoding,
    buf: &mut [u8],
) -> io::Result<DecodedScan> {
    let mut decoder = match encoding {
        Encoding::Utf16Be => UTF_16BE,
        _ => UTF_16LE,
    }
    .new_decoder_without_bom_handling();
    let mut out = String::new();
    let mut scan = DecodedScan::default();
    let mut first_replacement = None;
    let mut broken = false;
    let mut base = 0u64;
    loop {
        let read = fill(input, buf)?;
        let last = read == 0;
        out.clear();
        out.reserve(
            decoder
                .max_utf8_buffer_length(read)
                .unwrap_or(4 * read + 16),
        );
        let (_, _, replaced) = decoder.decode_to_string(&buf[..read], &mut out, last);
        broken |= replaced;
        if first_replacement.is_none() {
            first_replacement = out.find('\u{FFFD}').map(|at| base + at as u64);
        }
        if scan.nul.is_none() {
            scan.nul = out.find('\0').map(|at| base + at as u64);
        }
        base += out.len() as u64;
        if last {
            scan.replaced = first_replacement.filter(|_| broken);
            return Ok(scan);
        }
    }
}

/// The text of a table's bytes as UTF-8, a buffer at a time: the bytes after the byte order
/// mark, decoded from the encoding [`detect`] found (UTF-8 is passed on as it is). Bytes that
/// do not decode (the file changed since it was detected) become replacement characters, or
/// for UTF-8 stay as they are, for the CSV reader to refuse.
pub struct Decoded<R> {
    input: R,
    /// The byte order mark's bytes still to skip.
    skip: usize,
    decoder: Option<Decoder>,
    /// Bytes read and not yet decoded.
    raw: Vec<u8>,
    /// Text decoded and not yet given, from `at`.
    text: Vec<u8>,
    at: usize,
    ended: bool,
}

impl<R: Read> Decoded<R> {
    /// The text of `input`, whose encoding is `encoding`.
    pub fn new(input: R, encoding: Encoding) -> Self {
        Decoded {
            input,
            skip: encoding.bom_len(),
            decoder: encoding.decoder(),
            raw: Vec::new(),
            text: Vec::new(),
            at: 0,
            ended: false,
        }
    }

    /// Skips what is left of the byte order mark.
    fn skip_bom(&mut self) -> io::Result<()> {
        while self.skip > 0 {
            let mut bom = [0; 3];
            let n = self.input.read(&mut bom[..self.skip])?;
            if n == 0 {
                self.skip = 0;
            }
            self.skip -= n;
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.skip_bom()?;
        let Some(decoder) = &mut self.decoder else {
            return self.input.read(out);
        };
        while self.at == self.text.len() {
            if self.ended || out.is_empty() {
                return Ok(0);
            }
            self.raw.resize(BUFFER, 0);
            let read = fill(&mut self.input, &mut self.raw)?;
            self.ended = read == 0;
            let most = decoder.max_utf8_buffer_length(read);
            self.text.resize(most.unwrap_or(4 * read + 16), 0);
            let (_, _, written, _) =
                decoder.decode_to_utf8(&self.raw[..read], &mut self.text, self.ended);
            self.text.truncate(written);
            self.at = 0;
        }
        let n = out.len().min(self.text.len() - self.at);
        out[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The row of the byte at `at` of what `input` gives ([`row_of`], read a buffer at a time).
fn rows_until(input: &mut impl Read, at: u64) -> io::Result<usize> {
    let mut rows = RowCount::default();
    let mut buf = vec![0; BUFFER];
    let mut left = at;
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let read = fill(input, &mut buf[..want])?;
        if read == 0 {
            break;
        }
        rows.feed(&buf[..read]);
        left -= read as u64;
    }
    Ok(rows.row)
}

/// Counts the rows of a text as [`row_of`] does, a piece at a time.
#[derive(Debug, Clone, Copy)]
struct RowCount {
    row: usize,
    quoted: bool,
    /// The last byte was a line break `\r` (a `\n` after it ends no other row).
    after_cr: bool,
}

impl Default for RowCount {
    fn default() -> Self {
        RowCount {
            row: 1,
            quoted: false,
            after_cr: false,
        }
    }
}

impl RowCount {
    fn feed(&mut self, text: &[u8]) {
        for &b in text {
            let after_cr = std::mem::take(&mut self.after_cr);
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\r' if !self.quoted => {
                    self.row += 1;
                    self.after_cr = true;
                }
                b'\n' if !self.quoted && !after_cr => self.row += 1,
                _ => {}
            }
        }
    }
}

/// The refusal of a file at `row`, where `found` is.
fn refused(row: usize, found: String) -> Refusal {
    (Pos { line: row, col: 1 }, ProblemKind::Encoding { found })
}

/// The spreadsheet row of byte `at`: line breaks before it, but those inside a quoted cell.
fn row_of(text: &[u8], at: usize) -> usize {
    let mut rows = RowCount::default();
    rows.feed(&text[..at.min(text.len())]);
    rows.row
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// How tables were decoded before they were read a buffer at a time: the whole file's
    /// bytes at once. The streaming path must give its answers.
    mod whole {
        use super::super::{Refusal, UNDEFINED_1252, row_of};
        use crate::config::ProblemKind;
        use crate::config::yaml::Pos;
        use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

        pub fn decode(bytes: &[u8]) -> Result<String, Refusal> {
            let mut bytes = bytes.to_vec();
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
                return match String::from_utf8(bytes) {
                    Ok(text) => no_nul(text),
                    Err(e) => {
                        let bad = e.utf8_error().valid_up_to();
                        let bytes = e.into_bytes();
                        Err(refused(&bytes, bad, format!("byte 0x{:02X}", bytes[bad])))
                    }
                };
            }
            for (bom, encoding) in [(b"\xFF\xFE", UTF_16LE), (b"\xFE\xFF", UTF_16BE)] {
                if let Some(rest) = bytes.strip_prefix(bom) {
                    return match encoding.decode_without_bom_handling_and_without_replacement(rest)
                    {
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

        fn no_nul(text: String) -> Result<String, Refusal> {
            match text.find('\0') {
                None => Ok(text),
                Some(at) => Err(refused(text.as_bytes(), at, "a NUL byte".to_string())),
            }
        }

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

        /// The old row count, byte by byte over the whole text.
        fn refused(text: &[u8], at: usize, found: String) -> Refusal {
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
            let _ = row_of;
            (Pos { line: row, col: 1 }, ProblemKind::Encoding { found })
        }
    }

    /// A reader that gives at most the next of `sizes` bytes per read (cycling through them):
    /// pieces that cut characters, line breaks and byte order marks anywhere.
    struct Pieces<'a> {
        bytes: io::Cursor<&'a [u8]>,
        sizes: Vec<usize>,
        n: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.n % self.sizes.len()].max(1);
            self.n += 1;
            let k = size.min(out.len());
            self.bytes.read(&mut out[..k])
        }
    }

    impl Seek for Pieces<'_> {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.bytes.seek(to)
        }
    }

    /// Detects and decodes `bytes` read in pieces of `sizes`, with a buffer of `buffer` bytes.
    fn streamed(bytes: &[u8], sizes: &[usize], buffer: usize) -> Result<String, Refusal> {
        let pieces = || Pieces {
            bytes: io::Cursor::new(bytes),
            sizes: sizes.to_vec(),
            n: 0,
        };
        let encoding = detect_with(&mut pieces(), buffer).unwrap()?;
        let mut text = Vec::new();
        let mut decoded = Decoded::new(pieces(), encoding);
        // Read in pieces of the sizes too, as the CSV reader asks for what its buffer holds.
        let mut at = 0;
        loop {
            let want = sizes[at % sizes.len()].max(1);
            at += 1;
            let mut out = vec![0; want];
            let n = decoded.read(&mut out).unwrap();
            if n == 0 {
                break;
            }
            text.extend_from_slice(&out[..n]);
        }
        Ok(String::from_utf8(text).expect("decoded text is UTF-8"))
    }

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

    fn text() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            Just('a'),
            Just(','),
            Just(';'),
            Just('\t'),
            Just('"'),
            Just('\r'),
            Just('\n'),
            Just('é'),
            Just('€'),
            Just('日'),
            Just('😀'),
            Just('\0'),
            Just('\u{FFFD}'),
            Just('\u{FEFF}'),
        ];
        proptest::collection::vec(c, 0..40).prop_map(|cs| cs.into_iter().collect())
    }

    fn noisy_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            any::<u8>(),
            Just(0x81),
            Just(0x80),
            Just(0xC3),
            Just(0xE2),
            Just(0xF0),
            Just(0xA9),
            Just(0xD8),
            Just(0xDC),
            Just(0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// A table's bytes in any encoding a spreadsheet saves in, some bytes changed, inserted
        /// or cut off, read in pieces of any size (characters, line breaks and byte order marks
        /// cut anywhere) through a buffer of any size: detected and decoded a buffer at a time,
        /// they give exactly the text, or the refusal at its row, that decoding the whole file
        /// at once gave.
        #[test]
        fn read_in_pieces_as_the_whole_file_was_read(
            text in text(),
            encoding in 0usize..6,
            noise in proptest::collection::vec((any::<usize>(), noisy_byte(), any::<bool>()), 0..3),
            cut in 0usize..3,
            sizes in proptest::collection::vec(1usize..9, 1..6),
            buffer in 4usize..24,
        ) {
            let mut bytes = match encoding {
                0 => text.as_bytes().to_vec(),
                1 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                2 => [vec![0xFF, 0xFE], text.encode_utf16().flat_map(u16::to_le_bytes).collect()].concat(),
                3 => [vec![0xFE, 0xFF], text.encode_utf16().flat_map(u16::to_be_bytes).collect()].concat(),
                4 => WINDOWS_1252.encode(&text).0.into_owned(),
                _ => text.bytes().map(|b| if b >= 0x80 { b ^ 0x40 } else { b }).collect(),
            };
            for (at, b, insert) in noise {
                let at = at % (bytes.len() + 1);
                if insert || at == bytes.len() {
                    bytes.insert(at, b);
                } else {
                    bytes[at] = b;
                }
            }
            bytes.truncate(bytes.len().saturating_sub(cut));
            let expected = whole::decode(&bytes);
            prop_assert_eq!(&streamed(&bytes, &sizes, buffer), &expected);
            prop_assert_eq!(&decode(&bytes), &expected);
        }
    }

    /// Characters of several bytes cut by every buffer boundary there is, in a file larger than
    /// the buffer: the text as a whole.
    #[test]
    fn characters_cut_at_every_boundary() {
        let text = "日é😀\"a\r\n€b".repeat(7);
        for bytes in [
            text.as_bytes().to_vec(),
            utf16(&text, true),
            utf16(&text, false),
            WINDOWS_1252.encode("é€a;\"b\"\r\n").0.repeat(9),
        ] {
            let expected = whole::decode(&bytes);
            assert!(expected.is_ok());
            for size in 1..12 {
                for buffer in 4..12 {
                    assert_eq!(
                        streamed(&bytes, &[size], buffer),
                        expected,
                        "{size} {buffer}"
                    );
                }
            }
        }
    }
}
