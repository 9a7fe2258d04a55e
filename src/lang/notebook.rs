//! Jupyter notebook frontend: the code cells of an `.ipynb` file, read by the frontend of the
//! notebook's kernel language, with every span mapped back into the `.ipynb` text.
//!
//! The notebook's JSON is read by a small span-aware parser (serde_json drops positions), the
//! source strings of the code cells are decoded and joined into one program, and a [`SpanMap`]
//! records where each byte of that program came from, JSON escapes included. IPython magics
//! and shell escapes are blanked (same length, so the map stays simple) and cells in another
//! language (`%%bash`, `%%html`, ...) are left out. Text outputs become string literals so keys
//! and hosts printed into a committed notebook are found too. Markdown cells, images and cell
//! metadata are not read.

use std::ops::Range;

use crate::facts::{Arg, Facts, Lang, Part, StrLit, Value};

/// Facts of one notebook. Never panics; a file that is not notebook JSON yields no code facts,
/// `parse_errors` and a note.
pub fn facts(text: &str) -> Facts {
    let nb = match read(text) {
        Ok(nb) => nb,
        Err(why) => {
            let mut f = Facts::new();
            f.parse_errors = true;
            f.notes.push(format!("not a readable notebook: {why}"));
            return f;
        }
    };
    let mut f = match nb.lang {
        Some(Lang::Python) => crate::lang::python::facts(&nb.code),
        Some(Lang::Rust) => crate::lang::rust::facts(&nb.code),
        Some(l @ (Lang::JavaScript | Lang::TypeScript)) => {
            crate::lang::javascript::facts(&nb.code, l)
        }
        Some(l @ (Lang::CSharp | Lang::Java | Lang::Go)) => crate::lang::clike::facts(&nb.code, l),
        _ => {
            let mut f = Facts::new();
            f.notes.push(format!(
                "notebook kernel language `{}` is not analysed; only outputs were read",
                nb.lang_name
            ));
            f
        }
    };
    remap_facts(&mut f, &nb.map, text);
    f.strings.extend(nb.outputs);
    f
}

/// A notebook's program text and where it came from.
#[derive(Debug)]
pub struct Notebook {
    /// The code cells joined, magics blanked.
    pub code: String,
    /// Offsets in `code` → offsets in the `.ipynb` text.
    pub map: SpanMap,
    /// The kernel language, when phi-lint has a frontend for it.
    pub lang: Option<Lang>,
    pub lang_name: String,
    /// Text outputs as literals (spans in the `.ipynb` text).
    pub outputs: Vec<StrLit>,
}

