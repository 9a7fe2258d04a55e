//! Loading a file's text and turning byte offsets into lines and columns.
//!
//! Everything upstream works in byte ranges; this is the one place that knows about lines.
//! Lines end at `\n`, `\r\n` or a lone `\r`. Columns are 1-based and counted in Unicode
//! scalar values (SARIF's `unicodeCodePoints` column kind); the printers say so. Decoding
//! (BOMs, UTF-16, invalid UTF-8) also lives here so every frontend sees clean UTF-8.

/// Line starts of a text, for offset → (line, column) lookups.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(i + 1);
                }
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = clamp_to_char(text, offset);
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col = text[start..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// Byte range of a 0-based line, without its terminator.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line.min(self.starts.len() - 1)];
        let mut end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let b = text.as_bytes();
        while end > start && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
            end -= 1;
        }
        start..end
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset of the start of a 0-based line.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.min(self.starts.len() - 1)]
    }
}

/// Moves an offset back to the nearest character boundary.
pub fn clamp_to_char(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// The result of decoding a file's bytes.
pub struct Decoded {
    pub text: String,
    /// Something the user should know (replaced bytes, UTF-16).
    pub note: Option<String>,
}

/// Decodes bytes as UTF-8 (dropping a BOM) or UTF-16 with a BOM; invalid UTF-8 sequences are
/// replaced with U+FFFD so the rest of the file is still scanned, and a note says so.
pub fn decode(bytes: &[u8]) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode_utf8(rest);
    }
    if bytes.len() >= 2 && (bytes[..2] == [0xFF, 0xFE] || bytes[..2] == [0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let text = String::from_utf16_lossy(&units);
        return Decoded {
            text,
            note: Some("decoded from UTF-16; byte offsets refer to the decoded text".into()),
        };
    }
    decode_utf8(bytes)
}

/// [`decode`], taking the bytes: valid UTF-8 without a BOM (most files) becomes the text
/// without a copy.
pub fn decode_owned(bytes: Vec<u8>) -> Decoded {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return decode(&bytes);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Decoded { text, note: None },
        Err(e) => decode(e.as_bytes()),
    }
}

fn decode_utf8(bytes: &[u8]) -> Decoded {
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: s.to_string(),
            note: None,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let bad = text.matches('\u{FFFD}').count();
            Decoded {
                text,
                note: Some(format!(
                    "invalid UTF-8: {bad} byte sequence(s) replaced; the rest was scanned"
                )),
            }
        }
    }
}

/// Heuristic for binary content: a NUL byte in the first 8 KiB (after a UTF-16 BOM check).
pub fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.len() >= 2 && (bytes[..2] == [0xFF, 0xFE] || bytes[..2] == [0xFE, 0xFF]) {
        return false;
    }
    bytes[..bytes.len().min(8192)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_with_mixed_line_endings() {
        let text = "a\r\nbé\rc\nd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.position(text, 0), (1, 1));
        assert_eq!(idx.position(text, 3), (2, 1));
        assert_eq!(idx.position(text, 6), (2, 3));
        assert_eq!(idx.position(text, 7), (3, 1));
        assert_eq!(&text[idx.line_range(text, 0)], "a");
        assert_eq!(&text[idx.line_range(text, 1)], "bé");
    }

    #[test]
    fn decodes_utf16_and_invalid_utf8() {
        let utf16: Vec<u8> = [0xFF, 0xFE, b'h', 0, b'i', 0].to_vec();
        assert_eq!(decode(&utf16).text, "hi");
        let bad = decode(b"ok\xFFok");
        assert_eq!(bad.text, "ok\u{FFFD}ok");
        assert!(bad.note.is_some());
        assert!(looks_binary(b"a\0b"));
        assert!(!looks_binary(b"plain"));
    }

    #[test]
    fn decoding_owned_bytes_gives_what_decoding_borrowed_ones_does() {
        let cases: [&[u8]; 6] = [
            b"plain",
            b"",
            b"\xEF\xBB\xBFwith bom",
            b"ok\xFFok",
            &[0xFF, 0xFE, b'h', 0, b'i', 0],
            &[0xFE, 0xFF, 0, b'h', 0, b'i'],
        ];
        for bytes in cases {
            let (a, b) = (decode(bytes), decode_owned(bytes.to_vec()));
            assert_eq!((a.text, a.note), (b.text, b.note), "{bytes:?}");
        }
    }
}
