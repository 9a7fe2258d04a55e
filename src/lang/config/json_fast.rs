//! The fast path for JSON/JSONC: a hand-written parser that accepts only documents it is
//! sure tree-sitter-json parses without error, and builds from them exactly what the
//! tree-sitter path in `json.rs` builds (the same [`Tree`], comments, strings and depth
//! note). It accepts one value with `//` and `/* */` comments wherever whitespace may go,
//! and the grammar's own token shapes: strings without a raw newline whose escapes are `\`
//! and one of `"\/bfnrt`, or `u` and four hex digits; numbers with an exponent sign of `-`
//! only. Anything else (a syntax error, a trailing comma, `NaN`, a second top-level value,
//! a NUL byte, whitespace other than space, tab, CR and LF, an empty document) gives `None`
//! and the file goes to tree-sitter, whose error recovery is not repeated here. Values
//! nested past [`MAX_DEPTH`] are checked by an iterative skip, so no input can exhaust
//! the stack.

use std::ops::Range;

use memchr::{memchr, memchr3, memmem};

use super::json::{literal, string, string_scalar};
use super::{note_depth, push_comment, Pair, Tree, MAX_DEPTH};
use crate::facts::Facts;

/// The document's one value, with its comments, strings and depth note added to `f`; `None`,
/// with `f` left as it was, when the text is not certainly a clean tree-sitter-json parse.
pub(super) fn parse(src: &str, f: &mut Facts) -> Option<Tree> {
    let marks = (f.comments.len(), f.strings.len(), f.notes.len());
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        f,
    };
    let tree = p.document();
    if tree.is_none() {
        f.comments.truncate(marks.0);
        f.strings.truncate(marks.1);
        f.notes.truncate(marks.2);
    }
    tree
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    f: &'a mut Facts,
}