/// Reads a notebook's code cells and outputs.
pub fn read(text: &str) -> Result<Notebook, String> {
    let root = Parser::new(text).document()?;
    let lang_name = kernel_language(&root, text).unwrap_or_else(|| "python".to_string());
    let lang = match lang_name.to_ascii_lowercase().as_str() {
        "python" | "python3" | "python2" | "ipython" | "py" => Some(Lang::Python),
        "rust" => Some(Lang::Rust),
        "javascript" | "js" | "node" | "nodejs" => Some(Lang::JavaScript),
        "typescript" | "ts" => Some(Lang::TypeScript),
        "c#" | "csharp" | ".net (c#)" => Some(Lang::CSharp),
        "java" => Some(Lang::Java),
        "go" | "golang" => Some(Lang::Go),
        _ => None,
    };
    let mut cells: Vec<&J> = Vec::new();
    if let Some(J::Arr(cs)) = root.get("cells") {
        cells.extend(cs.iter());
    }
    // nbformat 3 keeps cells under worksheets and code under `input`.
    if let Some(J::Arr(ws)) = root.get("worksheets") {
        for w in ws {
            if let Some(J::Arr(cs)) = w.get("cells") {
                cells.extend(cs.iter());
            }
        }
    }
    let mut b = Builder::default();
    let mut outputs = Vec::new();
    for cell in cells {
        if cell
            .get("cell_type")
            .and_then(|c| c.str_value(text))
            .as_deref()
            != Some("code")
        {
            continue;
        }
        if let Some(J::Arr(outs)) = cell.get("outputs") {
            for o in outs {
                output_strings(o, text, &mut outputs);
            }
        }
        let Some(source) = cell.get("source").or_else(|| cell.get("input")) else {
            continue;
        };
        let pieces: Vec<&JStr> = match source {
            J::Str(s) => vec![s],
            J::Arr(items) => items
                .iter()
                .filter_map(|i| match i {
                    J::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => continue,
        };
        b.cell(text, &pieces, lang);
    }
    let code = String::from_utf8(b.out).map_err(|_| "source is not UTF-8".to_string())?;
    Ok(Notebook {
        code,
        map: b.map,
        lang,
        lang_name,
        outputs,
    })
}

fn kernel_language(root: &J, text: &str) -> Option<String> {
    let meta = root.get("metadata")?;
    let pick = |v: Option<&J>| v.and_then(|l| l.str_value(text));
    pick(meta.get("kernelspec").and_then(|k| k.get("language")))
        .or_else(|| pick(meta.get("language_info").and_then(|k| k.get("name"))))
        .filter(|s| !s.trim().is_empty())
}

/// Text outputs: `stream` text, `text/*` data and error messages.
fn output_strings(o: &J, text: &str, out: &mut Vec<StrLit>) {
    let mut push = |v: &J| match v {
        J::Str(s) => out.push(s.lit(text)),
        J::Arr(items) => items.iter().for_each(|i| {
            if let J::Str(s) = i {
                out.push(s.lit(text));
            }
        }),
        _ => {}
    };
    if let Some(t) = o.get("text") {
        push(t);
    }
    if let Some(J::Obj(data)) = o.get("data") {
        for (mime, v) in data {
            if mime.starts_with("text/") {
                push(v);
            }
        }
    }
    if let Some(v) = o.get("evalue") {
        push(v);
    }
    if let Some(v) = o.get("traceback") {
        push(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Joining cells

#[derive(Default)]
struct Builder {
    out: Vec<u8>,
    map: SpanMap,
}

/// Cell magics whose body is still Python.
const PYTHON_CELL_MAGICS: &[&str] = &[
    "python", "python3", "time", "timeit", "capture", "prun", "debug", "ipython",
];

impl Builder {
    fn cell(&mut self, text: &str, pieces: &[&JStr], lang: Option<Lang>) {
        let start = self.out.len();
        let mark = self.map.segs.len();
        for p in pieces {
            decode_into(text, p.content(), &mut self.out, Some(&mut self.map));
        }
        let python = lang == Some(Lang::Python);
        if python {
            let body = &self.out[start..];
            let first = body
                .split(|&c| c == b'\n')
                .find(|l| !l.iter().all(u8::is_ascii_whitespace));
            if let Some(line) = first {
                let t = trim_ascii_start(line);
                if let Some(magic) = t.strip_prefix(b"%%") {
                    let name: Vec<u8> = magic
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                        .copied()
                        .collect();
                    let name = String::from_utf8_lossy(&name).to_ascii_lowercase();
                    if !PYTHON_CELL_MAGICS.contains(&name.as_str()) {
                        self.out.truncate(start);
                        self.map.segs.truncate(mark);
                        return;
                    }
                }
            }
        }
        self.blank_magics(start, lang);
        if self.out.len() > start && self.out.last() != Some(&b'\n') {
            let src = self.map.end(self.out.len());
            self.map.push(self.out.len(), src, 1, 0, false);
            self.out.push(b'\n');
        }
    }

    /// Replaces IPython magics and shell escapes (`%pip install x`, `!ls`, `x = !ls`) and
    /// evcxr commands (`:dep`) with spaces of the same length.
    fn blank_magics(&mut self, from: usize, lang: Option<Lang>) {
        let mut i = from;
        while i < self.out.len() {
            let end = self.out[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map(|p| i + p)
                .unwrap_or(self.out.len());
            let line = &self.out[i..end];
            let indent = line.len() - trim_ascii_start(line).len();
            let first = line.get(indent).copied();
            match lang {
                Some(Lang::Python) => {
                    if matches!(first, Some(b'%') | Some(b'!')) {
                        self.out[i..end].fill(b' ');
                    } else if let Some(at) = assigned_magic(line) {
                        self.out[i + at] = b'0';
                        self.out[i + at + 1..end].fill(b' ');
                    }
                }
                Some(Lang::Rust) if first == Some(b':') => self.out[i..end].fill(b' '),
                Some(Lang::CSharp) if line[indent..].starts_with(b"#!") => {
                    self.out[i..end].fill(b' ')
                }
                _ => {}
            }
            i = end + 1;
        }
    }
}

/// `files = !ls` / `out = %sx ls`: the offset of the `!` or `%`.
fn assigned_magic(line: &[u8]) -> Option<usize> {
    let mut i = line.len() - trim_ascii_start(line).len();
    let name_start = i;
    while i < line.len() && (line[i].is_ascii_alphanumeric() || matches!(line[i], b'_' | b'.')) {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    while i < line.len() && line[i] == b' ' {
        i += 1;
    }
    if line.get(i) != Some(&b'=') || line.get(i + 1) == Some(&b'=') {
        return None;
    }
    i += 1;
    while i < line.len() && line[i] == b' ' {
        i += 1;
    }
    matches!(line.get(i), Some(b'!') | Some(b'%')).then_some(i)
}

fn trim_ascii_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &s[n..]
}

// ---------------------------------------------------------------------------------------------
// The span map

/// Maps offsets in text decoded from JSON strings back to offsets in the JSON text. Runs copied
/// verbatim map linearly; an escape (`\n`, `\"`, `\u00e9`, a surrogate pair) maps as a unit, so
/// a span starting inside its output starts at the backslash and one ending there ends after
/// the escape.
#[derive(Clone, Debug, Default)]
pub struct SpanMap {
    segs: Vec<Seg>,
}

#[derive(Clone, Copy, Debug)]
struct Seg {
    out: usize,
    src: usize,
    out_len: usize,
    src_len: usize,
    linear: bool,
}

impl SpanMap {
    fn push(&mut self, out: usize, src: usize, out_len: usize, src_len: usize, linear: bool) {
        if out_len == 0 {
            return;
        }
        if let Some(last) = self.segs.last_mut() {
            if linear
                && last.linear
                && last.out + last.out_len == out
                && last.src + last.src_len == src
            {
                last.out_len += out_len;
                last.src_len += src_len;
                return;
            }
        }
        self.segs.push(Seg {
            out,
            src,
            out_len,
            src_len,
            linear,
        });
    }

    /// Where the byte at decoded offset `o` comes from.
    pub fn start(&self, o: usize) -> usize {
        let i = self.segs.partition_point(|s| s.out <= o);
        if i == 0 {
            return self.segs.first().map(|s| s.src).unwrap_or(0);
        }
        let s = &self.segs[i - 1];
        if o >= s.out + s.out_len {
            s.src + s.src_len
        } else if s.linear {
            s.src + (o - s.out)
        } else {
            s.src
        }
    }

    /// Where a span ending at decoded offset `o` ends.
    pub fn end(&self, o: usize) -> usize {
        let i = self.segs.partition_point(|s| s.out < o);
        if i == 0 {
            return self.start(o);
        }
        let s = &self.segs[i - 1];
        if s.linear && o <= s.out + s.out_len {
            s.src + (o - s.out)
        } else {
            s.src + s.src_len
        }
    }

    pub fn range(&self, r: &Range<usize>) -> Range<usize> {
        let start = self.start(r.start);
        if r.end <= r.start {
            return start..start;
        }
        start..self.end(r.end).max(start)
    }
}

/// Decodes the JSON string content at `range` of `text` into `out`, recording the origin of
/// every output byte in `map`.
fn decode_into(text: &str, range: Range<usize>, out: &mut Vec<u8>, mut map: Option<&mut SpanMap>) {
    let b = text.as_bytes();
    let mut i = range.start;
    let end = range.end.min(b.len());
    while i < end {
        let run = b[i..end]
            .iter()
            .position(|&c| c == b'\\')
            .unwrap_or(end - i);
        if run > 0 {
            if let Some(m) = map.as_deref_mut() {
                m.push(out.len(), i, run, run, true);
            }
            out.extend_from_slice(&b[i..i + run]);
            i += run;
            continue;
        }
        let (ch, used) = escape_at(b, i, end);
        let mut buf = [0u8; 4];
        let enc = ch.encode_utf8(&mut buf).as_bytes();
        if let Some(m) = map.as_deref_mut() {
            m.push(out.len(), i, enc.len(), used, false);
        }
        out.extend_from_slice(enc);
        i += used;
    }
}

/// The character an escape at `i` stands for and its length in the source.
fn escape_at(b: &[u8], i: usize, end: usize) -> (char, usize) {
    let Some(&c) = b.get(i + 1).filter(|_| i + 1 < end) else {
        return ('\\', 1);
    };
    match c {
        b'n' => ('\n', 2),
        b't' => ('\t', 2),
        b'r' => ('\r', 2),
        b'b' => ('\u{8}', 2),
        b'f' => ('\u{c}', 2),
        b'/' => ('/', 2),
        b'\\' => ('\\', 2),
        b'"' => ('"', 2),
        b'u' => {
            let Some(hi) = hex4(b, i + 2, end) else {
                return ('\u{fffd}', 2);
            };
            if (0xD800..0xDC00).contains(&hi)
                && b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
            {
                if let Some(lo) = hex4(b, i + 8, end).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return (char::from_u32(code).unwrap_or('\u{fffd}'), 12);
                }
            }
            (char::from_u32(hi).unwrap_or('\u{fffd}'), 6)
        }
        // Not JSON; keep the backslash and read what follows as text.
        _ => ('\\', 1),
    }
}

fn hex4(b: &[u8], at: usize, end: usize) -> Option<u32> {
    if at + 4 > end {
        return None;
    }
    let s = std::str::from_utf8(&b[at..at + 4]).ok()?;
    u32::from_str_radix(s, 16).ok()
}

// ---------------------------------------------------------------------------------------------
// Remapping facts

/// Moves every span of facts computed on the joined code into the `.ipynb` text.
pub fn remap_facts(f: &mut Facts, map: &SpanMap, text: &str) {
    for i in &mut f.imports {
        i.span = map.range(&i.span);
    }
    for c in &mut f.calls {
        c.span = map.range(&c.span);
        c.callee_span = map.range(&c.callee_span);
        remap_args(&mut c.args, map);
    }
    for a in &mut f.assigns {
        a.span = map.range(&a.span);
        remap_value(&mut a.value, map);
    }
    for s in &mut f.strings {
        s.span = map.range(&s.span);
        s.content_start = map.start(s.content_start);
        let end = s.content_start + s.value.len();
        s.raw_is_value = s.raw_is_value && text.get(s.content_start..end) == Some(s.value.as_str());
    }
    for c in &mut f.comments {
        c.span = map.range(&c.span);
    }
    for (i, s) in f.scopes.iter_mut().enumerate() {
        if i == 0 {
            s.span = 0..text.len();
        } else {
            s.span = map.range(&s.span);
        }
    }
    for c in &mut f.config {
        c.key_span = map.range(&c.key_span);
        c.value_span = map.range(&c.value_span);
        remap_value(&mut c.value, map);
    }
    for b in &mut f.blocks {
        b.span = map.range(&b.span);
    }
}

fn remap_args(args: &mut [Arg], map: &SpanMap) {
    for a in args {
        a.span = map.range(&a.span);
        remap_value(&mut a.value, map);
    }
}

fn remap_value(v: &mut Value, map: &SpanMap) {
    match v {
        Value::Object(args) => remap_args(args, map),
        Value::Array(items) => items.iter_mut().for_each(|i| remap_value(i, map)),
        Value::Template(parts) => parts.iter_mut().for_each(|p| {
            if let Part::Hole(h) = p {
                remap_value(h, map);
            }
        }),
        Value::Env {
            fallback: Some(fb), ..
        } => remap_value(fb, map),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// A JSON reader that keeps string positions

#[derive(Debug)]
enum J {
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
    Str(JStr),
    Other,
}

/// A JSON string: the span of the literal, quotes included.
#[derive(Debug, Clone)]
struct JStr {
    span: Range<usize>,
}

impl JStr {
    fn content(&self) -> Range<usize> {
        self.span.start + 1..self.span.end.saturating_sub(1).max(self.span.start + 1)
    }

    fn value(&self, text: &str) -> String {
        let mut out = Vec::new();
        decode_into(text, self.content(), &mut out, None);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn lit(&self, text: &str) -> StrLit {
        let value = self.value(text);
        let c = self.content();
        StrLit {
            raw_is_value: text.get(c.clone()) == Some(value.as_str()),
            value,
            span: self.span.clone(),
            content_start: c.start,
        }
    }
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str_value(&self, text: &str) -> Option<String> {
        match self {
            J::Str(s) => Some(s.value(text)),
            _ => None,
        }
    }
}

const MAX_JSON_DEPTH: usize = 256;

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            b: text.as_bytes(),
            i: 0,
        }
    }

    fn document(mut self) -> Result<J, String> {
        if self.text.starts_with('\u{feff}') {
            self.i = 3;
        }
        let v = self.value(0)?;
        self.ws();
        if self.i < self.b.len() {
            return Err(format!("unexpected data at byte {}", self.i));
        }
        if !matches!(v, J::Obj(_)) {
            return Err("the top level is not an object".into());
        }
        Ok(v)
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<J, String> {
        if depth > MAX_JSON_DEPTH {
            return Err("nesting too deep".into());
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(J::Obj(kv));
                }
                loop {
                    self.ws();
                    let key = match self.b.get(self.i) {
                        Some(b'"') => self.string()?.value(self.text),
                        _ => return Err(format!("expected a key at byte {}", self.i)),
                    };
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(format!("expected `:` at byte {}", self.i));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    kv.push((key, v));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(J::Obj(kv));
                        }
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(J::Arr(items));
                        }
                        _ => return Err(format!("expected `,` or `]` at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(_) => {
                let start = self.i;
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'
                    )
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(format!(
                        "unexpected `{}` at byte {}",
                        self.b[start] as char, start
                    ));
                }
                Ok(J::Other)
            }
            None => Err("unexpected end of file".into()),
        }
    }

    fn string(&mut self) -> Result<JStr, String> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Ok(JStr {
                        span: start..self.i,
                    });
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        Err(format!("unterminated string at byte {start}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Arg, Call};

    /// A tiny deterministic generator for the property loops.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// JSON-encodes a string, choosing among the escapes JSON allows for each character.
    fn encode(s: &str, rng: &mut Rng) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            let pick = rng.below(3);
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' if pick < 2 => out.push_str("\\n"),
                '\t' if pick == 0 => out.push_str("\\t"),
                '/' if pick == 0 => out.push_str("\\/"),
                c if (c as u32) < 0x20 || pick == 0 => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{:04x}", u));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn random_line(rng: &mut Rng) -> String {
        const ALPHABET: &[&str] = &[
            "a", "b", "x", " ", "=", "(", ")", "\"", "\\", "/", "\t", "é", "日", "😀", "\u{1}",
            "'", "key", "openai",
        ];
        let n = rng.below(12);
        let mut s: String = (0..n)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        if rng.below(4) != 0 {
            s.push('\n');
        }
        s
    }

    fn notebook(cells: &[String], lang: &str) -> String {
        format!(
            "{{\n \"cells\": [{}],\n \"metadata\": {{\"kernelspec\": {{\"language\": \"{lang}\", \"name\": \"k\"}}}},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}}\n",
            cells.join(",\n")
        )
    }

    fn code_cell(source: &str, outputs: &str) -> String {
        format!(
            "  {{\n   \"cell_type\": \"code\",\n   \"execution_count\": 1,\n   \"metadata\": {{}},\n   \"outputs\": [{outputs}],\n   \"source\": {source}\n  }}"
        )
    }

    fn decode_str(json: &str) -> String {
        let mut out = Vec::new();
        decode_into(json, 0..json.len(), &mut out, None);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn span_map_is_exact_over_generated_escapes() {
        let mut rng = Rng(0x2545F4914F6CDD1D);
        for round in 0..400 {
            let mut cells = Vec::new();
            let mut expected = String::new();
            let mut separators = 0;
            // A code line made of two JSON strings maps onto both, with JSON in between.
            let mut line_spans_strings = false;
            for _ in 0..1 + rng.below(4) {
                let lines: Vec<String> = (0..rng.below(5)).map(|_| random_line(&mut rng)).collect();
                let joined: String = lines.concat();
                let source = if rng.below(3) == 0 {
                    encode(&joined, &mut rng)
                } else {
                    let parts: Vec<String> = lines.iter().map(|l| encode(l, &mut rng)).collect();
                    line_spans_strings |= lines.iter().rev().skip(1).any(|l| !l.ends_with('\n'));
                    format!("[{}]", parts.join(", "))
                };
                cells.push(code_cell(&source, ""));
                expected.push_str(&joined);
                if !joined.is_empty() && !joined.ends_with('\n') {
                    expected.push('\n');
                    separators += 1;
                }
            }
            let text = notebook(&cells, "julia");
            let nb = read(&text).unwrap_or_else(|e| panic!("round {round}: {e}\n{text}"));
            assert_eq!(nb.code, expected, "round {round}");
            let mut empty = 0;
            let mut last = 0;
            for (o, c) in nb.code.char_indices() {
                let r = nb.map.range(&(o..o + c.len_utf8()));
                assert!(
                    r.start >= last,
                    "map goes backwards at {o} in round {round}"
                );
                last = r.start;
                if r.is_empty() {
                    empty += 1;
                    continue;
                }
                assert_eq!(
                    decode_str(&text[r.clone()]),
                    c.to_string(),
                    "round {round} offset {o}"
                );
            }
            assert_eq!(empty, separators, "round {round}");
            // Whole-line spans come back as the encoded text of exactly that line.
            for (start, line) in line_ranges(&nb.code) {
                if line_spans_strings {
                    break;
                }
                let r = nb.map.range(&(start..start + line.len()));
                assert_eq!(decode_str(&text[r]), line, "round {round}");
            }
        }
    }

    fn line_ranges(code: &str) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        for line in code.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            if !body.is_empty() {
                out.push((start, body));
            }
            start += line.len();
        }
        out
    }

    #[test]
    fn magics_are_blanked_and_foreign_cells_skipped() {
        let cells = [
            code_cell(
                r#"["%pip install openai\n", "!ls -la\n", "files = !ls\n", "import openai\n"]"#,
                "",
            ),
            code_cell(r#"["%%bash\n", "curl https://api.openai.com\n"]"#, ""),
            code_cell(r#"["%%time\n", "client = openai.OpenAI()"]"#, ""),
        ];
        let mut text = notebook(&cells, "python");
        text = text.replace(
            r#""metadata": {"kernelspec": {"language": "python", "name": "k"}},"#,
            "",
        );
        let nb = read(&text).unwrap();
        assert_eq!(nb.lang, Some(Lang::Python));
        assert_eq!(
            nb.code,
            "                   \n       \nfiles = 0  \nimport openai\n      \nclient = openai.OpenAI()\n"
        );
        let at = nb.code.find("openai.OpenAI").unwrap();
        let r = nb.map.range(&(at..at + "openai.OpenAI".len()));
        assert_eq!(&text[r], "openai.OpenAI");
    }

    #[test]
    fn kernel_language_from_metadata() {
        let cell = [code_cell(r#""let x = 1;""#, "")];
        assert_eq!(
            read(&notebook(&cell, "rust")).unwrap().lang,
            Some(Lang::Rust)
        );
        let li = notebook(&cell, "x").replace(
            r#""kernelspec": {"language": "x", "name": "k"}"#,
            r#""language_info": {"name": "typescript"}"#,
        );
        assert_eq!(read(&li).unwrap().lang, Some(Lang::TypeScript));
        let r = read(&notebook(&cell, "R")).unwrap();
        assert_eq!(r.lang, None);
        assert!(facts(&notebook(&cell, "R")).notes[0].contains("`R`"));
    }

    #[test]
    fn text_outputs_become_literals() {
        let outputs = r#"{"name": "stdout", "output_type": "stream", "text": ["key: sk-abc123\n", "host: myres.openai.azure.com"]},
   {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": "'Patient J\u00f6hn'", "image/png": "iVBORw0KGgo="}},
   {"output_type": "error", "ename": "AuthenticationError", "evalue": "Incorrect API key provided: sk-proj-xyz", "traceback": ["Traceback"]}"#;
        let text = notebook(&[code_cell(r#""print(1)""#, outputs)], "python");
        let f = facts(&text);
        let vals: Vec<_> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(
            vals,
            [
                "key: sk-abc123\n",
                "host: myres.openai.azure.com",
                "'Patient Jöhn'",
                "Incorrect API key provided: sk-proj-xyz",
                "Traceback"
            ]
        );
        let host = &f.strings[1];
        assert!(host.raw_is_value);
        assert_eq!(&text[host.span.clone()], "\"host: myres.openai.azure.com\"");
        assert_eq!(&text[host.content_start..host.content_start + 5], "host:");
        assert!(!f.strings[0].raw_is_value);
        assert!(!f.strings[2].raw_is_value);
    }

    #[test]
    fn rust_kernel_facts_point_into_the_notebook() {
        let src = r#"[":dep async-openai = \"0.28\"\n", "use async_openai::{Client, config::AzureConfig};\n", "let note = \"J\u00f6hn \\\"JD\\\" Doe\";\n", "let c = AzureConfig::new().with_api_base(\"https://x.openai.azure.com\").with_api_key(\"k\");\n", "println!(\"{}\", note); // done"]"#;
        let text = notebook(&[code_cell(src, "")], "rust");
        let f = facts(&text);
        assert!(!f.parse_errors, "{:?}", f.notes);
        assert_eq!(f.imports[1].path, "async_openai.config.AzureConfig");
        assert_eq!(&text[f.imports[1].span.clone()], "AzureConfig");
        let b = f
            .calls
            .iter()
            .find(|c| c.callee == "AzureConfig.new")
            .unwrap();
        assert_eq!(
            &text[b.args[0].span.clone()],
            r#"\"https://x.openai.azure.com\""#
        );
        let note = f.strings.iter().find(|s| s.value.starts_with('J')).unwrap();
        assert_eq!(note.value, "Jöhn \"JD\" Doe");
        assert!(!note.raw_is_value);
        assert_eq!(&text[note.span.clone()], r#"\"J\u00f6hn \\\"JD\\\" Doe\""#);
        let url = f
            .strings
            .iter()
            .find(|s| s.value.starts_with("https"))
            .unwrap();
        assert!(url.raw_is_value);
        assert_eq!(
            &text[url.content_start..url.content_start + url.value.len()],
            url.value
        );
        assert_eq!(f.comments[0].text, "// done");
        assert_eq!(&text[f.comments[0].span.clone()], "// done");
        let p = f.calls.iter().find(|c| c.callee == "println").unwrap();
        assert_eq!(&text[p.span.clone()], r#"println!(\"{}\", note)"#);
    }

    #[test]
    fn remap_reaches_nested_values() {
        let text = notebook(
            &[code_cell(
                r#"["x = 1\n", "client.create(messages=[{\"content\": note}])"]"#,
                "",
            )],
            "python",
        );
        let nb = read(&text).unwrap();
        let at = nb.code.find("note").unwrap();
        let obj_at = nb.code.find('{').unwrap();
        let mut f = Facts::new();
        f.calls.push(Call {
            callee: "client.create".into(),
            qualified: String::new(),
            is_new: false,
            args: vec![Arg {
                name: Some("messages".into()),
                value: Value::Array(vec![Value::Object(vec![Arg {
                    name: Some("content".into()),
                    value: Value::Ident("note".into()),
                    span: at..at + 4,
                }])]),
                span: obj_at - 1..nb.code.len() - 2,
            }],
            span: 6..nb.code.len(),
            callee_span: 6..19,
            scope: 0,
            chained_into: None,
            decorator: false,
        });
        remap_facts(&mut f, &nb.map, &text);
        let c = &f.calls[0];
        assert_eq!(&text[c.callee_span.clone()], "client.create");
        assert_eq!(&text[c.args[0].span.clone()], r#"[{\"content\": note}]"#);
        let Value::Array(items) = &c.args[0].value else {
            panic!()
        };
        let Value::Object(inner) = &items[0] else {
            panic!()
        };
        assert_eq!(&text[inner[0].span.clone()], "note");
        assert_eq!(f.scopes[0].span, 0..text.len());
    }

    #[test]
    fn nbformat_3_worksheets() {
        let text = r#"{"worksheets": [{"cells": [{"cell_type": "code", "input": ["import openai\n", "openai.api_key = \"sk-x\""], "outputs": [{"output_type": "stream", "text": ["done"]}]}]}], "metadata": {}, "nbformat": 3}"#;
        let nb = read(text).unwrap();
        assert_eq!(nb.code, "import openai\nopenai.api_key = \"sk-x\"\n");
        assert_eq!(nb.outputs[0].value, "done");
    }

    #[test]
    fn broken_json_never_panics() {
        let outputs = r#"{"name": "stdout", "output_type": "stream", "text": ["sk-\u00e9\n"]}"#;
        let text = notebook(
            &[code_cell(
                r#"["import openai\n", "print(\"\\u00e9\\n\")"]"#,
                outputs,
            )],
            "python",
        );
        let f = facts("{\"cells\": [");
        assert!(f.parse_errors);
        assert!(f.notes[0].starts_with("not a readable notebook"));
        assert!(facts("[1, 2]").parse_errors);
        assert!(facts("").parse_errors);
        let deep = format!("{{\"a\": {}", "[".repeat(100_000));
        assert!(facts(&deep).parse_errors);
        let mut rng = Rng(7);
        for _ in 0..500 {
            let mut s = text.clone();
            let mut at = rng.below(s.len());
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => s.truncate(at),
                1 => s.insert(at, ['"', '\\', '{', ']', 'u'][rng.below(5)]),
                _ => {
                    s.remove(at);
                }
            }
            let _ = facts(&s);
        }
    }
}