impl Parser<'_> {
    fn document(&mut self) -> Option<Tree> {
        // The tree-sitter path parses a copy with NULs as spaces; not worth mirroring.
        if memchr(0, self.b).is_some() {
            return None;
        }
        self.space()?;
        let t = self.value(0)?;
        self.space()?;
        (self.pos == self.b.len()).then_some(t)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// Skips whitespace and comments, recording the comments.
    fn space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => self.comment()?,
                _ => return Some(()),
            }
        }
    }

    /// A `//` comment runs to the end of the line (a CR stays in it, as in the grammar), a
    /// `/*` comment to the first `*/`.
    fn comment(&mut self) -> Option<()> {
        let start = self.pos;
        let body = start + 2;
        let end = match self.b.get(start + 1)? {
            b'/' => memchr(b'\n', &self.b[body..]).map_or(self.b.len(), |i| body + i),
            b'*' => body + memmem::find(&self.b[body..], b"*/")? + 2,
            _ => return None,
        };
        push_comment(self.f, &self.src[start..end], start..end);
        self.pos = end;
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<Tree> {
        if depth > MAX_DEPTH {
            note_depth(self.f);
            self.skip()?;
            return Some(Tree::Other);
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let r = self.string()?;
                Some(string_scalar(r, self.src, self.f))
            }
            _ => {
                let (r, kind) = self.scalar()?;
                Some(literal(kind, r, self.src))
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Tree> {
        let mut pairs = Vec::new();
        if self.open(b'}')? {
            loop {
                let key_span = self.key()?;
                let value = self.value(depth + 1)?;
                pairs.push(Pair {
                    key: string(key_span.clone(), self.src).0,
                    span: key_span.start..self.pos,
                    key_span,
                    value,
                });
                if !self.next(b'}')? {
                    break;
                }
            }
        }
        Some(Tree::Map(pairs))
    }

    fn array(&mut self, depth: usize) -> Option<Tree> {
        let mut items = Vec::new();
        if self.open(b']')? {
            loop {
                items.push(self.value(depth + 1)?);
                if !self.next(b']')? {
                    break;
                }
            }
        }
        Some(Tree::Seq(items))
    }

    /// Past an opening bracket: `true` at the first item, `false` past an immediate `close`.
    fn open(&mut self, close: u8) -> Option<bool> {
        self.pos += 1;
        self.space()?;
        Some(!self.eat(close))
    }

    /// After an item: `true` at the next item, `false` past `close`.
    fn next(&mut self, close: u8) -> Option<bool> {
        self.space()?;
        if self.eat(b',') {
            self.space()?;
            return Some(true);
        }
        self.expect(close)?;
        Some(false)
    }

    /// A key and its colon, leaving `pos` at the value; the key's range.
    fn key(&mut self) -> Option<Range<usize>> {
        let r = self.string()?;
        self.space()?;
        self.expect(b':')?;
        self.space()?;
        Some(r)
    }

    /// A string token's range, quotes included.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        let mut i = start + 1;
        loop {
            i += memchr3(b'"', b'\\', b'\n', &self.b[i..])?;
            match self.b[i] {
                b'"' => break,
                b'\\' => match self.b.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' if self.b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                    _ => return None,
                },
                // Tree-sitter-json skips a raw newline in a string as whitespace, and then
                // reads comments there; never worth mirroring.
                _ => return None,
            }
        }
        self.pos = i + 1;
        Some(start..self.pos)
    }

    /// A number, `true`, `false` or `null` token: its range and node kind.
    fn scalar(&mut self) -> Option<(Range<usize>, &'static str)> {
        let start = self.pos;
        for word in ["true", "false", "null"] {
            if self.b[start..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Some((start..self.pos, word));
            }
        }
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            return None;
        }
        if self.eat(b'.') {
            self.digits();
        }
        if self.eat(b'e') || self.eat(b'E') {
            self.eat(b'-');
            if self.digits() == 0 {
                return None;
            }
        }
        Some((start..self.pos, "number"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Checks the value at `pos`, which lies past [`MAX_DEPTH`], without building it: the
    /// closing brackets still owed are kept on a heap stack instead of the call stack.
    /// Comments inside are still recorded, as tree-sitter records them.
    fn skip(&mut self) -> Option<()> {
        let mut owed = Vec::new();
        loop {
            match self.peek()? {
                c @ (b'{' | b'[') => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.open(close)? {
                        owed.push(close);
                        if close == b'}' {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => {
                    self.scalar()?;
                }
            }
            // Past a value: close what ends here, then on to the next item.
            loop {
                let Some(&close) = owed.last() else {
                    return Some(());
                };
                if self.next(close)? {
                    if close == b'}' {
                        self.key()?;
                    }
                    break;
                }
                owed.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::{lower, parse_tree_sitter};
    use super::*;
    use proptest::prelude::*;

    /// What `lang::extract` would return for `text` through one path, with the tree shown
    /// first; `None` when the fast path was asked for and declined.
    fn run(text: &str, fast: bool) -> Option<String> {
        let mut f = Facts::new();
        let tree = if fast {
            Some(parse(text, &mut f)?)
        } else {
            parse_tree_sitter(text, &mut f)
        };
        let shown = format!("{tree:?}");
        if let Some(t) = tree {
            lower(&mut f, t);
        }
        if !f.notes.is_empty() {
            crate::lang::literal_fallback(text, &mut f);
        }
        f.resolve_imports();
        Some(format!("{shown}\n{f:?}"))
    }

    /// Whether the fast path accepts `text`; when it does, where its result first differs
    /// from the tree-sitter path's, if anywhere.
    pub(crate) fn compare(text: &str) -> (bool, Option<String>) {
        let Some(fast) = run(text, true) else {
            return (false, None);
        };
        let slow = run(text, false).unwrap_or_default();
        if fast == slow {
            return (true, None);
        }
        let at = fast
            .bytes()
            .zip(slow.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let around = |s: &str| {
            let from = crate::source::clamp_to_char(s, at.saturating_sub(200));
            let to = crate::source::clamp_to_char(s, (at + 200).min(s.len()));
            s[from..to].to_string()
        };
        let diff = format!("fast:\n{}\ntree-sitter:\n{}", around(&fast), around(&slow));
        (true, Some(diff))
    }

    /// Whether the fast path accepts `text`, panicking if it then disagrees with tree-sitter.
    fn differential(text: &str) -> bool {
        let (accepted, diff) = compare(text);
        if let Some(d) = diff {
            panic!("paths differ on {text:?}\n{d}");
        }
        accepted
    }

    #[test]
    fn fast_path_matches_tree_sitter() {
        let deep = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        let deep_obj =
            |n: usize| format!("{}\"s\"{}", "{\"k\": ".repeat(n), " /* c */ }".repeat(n));
        let cases = [
            "{}".to_string(),
            "[]".to_string(),
            " { } ".to_string(),
            "[ ]".to_string(),
            "{\"a\": 1}".to_string(),
            "{\"a\":{\"b\":[1,2,{\"c\":null}],\"d\":true,\"e\":false}}".to_string(),
            "[\"x\", [\"y\", []], {}, {\"z\": [{}]}]".to_string(),
            "\"top\"".to_string(),
            "42".to_string(),
            "true".to_string(),
            "null".to_string(),
            "[0, -0, 1, -1, 10, 0.5, -0.5, 1., 1.e5, 1e5, 1E5, 1e-5, 1.25E-10, 123456789012345678901234567890]"
                .to_string(),
            r#"{"a": "q\"b\\s\/f\bb\ff\nn\rr\tt"}"#.to_string(),
            r#"["\u00e9", "\u00E9", "\ud83d\ude00", "\uD800", "\udc00", "\ud800x", "\ud800\u0041", "\u0000"]"#
                .to_string(),
            r#"{"k\"ey": 1, "k\u00e9y": 2, "a.b": 3, "": 4}"#.to_string(),
            "{\"é\": \"ünïcode 😀 \u{fffd}\", \"中文\": [\"日本\"]}".to_string(),
            "// leading\n{\"a\": 1} // trailing".to_string(),
            "/* a */{/* b */\"a\"/* c */:/* d */1/* e */,/* f */\"b\"/**/:[/*g*/1/*h*/,/*i*/2/*j*/]/*k*/}/* l */"
                .to_string(),
            "{\"a\": 1 // to end of line\n, \"b\": 2}".to_string(),
            "{\"a\": 1 // with CR\r\n}".to_string(),
            "[1 /* multi\nline\n*/ , 2 /***/ , 3 /* ** / * */]".to_string(),
            "{\r\n\t\"a\":\t\"b\",\r\n\t\"c\": [\r\n\t\t1\r\n\t]\r\n}\r\n".to_string(),
            "{\"url\": \"https://api.openai.com/v1\", \"c\": \"/* not a comment */\", \"d\": \"//\"}"
                .to_string(),
            "{\"raw\\r\": \"has\rcarriage return\"}".to_string(),
            "{\"env\": {\"OPENAI_API_KEY\": \"${OPENAI_API_KEY}\"}, \"environment\": [\"A=b\"]}"
                .to_string(),
            "{\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\", \"parameters\": {\"p\": {\"defaultValue\": \"x\"}}, \"resources\": [{\"type\": \"Microsoft.Web/sites\", \"name\": \"[parameters('p')]\", \"resources\": [{\"type\": \"config\"}]}]}"
                .to_string(),
            "{\"$schema\": \"deploymentParameters\", \"parameters\": {\"a\": {\"value\": [1, {\"b\": \"c\"}]}}}"
                .to_string(),
            deep(MAX_DEPTH, "1"),
            deep(MAX_DEPTH + 1, "1"),
            deep(MAX_DEPTH + 1, ""),
            deep(MAX_DEPTH + 2, "\"s\""),
            deep(5000, "{\"a\": [1, /* c */ {\"b\": \"s\"}]}"),
            deep_obj(MAX_DEPTH),
            deep_obj(MAX_DEPTH + 1),
            deep_obj(3000),
            format!(
                "{{\"a\": {}, \"b\": \"after\"}}",
                deep(MAX_DEPTH + 10, "[1,2],{\"x\":{}}")
            ),
        ];
        for t in &cases {
            assert!(differential(t), "fast path declined {t:?}");
        }
    }

    #[test]
    fn fast_path_declines_what_it_is_not_sure_of() {
        let cases = [
            "",
            "   ",
            "// only a comment",
            "/* only */",
            "[1, 2,]",
            "{\"a\": 1,}",
            "{\"a\": \"line\nbreak\"}",
            "NaN",
            "[Infinity]",
            "{} {}",
            "1 2",
            "\"unterminated",
            "{\"a\": \"unterminated}",
            "[1] /* unterminated",
            "[1] /",
            "{'a': 1}",
            "{a: 1}",
            "{\"a\" 1}",
            "{\"a\": }",
            "[1 2]",
            "[01]",
            "[1e+5]",
            "[+1]",
            "[.5]",
            "[-]",
            "[1e]",
            "[1.5.3]",
            "[truex]",
            "[tru]",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\u12\"}",
            "{\"a\": \"\\uzzzz\"}",
            "{\"a\": \"nul\0\"}",
            "\u{feff}{}",
            "{\"a\": 1}\u{0b}",
            "[1}",
            "{\"a\": 1]",
            "[[[[[",
        ];
        for t in cases {
            assert!(!differential(t), "fast path accepted {t:?}");
        }
        let past_depth = format!(
            "{}1,]{}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 4)
        );
        assert!(!differential(&past_depth));
        // A declined parse leaves the facts as they were.
        let mut f = Facts::new();
        assert!(parse("/* c */ [\"s\", 1,]", &mut f).is_none());
        assert!(f.comments.is_empty() && f.strings.is_empty());
    }

    const GAPS: [&str; 10] = [
        "",
        "",
        " ",
        "\n",
        "\r\n",
        "\t",
        "/*c*/",
        "// x\n",
        " /* a\n*b* */ ",
        "//\r\n",
    ];

    /// A JSON value with `\u{1}` where whitespace or a comment may go.
    fn value() -> impl Strategy<Value = String> {
        let string = r#""([a-zA-Z0-9 é😀$\{\}:/*._-]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}|\\ud83d\\ude00|\\ud800){0,8}""#;
        let leaf = prop_oneof![
            "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{0,3})?([eE]-?[0-9]{1,3})?",
            Just("true".to_string()),
            Just("false".to_string()),
            Just("null".to_string()),
            string,
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[\u{1}{}\u{1}]", items.join("\u{1},\u{1}"))),
                prop::collection::vec((string, inner), 0..6).prop_map(|pairs| {
                    let pairs: Vec<String> = pairs
                        .into_iter()
                        .map(|(k, v)| format!("{k}\u{1}:\u{1}{v}"))
                        .collect();
                    format!("{{\u{1}{}\u{1}}}", pairs.join("\u{1},\u{1}"))
                }),
            ]
        })
    }

    /// A rendered document: gaps filled in, then perhaps a few stray tokens inserted.
    fn document() -> impl Strategy<Value = String> {
        let stray = prop_oneof![
            Just(","),
            Just("\n"),
            Just("\""),
            Just("\\"),
            Just("/"),
            Just("*/"),
            Just("]"),
            Just("}"),
            Just("{"),
            Just("NaN"),
            Just("e"),
            Just("-"),
            Just("\u{0b}"),
        ];
        (
            value(),
            prop::collection::vec(0..GAPS.len(), 1..64),
            prop::collection::vec((any::<prop::sample::Index>(), stray), 0..3),
        )
            .prop_map(|(v, gaps, strays)| {
                let mut text = String::new();
                for (i, piece) in format!("\u{1}{v}\u{1}").split('\u{1}').enumerate() {
                    if i > 0 {
                        text.push_str(GAPS[gaps[i % gaps.len()]]);
                    }
                    text.push_str(piece);
                }
                for (at, s) in strays {
                    let at = crate::source::clamp_to_char(&text, at.index(text.len() + 1));
                    text.insert_str(at, s);
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn generated_json_matches_tree_sitter(text in document()) {
            differential(&text);
        }
    }

    /// The differential check over every `*.json` under `PHI_JSON_DIFF_DIR`:
    /// `PHI_JSON_DIFF_DIR=/some/tree cargo test --release json_fast -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn json_files_under_dir_match_tree_sitter() {
        let Some(root) = std::env::var_os("PHI_JSON_DIFF_DIR") else {
            return;
        };
        let (mut accepted, mut declined, mut differ) = (0, 0, Vec::new());
        let mut dirs = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if entry.file_type().unwrap().is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = crate::source::decode(&std::fs::read(&path).unwrap()).text;
                    match compare(&text) {
                        (false, _) => declined += 1,
                        (true, None) => accepted += 1,
                        (true, Some(d)) => differ.push(format!("{}\n{d}", path.display())),
                    }
                }
            }
        }
        println!(
            "accepted {accepted}, declined {declined}, differ {}",
            differ.len()
        );
        assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    }
}
