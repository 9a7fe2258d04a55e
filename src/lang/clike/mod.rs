//! C#, Java and Go frontend: turns one file's tree-sitter syntax tree into language-neutral
//! [`Facts`] (imports, calls with their arguments, assignments, literals, comments, scopes and
//! environment writes) as described in `notes/frontend-contract.md`.
//!
//! This module owns what the three grammars share: the entry point, the lexical pass that
//! collects every string literal and comment without recursion, the recursion guard, scopes,
//! string unescaping, `+` concatenation and format-string templates, builder-chain folding and
//! the shape of a call. The per-language files only map their grammar's node kinds onto these
//! helpers. It is not a type checker or a resolver: names are reported as written, imports are
//! resolved later by [`Facts::resolve_imports`], and nothing here knows about rules.

use std::sync::Mutex;

use tree_sitter::{Node, Tree};

use crate::facts::{
    Arg, Assign, Call, Comment, ConfigEntry, Facts, Lang, Part, Scope, Span, StrLit, Value,
};
use crate::lang::treesitter;

mod csharp;
mod go;
mod java;

/// Syntax nested deeper than this is skipped by the structural walk (the lexical pass still
/// reports its strings and comments).
const MAX_DEPTH: usize = 2_000;
/// Trees at most this deep are walked on the caller's stack, which every thread can afford.
const INLINE_DEPTH: usize = 150;
/// Stack for walking deeper trees; reserved lazily by the OS, so only touched pages cost memory.
const DEEP_STACK: usize = 256 << 20;
/// Longest text kept when an expression is reported as written rather than understood.
const COMPACT_CAP: usize = 200;

/// Facts for one C#, Java or Go file. Never panics; a file that does not parse cleanly yields
/// what tree-sitter recovered with `parse_errors` set.
pub fn facts(text: &str, lang: Lang) -> Facts {
    let mut facts = Facts::new();
    let language: tree_sitter::Language = match lang {
        Lang::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
        Lang::Java => tree_sitter_java::LANGUAGE.into(),
        Lang::Go => tree_sitter_go::LANGUAGE.into(),
        other => {
            facts.notes.push(format!(
                "the C#/Java/Go frontend does not read {}",
                other.name()
            ));
            return facts;
        }
    };
    let Some(tree) = treesitter::parse(&language, text) else {
        facts.parse_errors = true;
        facts.notes.push(format!(
            "{} parse abandoned (time budget exceeded); no facts extracted from this file",
            lang.name()
        ));
        return facts;
    };
    facts.parse_errors = tree.root_node().has_error();
    let depth = lexical(&tree, text, lang, &mut facts);
    if depth <= INLINE_DEPTH {
        walk(&tree, text, lang, &mut facts, MAX_DEPTH);
        return facts;
    }
    // Deep trees recurse deeper than a default 2 MiB thread stack allows, so they get a
    // thread of their own; the shared slot lets a failed spawn fall back to the caller.
    let slot = Mutex::new(facts);
    let outcome = std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("phi-lint-clike".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(s, || {
                if let Ok(mut f) = slot.lock() {
                    walk(&tree, text, lang, &mut f, MAX_DEPTH);
                }
            });
        match spawned {
            Ok(handle) => handle.join().is_ok(),
            Err(_) => false,
        }
    });
    let mut facts = slot.into_inner().unwrap_or_else(|p| p.into_inner());
    if !outcome {
        walk(&tree, text, lang, &mut facts, INLINE_DEPTH);
    }
    facts
}

/// Collects every string literal and comment with a cursor (no recursion, so any depth is
/// fine) and returns the tree's depth.
fn lexical(tree: &Tree, src: &str, lang: Lang, f: &mut Facts) -> usize {
    let mut cursor = tree.walk();
    let mut max_depth = 0usize;
    let mut depth = 0usize;
    loop {
        let node = cursor.node();
        let kind = node.kind();
        let mut descend = true;
        if is_comment(lang, kind) {
            f.comments.push(Comment {
                text: node_text(src, node).to_string(),
                span: node.byte_range(),
            });
            descend = false;
        } else if is_interpolated(lang, kind) {
            let (pieces, content_start) = interpolated_pieces(src, node);
            let mut value = String::new();
            for p in &pieces {
                match p {
                    Piece::Lit(s) => value.push_str(s),
                    Piece::Hole(_) => value.push_str("{}"),
                }
            }
            f.strings.push(StrLit {
                value,
                span: node.byte_range(),
                content_start,
                raw_is_value: false,
            });
        } else if is_plain_string(lang, kind) {
            let (value, content_start, raw_is_value) = plain_string(src, node);
            f.strings.push(StrLit {
                value,
                span: node.byte_range(),
                content_start,
                raw_is_value,
            });
            descend = false;
        }
        // `TreeCursor::depth` is linear in the depth, so the walk keeps its own count.
        if descend && cursor.goto_first_child() {
            depth += 1;
            max_depth = max_depth.max(depth);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return max_depth;
            }
            depth -= 1;
        }
    }
}

fn walk(tree: &Tree, src: &str, lang: Lang, f: &mut Facts, limit: usize) {
    let mut cx = Cx {
        src,
        lang,
        f,
        scope: 0,
        depth: 0,
        limit,
        cut: false,
    };
    cx.visit(tree.root_node(), false);
}

fn is_comment(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Java => kind == "line_comment" || kind == "block_comment",
        _ => kind == "comment",
    }
}

fn is_plain_string(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::CSharp => matches!(
            kind,
            "string_literal" | "verbatim_string_literal" | "raw_string_literal"
        ),
        Lang::Java => kind == "string_literal",
        _ => kind == "interpreted_string_literal" || kind == "raw_string_literal",
    }
}

fn is_interpolated(lang: Lang, kind: &str) -> bool {
    lang == Lang::CSharp && kind == "interpolated_string_expression"
}

pub(super) fn node_text<'s>(src: &'s str, node: Node) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

/// Node kinds that hold literal characters of a string (as opposed to delimiters).
fn is_content(kind: &str) -> bool {
    matches!(
        kind,
        "string_literal_content"
            | "string_fragment"
            | "multiline_string_fragment"
            | "interpreted_string_literal_content"
            | "raw_string_literal_content"
            | "raw_string_content"
            | "string_content"
            | "character_literal_content"
    )
}

/// Decodes a non-interpolated string literal: (value, content_start, raw_is_value).
fn plain_string(src: &str, node: Node) -> (String, usize, bool) {
    let text = node_text(src, node);
    // A C# verbatim literal is a single token: `@"..."` with `""` for a quote.
    if node.kind() == "verbatim_string_literal" {
        let start = node.start_byte() + 2.min(text.len());
        let inner = text
            .get(2..text.len().saturating_sub(1))
            .unwrap_or_default();
        let raw = !inner.contains("\"\"");
        return (inner.replace("\"\"", "\""), start, raw);
    }
    let mut value = String::new();
    let mut raw = true;
    let mut content_start = None;
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        let kind = child.kind();
        if is_content(kind) {
            content_start.get_or_insert(child.start_byte());
            value.push_str(node_text(src, child));
        } else if kind == "escape_sequence" {
            content_start.get_or_insert(child.start_byte());
            unescape(node_text(src, child), &mut value);
            raw = false;
        }
        // Anything else is a delimiter or a C# `u8` suffix.
    }
    let start = content_start.unwrap_or_else(|| opening_end(node));
    (value, start, raw)
}

/// The byte offset just after a literal's opening delimiter (for empty literals).
fn opening_end(node: Node) -> usize {
    node.child(0)
        .map(|c| c.end_byte())
        .unwrap_or_else(|| node.start_byte())
}

/// Comments and other extras are skipped by the walk; error nodes (also extras at times)
/// hold recovered code and are walked.
pub(super) fn trivia(n: Node) -> bool {
    n.is_extra() && !n.is_error()
}

/// The last named, non-comment child other than `skip`.
pub(super) fn last_named<'t>(n: Node<'t>, skip: Option<Node<'t>>) -> Option<Node<'t>> {
    let mut cursor = n.walk();
    let mut found = None;
    for child in n.named_children(&mut cursor) {
        if trivia(child) || skip.is_some_and(|s| s.id() == child.id()) {
            continue;
        }
        found = Some(child);
    }
    found
}

pub(super) fn child_of_kind<'t>(n: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = n.walk();
    let found = n.named_children(&mut cursor).find(|c| c.kind() == kind);
    found
}

/// The named child right after an `=` token (declarators, parameter defaults).
pub(super) fn after_equals(n: Node) -> Option<Node> {
    let mut cursor = n.walk();
    let mut seen = false;
    for child in n.children(&mut cursor) {
        if seen && child.is_named() && !trivia(child) {
            return Some(child);
        }
        if child.kind() == "=" {
            seen = true;
        }
    }
    None
}

/// A piece of an interpolated string: literal text or the node of a hole's expression.
pub(super) enum Piece<'t> {
    Lit(String),
    Hole(Node<'t>),
}

/// Splits a C# interpolated string into literal pieces and hole expressions; also returns
/// where its content starts.
fn interpolated_pieces<'t>(src: &str, node: Node<'t>) -> (Vec<Piece<'t>>, usize) {
    let verbatim = node
        .child(0)
        .is_some_and(|c| node_text(src, c).contains('@'));
    let raw = node
        .child(1)
        .is_some_and(|c| node_text(src, c).starts_with("\"\"\""));
    let mut pieces: Vec<Piece<'t>> = Vec::new();
    let mut content_start = None;
    let mut opening = node.start_byte();
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        let kind = child.kind();
        let lit = match kind {
            "string_content" => {
                let t = node_text(src, child);
                if raw {
                    t.to_string()
                } else {
                    let t = t.replace("{{", "{").replace("}}", "}");
                    if verbatim {
                        t.replace("\"\"", "\"")
                    } else {
                        t
                    }
                }
            }
            "escape_sequence" => {
                let mut s = String::new();
                unescape(node_text(src, child), &mut s);
                s
            }
            "interpolation" => {
                content_start.get_or_insert(child.start_byte());
                let mut c2 = child.walk();
                let expr = child.named_children(&mut c2).find(|n| {
                    !matches!(
                        n.kind(),
                        "interpolation_brace"
                            | "interpolation_alignment_clause"
                            | "interpolation_format_clause"
                    ) && !trivia(*n)
                });
                if let Some(e) = expr {
                    pieces.push(Piece::Hole(e));
                }
                continue;
            }
            _ => {
                if content_start.is_none() {
                    opening = child.end_byte();
                }
                continue;
            }
        };
        content_start.get_or_insert(child.start_byte());
        if let Some(Piece::Lit(prev)) = pieces.last_mut() {
            prev.push_str(&lit);
        } else {
            pieces.push(Piece::Lit(lit));
        }
    }
    (pieces, content_start.unwrap_or(opening))
}

/// Appends the character(s) an escape sequence stands for; unknown escapes keep their text
/// minus the backslash.
pub(super) fn unescape(esc: &str, out: &mut String) {
    let body = esc.strip_prefix('\\').unwrap_or(esc);
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return;
    };
    let rest = chars.as_str();
    let simple = match first {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        '0' if rest.is_empty() => Some('\0'),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'v' => Some('\u{b}'),
        'e' => Some('\u{1b}'),
        's' => Some(' '),
        '\\' | '"' | '\'' | '`' => Some(first),
        '\n' | '\r' => {
            // Java text-block line continuation.
            return;
        }
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return;
    }
    let code = match first {
        'u' | 'U' | 'x' => u32::from_str_radix(rest.trim_start_matches('u'), 16).ok(),
        '0'..='7' => u32::from_str_radix(body, 8).ok(),
        _ => None,
    };
    match code.and_then(char::from_u32) {
        Some(c) => out.push(c),
        None => out.push_str(body),
    }
}

/// What a format call's holes look like.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FmtStyle {
    /// `%s`, `%-5d`, `%1$s`, `%[2]v` (Java `String.format`, Go `fmt.Sprintf`).
    Printf,
    /// `{0}`, `{1:N2}`, `{{` (C# `string.Format`, Java `MessageFormat.format`).
    Braces,
}

/// A template built from a literal format string and the values that fill its holes.
pub(super) fn format_template(style: FmtStyle, fmt: &str, args: &[Value]) -> Value {
    let mut parts: Vec<Part> = Vec::new();
    let mut lit = String::new();
    let mut next = 0usize;
    let hole = |parts: &mut Vec<Part>, lit: &mut String, idx: usize| {
        if !lit.is_empty() {
            parts.push(Part::Lit(std::mem::take(lit)));
        }
        let v = args
            .get(idx)
            .cloned()
            .unwrap_or_else(|| Value::Other(Vec::new()));
        parts.push(Part::Hole(v));
    };
    let bytes = fmt.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match style {
            FmtStyle::Printf if c == b'%' => {
                let mut j = i + 1;
                let mut explicit: Option<usize> = None;
                let mut digits = String::new();
                while j < bytes.len() {
                    let d = bytes[j];
                    if d.is_ascii_digit() {
                        digits.push(d as char);
                    } else if d == b'$' {
                        explicit = digits.parse::<usize>().ok().map(|n| n.saturating_sub(1));
                        digits.clear();
                    } else if d == b'[' {
                        let close = fmt[j..].find(']').map(|k| j + k);
                        if let Some(close) = close {
                            explicit = fmt[j + 1..close]
                                .parse::<usize>()
                                .ok()
                                .map(|n| n.saturating_sub(1));
                            j = close;
                        }
                    } else if !matches!(
                        d,
                        b'-' | b'+' | b'#' | b' ' | b'.' | b'*' | b'0' | b',' | b'(' | b'<'
                    ) {
                        break;
                    }
                    j += 1;
                }
                match bytes.get(j) {
                    Some(b'%') => {
                        lit.push('%');
                    }
                    Some(b'n') => lit.push('\n'),
                    Some(v) if v.is_ascii_alphabetic() => {
                        let idx = explicit.unwrap_or_else(|| {
                            next += 1;
                            next - 1
                        });
                        if explicit.is_some() {
                            next = idx + 1;
                        }
                        hole(&mut parts, &mut lit, idx);
                    }
                    _ => {
                        lit.push_str(&fmt[i..j.min(bytes.len())]);
                        i = j;
                        continue;
                    }
                }
                i = j + 1;
                continue;
            }
            FmtStyle::Braces if c == b'{' => {
                if bytes.get(i + 1) == Some(&b'{') {
                    lit.push('{');
                    i += 2;
                    continue;
                }
                if let Some(close) = fmt[i..].find('}').map(|k| i + k) {
                    let inner = &fmt[i + 1..close];
                    let num = inner
                        .split([',', ':'])
                        .next()
                        .unwrap_or("")
                        .trim()
                        .parse::<usize>();
                    if let Ok(idx) = num {
                        hole(&mut parts, &mut lit, idx);
                        i = close + 1;
                        continue;
                    }
                }
            }
            FmtStyle::Braces if c == b'}' && bytes.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
                continue;
            }
            _ => {}
        }
        // Copy one whole UTF-8 character.
        let len = fmt[i..].chars().next().map_or(1, char::len_utf8);
        lit.push_str(&fmt[i..i + len]);
        i += len;
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Value::Template(parts)
}

/// A call before it is stored.
pub(super) struct CallParts {
    pub callee: String,
    pub callee_span: Span,
    pub is_new: bool,
    pub args: Vec<Arg>,
    pub span: Span,
    /// The call this one is invoked on (`a.b().c()` → the `a.b()` call), if any.
    pub receiver: Option<usize>,
    pub decorator: bool,
}

/// One method of a folded builder chain.
pub(super) struct Link {
    pub name: String,
    pub args: Vec<Arg>,
    /// Where a `Value::Null` argument points when the method takes no arguments.
    pub args_span: Span,
}

/// Whether a static method on a type starts a builder chain (`X.builder()`, `X.newBuilder()`,
/// `Kernel.CreateBuilder()`).
pub(super) fn is_builder_start(method: &str) -> bool {
    let lower = method.to_ascii_lowercase();
    lower.ends_with("builder") || lower == "new"
}

/// Whether a dotted name reads like a type (last segment capitalised), as opposed to a
/// variable holding a builder.
pub(super) fn is_type_name(dotted: &str) -> bool {
    dotted
        .rsplit('.')
        .next()
        .and_then(|s| s.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

/// One step outward along a member chain.
pub(super) enum Seg<'t> {
    /// `.name`
    Name(String),
    /// `[0]` or `["key"]`: a literal index, kept in values and dropped from callees.
    Index(String),
    /// An index that is not a literal; its names are read.
    Dyn(Node<'t>),
}

/// How a grammar steps from a member/index expression to its object: `(object, segment)`.
pub(super) type Step = for<'t> fn(&Cx<'_>, Node<'t>) -> Option<(Node<'t>, Seg<'t>)>;

/// Walk state: the facts being filled, the current scope and the recursion guard.
pub(super) struct Cx<'a> {
    pub src: &'a str,
    pub lang: Lang,
    pub f: &'a mut Facts,
    pub scope: usize,
    depth: usize,
    limit: usize,
    cut: bool,
}

impl<'a> Cx<'a> {
    pub fn text(&self, n: Node) -> &'a str {
        node_text(self.src, n)
    }

    /// The node's text without whitespace (`a . b` → `a.b`), capped so that fallbacks on
    /// huge expressions stay cheap.
    pub fn compact(&self, n: Node) -> String {
        self.text(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(COMPACT_CAP)
            .collect()
    }

    /// Takes one level of the recursion budget; false (after a one-time note) when spent.
    pub fn enter(&mut self) -> bool {
        if self.depth >= self.limit {
            if !self.cut {
                self.cut = true;
                self.f.notes.push(format!(
                    "syntax nested deeper than {} levels was skipped (its strings and comments are still checked)",
                    self.limit
                ));
            }
            return false;
        }
        self.depth += 1;
        true
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The value of an expression, emitting every call, assignment and scope inside it.
    /// With `want` false the caller only needs the side effects (statements).
    pub fn visit(&mut self, n: Node, want: bool) -> Value {
        if !self.enter() {
            return Value::Other(Vec::new());
        }
        let v = match self.lang {
            Lang::CSharp => csharp::visit(self, n, want),
            Lang::Java => java::visit(self, n, want),
            _ => go::visit(self, n, want),
        };
        let v = match v {
            Some(v) => v,
            None => self.generic(n, want),
        };
        self.leave();
        v
    }

    /// Any node without special meaning: visit its children; as a value it is `Other` with
    /// every name the children read.
    pub fn generic(&mut self, n: Node, want: bool) -> Value {
        let mut out = Vec::new();
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            if trivia(child) {
                continue;
            }
            let v = self.visit(child, want);
            if want {
                self.absorb(v, &mut out);
            }
        }
        if want {
            Value::Other(out)
        } else {
            Value::Null
        }
    }

    /// `Other` carrying the names read by these nodes.
    pub fn other_of(&mut self, nodes: &[Node]) -> Value {
        let mut out = Vec::new();
        for &n in nodes {
            let v = self.visit(n, true);
            self.absorb(v, &mut out);
        }
        Value::Other(out)
    }

    /// Moves the names a value reads into `out`; a call contributes its receiver and the names
    /// in its arguments.
    pub fn absorb(&self, v: Value, out: &mut Vec<String>) {
        match v {
            Value::Other(names) => out.extend(names),
            Value::Call(i) => {
                if let Some(c) = self.f.calls.get(i) {
                    if !c.is_new {
                        if let Some((recv, _)) = c.callee.rsplit_once('.') {
                            out.push(recv.to_string());
                        }
                    }
                    for a in &c.args {
                        a.value.refs(out, &self.f.calls);
                    }
                }
            }
            other => other.refs(out, &self.f.calls),
        }
    }

    /// Walks down a member chain without recursion; returns the base and the segments in
    /// source order (innermost first).
    pub fn spine<'t>(&self, n: Node<'t>, step: Step) -> (Node<'t>, Vec<Seg<'t>>) {
        let mut segs = Vec::new();
        let mut cur = n;
        while let Some((inner, seg)) = step(self, cur) {
            segs.push(seg);
            cur = inner;
        }
        segs.reverse();
        (cur, segs)
    }

    /// A callee as a dotted chain (index segments dropped); `base` lowers the innermost
    /// expression and reports the call it is, if any, so it can be marked `chained_into`.
    pub fn callee<'t>(
        &mut self,
        n: Node<'t>,
        step: Step,
        base: impl FnOnce(&mut Self, Node<'t>) -> (String, Option<usize>),
    ) -> (String, Option<usize>) {
        let (b, segs) = self.spine(n, step);
        let (mut s, recv) = if segs.is_empty() {
            base(self, b)
        } else {
            // The base is one level further down than the callee node itself.
            if !self.enter() {
                return (String::new(), None);
            }
            let r = base(self, b);
            self.leave();
            r
        };
        for seg in segs {
            match seg {
                Seg::Name(x) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(&x);
                }
                Seg::Index(_) => {}
                Seg::Dyn(node) => {
                    self.visit(node, false);
                }
            }
        }
        (s, recv)
    }

    /// The value of a member/index chain: `Ident("a.b[0].c")` when every part is a name or a
    /// literal index, otherwise `Other` with the readable prefix and the names used.
    pub fn chain_value<'t>(
        &mut self,
        n: Node<'t>,
        step: Step,
        base_name: fn(&Cx<'_>, Node<'_>) -> Option<String>,
    ) -> Value {
        let (b, segs) = self.spine(n, step);
        let mut out = Vec::new();
        let mut prefix = base_name(self, b);
        if prefix.is_none() {
            let v = self.visit(b, true);
            self.absorb(v, &mut out);
        }
        let mut dynamic = false;
        for seg in segs {
            match seg {
                Seg::Name(x) => {
                    if let Some(p) = &mut prefix {
                        p.push('.');
                        p.push_str(&x);
                    }
                }
                Seg::Index(t) => {
                    if let Some(p) = &mut prefix {
                        p.push('[');
                        p.push_str(&t);
                        p.push(']');
                    }
                }
                Seg::Dyn(node) => {
                    dynamic = true;
                    if let Some(p) = prefix.take() {
                        out.push(p);
                    }
                    let v = self.visit(node, true);
                    self.absorb(v, &mut out);
                }
            }
        }
        match prefix {
            Some(p) if !dynamic && out.is_empty() => Value::Ident(p),
            Some(p) => {
                out.push(p);
                Value::Other(out)
            }
            None => Value::Other(out),
        }
    }

    /// The name an assignment writes: a plain chain as written, else the compact text.
    pub fn target(
        &mut self,
        n: Node,
        step: Step,
        base_name: fn(&Cx<'_>, Node<'_>) -> Option<String>,
    ) -> String {
        if let Some(b) = base_name(self, n) {
            return b;
        }
        match self.chain_value(n, step, base_name) {
            Value::Ident(s) => s,
            _ => self.compact(n),
        }
    }

    pub fn assign(&mut self, target: String, value: Value, span: Span) {
        if target.is_empty() || target == "_" {
            return;
        }
        self.f.assigns.push(Assign {
            target,
            value,
            span,
            scope: self.scope,
        });
    }

    /// Opens a function scope; returns the scope to restore with [`Cx::close_scope`].
    pub fn open_scope(&mut self, name: String, params: Vec<String>, span: Span) -> usize {
        let parent = self.scope;
        self.f.scopes.push(Scope {
            name,
            params,
            span,
            parent,
        });
        self.scope = self.f.scopes.len() - 1;
        parent
    }

    pub fn close_scope(&mut self, prev: usize) {
        self.scope = prev;
    }

    pub fn push_call(&mut self, c: CallParts) -> usize {
        let idx = self.f.calls.len();
        if let Some(r) = c.receiver {
            if let Some(inner) = self.f.calls.get_mut(r) {
                inner.chained_into = Some(idx);
            }
        }
        self.f.calls.push(Call {
            callee: c.callee,
            qualified: String::new(),
            is_new: c.is_new,
            args: c.args,
            span: c.span,
            callee_span: c.callee_span,
            scope: self.scope,
            chained_into: None,
            decorator: c.decorator,
        });
        idx
    }

    /// Stores a builder chain as one call: the root's args plus one named arg per method.
    pub fn push_folded(&mut self, mut root: CallParts, links: Vec<Link>, span: Span) -> usize {
        for link in links {
            if link.args.is_empty() {
                root.args.push(Arg {
                    name: Some(link.name),
                    value: Value::Null,
                    span: link.args_span,
                });
                continue;
            }
            for (i, a) in link.args.into_iter().enumerate() {
                let own = a.name.clone();
                if i == 0 {
                    if let Some(own) = &own {
                        root.args.push(Arg {
                            name: Some(format!("{}.{own}", link.name)),
                            value: a.value.clone(),
                            span: a.span.clone(),
                        });
                    }
                    root.args.push(Arg {
                        name: Some(link.name.clone()),
                        ..a
                    });
                } else {
                    let suffix = own.unwrap_or_else(|| i.to_string());
                    root.args.push(Arg {
                        name: Some(format!("{}.{suffix}", link.name)),
                        ..a
                    });
                }
            }
        }
        root.span = span;
        root.receiver = None;
        self.push_call(root)
    }

    /// Flattens a left-nested `+` chain and builds a template when a string takes part,
    /// otherwise `Other` with the names read.
    pub fn concat(&mut self, n: Node, binary_kind: &str) -> Value {
        let mut operands = Vec::new();
        let mut cur = n;
        loop {
            let op = cur.child_by_field_name("operator").map(|o| self.text(o));
            let (Some(l), Some(r)) = (
                cur.child_by_field_name("left"),
                cur.child_by_field_name("right"),
            ) else {
                break;
            };
            if cur.kind() != binary_kind || op != Some("+") {
                break;
            }
            operands.push(r);
            cur = l;
        }
        operands.push(cur);
        operands.reverse();
        let values: Vec<Value> = operands.iter().map(|&o| self.visit(o, true)).collect();
        let stringy = values
            .iter()
            .any(|v| matches!(v, Value::Str(_) | Value::Template(_)));
        if !stringy {
            let mut out = Vec::new();
            for v in values {
                self.absorb(v, &mut out);
            }
            return Value::Other(out);
        }
        let mut parts: Vec<Part> = Vec::new();
        for v in values {
            match v {
                Value::Str(s) => push_lit(&mut parts, s),
                Value::Template(ps) => {
                    for p in ps {
                        match p {
                            Part::Lit(s) => push_lit(&mut parts, s),
                            hole => parts.push(hole),
                        }
                    }
                }
                other => parts.push(Part::Hole(other)),
            }
        }
        Value::Template(parts)
    }

    /// The value of a C# interpolated string.
    pub fn interpolated(&mut self, n: Node) -> Value {
        let (pieces, _) = interpolated_pieces(self.src, n);
        let mut parts = Vec::new();
        for p in pieces {
            match p {
                Piece::Lit(s) => push_lit(&mut parts, s),
                Piece::Hole(e) => {
                    let v = self.visit(e, true);
                    parts.push(Part::Hole(v));
                }
            }
        }
        Value::Template(parts)
    }

    pub fn string_value(&self, n: Node) -> Value {
        Value::Str(plain_string(self.src, n).0)
    }

    /// Records an environment write (`os.Setenv("X", v)`) from a call's first two arguments.
    pub fn env_write(&mut self, args: &[Arg]) {
        if let (Some(k), Some(v)) = (args.first(), args.get(1)) {
            if let Value::Str(key) = &k.value {
                self.f.config.push(ConfigEntry {
                    key: key.clone(),
                    value: v.value.clone(),
                    key_span: k.span.clone(),
                    value_span: v.span.clone(),
                    block: None,
                });
            }
        }
    }
}

fn push_lit(parts: &mut Vec<Part>, s: String) {
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        prev.push_str(&s);
    } else if !s.is_empty() {
        parts.push(Part::Lit(s));
    }
}

/// An `Env` read of the string in `key`, with an optional fallback value.
pub(super) fn env_of(key: Option<&Arg>, fallback: Option<&Arg>) -> Option<Value> {
    let name = key?.value.as_str()?.to_string();
    Some(Value::Env {
        name,
        fallback: fallback.map(|a| Box::new(a.value.clone())),
    })
}

/// The last `.`-separated segment of a dotted name.
pub(super) fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

#[cfg(test)]
pub(super) mod test_util {
    use super::*;

    pub fn run(lang: Lang, src: &str) -> Facts {
        let mut f = facts(src, lang);
        f.resolve_imports();
        check_invariants(&f, src);
        f
    }

    /// Indices point into the facts and spans into the text, whatever the input.
    pub fn check_invariants(f: &Facts, src: &str) {
        let len = src.len();
        let span_ok = |s: &Span| s.start <= s.end && s.end <= len;
        fn value_ok(v: &Value, calls: usize, len: usize) -> bool {
            match v {
                Value::Call(i) => *i < calls,
                Value::Template(parts) => parts.iter().all(|p| match p {
                    Part::Hole(v) => value_ok(v, calls, len),
                    Part::Lit(_) => true,
                }),
                Value::Object(args) => args
                    .iter()
                    .all(|a| a.span.end <= len && value_ok(&a.value, calls, len)),
                Value::Array(items) => items.iter().all(|v| value_ok(v, calls, len)),
                Value::Env {
                    fallback: Some(fb), ..
                } => value_ok(fb, calls, len),
                _ => true,
            }
        }
        let n = f.calls.len();
        assert!(!f.scopes.is_empty());
        for (i, s) in f.scopes.iter().enumerate() {
            assert!(i == 0 || s.parent < i, "{s:?}");
            assert!(span_ok(&s.span));
        }
        for (i, c) in f.calls.iter().enumerate() {
            assert!(span_ok(&c.span) && span_ok(&c.callee_span), "{c:?}");
            assert!(c.scope < f.scopes.len());
            assert!(c.chained_into.is_none_or(|o| o > i && o < n), "{c:?}");
            for a in &c.args {
                assert!(span_ok(&a.span) && value_ok(&a.value, n, len), "{c:?}");
            }
        }
        for a in &f.assigns {
            assert!(span_ok(&a.span) && a.scope < f.scopes.len());
            assert!(value_ok(&a.value, n, len), "{a:?}");
        }
        for s in &f.strings {
            assert!(span_ok(&s.span));
        }
        for c in &f.comments {
            assert!(span_ok(&c.span));
            assert_eq!(&src[c.span.clone()], c.text);
        }
        for c in &f.config {
            assert!(span_ok(&c.key_span) && span_ok(&c.value_span));
        }
        for i in &f.imports {
            assert!(span_ok(&i.span));
        }
    }

    pub fn call<'f>(f: &'f Facts, callee: &str) -> &'f Call {
        f.calls
            .iter()
            .find(|c| c.callee == callee)
            .unwrap_or_else(|| {
                let all: Vec<&str> = f.calls.iter().map(|c| c.callee.as_str()).collect();
                panic!("no call {callee}; calls: {all:?}")
            })
    }

    pub fn arg<'f>(c: &'f Call, name: &str) -> &'f Value {
        &c.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no arg {name} in {c:?}"))
            .value
    }

    pub fn pos(c: &Call, i: usize) -> &Value {
        &c.args
            .iter()
            .filter(|a| a.name.is_none())
            .nth(i)
            .unwrap_or_else(|| panic!("no positional arg {i} in {c:?}"))
            .value
    }

    pub fn assigned<'f>(f: &'f Facts, target: &str) -> &'f Assign {
        f.assigns
            .iter()
            .find(|a| a.target == target)
            .unwrap_or_else(|| {
                let all: Vec<&str> = f.assigns.iter().map(|a| a.target.as_str()).collect();
                panic!("no assign {target}; assigns: {all:?}")
            })
    }

    pub fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    pub fn id(v: &str) -> Value {
        Value::Ident(v.into())
    }

    pub fn env(name: &str) -> Value {
        Value::Env {
            name: name.into(),
            fallback: None,
        }
    }

    /// Every StrLit with `raw_is_value` must map back onto the source byte for byte.
    pub fn check_strings(f: &Facts, src: &str) {
        for s in &f.strings {
            assert!(s.span.start <= s.content_start && s.content_start <= s.span.end);
            if s.raw_is_value {
                assert_eq!(
                    &src[s.content_start..s.content_start + s.value.len()],
                    s.value,
                    "{s:?}"
                );
            }
        }
    }

    /// Nested source `depth` levels deep must not crash the walk.
    pub fn nest(open: &str, mid: &str, close: &str, depth: usize) -> String {
        let mut s = String::with_capacity((open.len() + close.len()) * depth + mid.len());
        for _ in 0..depth {
            s.push_str(open);
        }
        s.push_str(mid);
        for _ in 0..depth {
            s.push_str(close);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpl(v: &Value) -> Vec<String> {
        match v {
            Value::Template(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Lit(s) => s.clone(),
                    Part::Hole(v) => format!("{{{v:?}}}"),
                })
                .collect(),
            other => panic!("not a template: {other:?}"),
        }
    }

    #[test]
    fn printf_templates() {
        let args = [Value::Ident("a".into()), Value::Ident("b".into())];
        let t = format_template(FmtStyle::Printf, "x %s y %-5d 100%% %n", &args);
        assert_eq!(
            tpl(&t),
            vec!["x ", "{Ident(\"a\")}", " y ", "{Ident(\"b\")}", " 100% \n"]
        );
        let t = format_template(FmtStyle::Printf, "%2$s %1$s %[1]v", &args);
        assert_eq!(
            tpl(&t),
            vec![
                "{Ident(\"b\")}",
                " ",
                "{Ident(\"a\")}",
                " ",
                "{Ident(\"a\")}"
            ]
        );
        // A trailing lone percent and multibyte text stay literal.
        let t = format_template(FmtStyle::Printf, "é %", &args);
        assert_eq!(tpl(&t), vec!["é %"]);
    }

    #[test]
    fn brace_templates() {
        let args = [Value::Ident("a".into())];
        let t = format_template(FmtStyle::Braces, "{{x}} {0,5:N2} {1} {z}", &args);
        assert_eq!(
            tpl(&t),
            vec!["{x} ", "{Ident(\"a\")}", " ", "{Other([])}", " {z}"]
        );
    }

    #[test]
    fn unescapes() {
        let mut s = String::new();
        for e in [
            r"\n",
            r"\t",
            r"\u00e9",
            r"\x41",
            r"\101",
            r"\U0001F600",
            r"\q",
            r"\\",
        ] {
            unescape(e, &mut s);
        }
        assert_eq!(s, "\n\té\u{41}A😀q\\");
    }

    type Shape = Box<dyn Fn(usize) -> String>;

    /// Trees up to [`INLINE_DEPTH`] are walked on the caller's stack; check that a small
    /// (1 MiB, debug build) stack copes with every nesting shape just under and over it.
    #[test]
    fn inline_walk_fits_a_small_stack() {
        use super::test_util::nest;
        let shapes: Vec<(Lang, Shape)> = vec![
            (Lang::CSharp, Box::new(|n| nest("F(", "x", ")", n))),
            (
                Lang::CSharp,
                Box::new(|n| format!("var y = {};", nest("new A(", "1", ")", n))),
            ),
            (
                Lang::CSharp,
                Box::new(|n| format!("var f = {}1;", "x => ".repeat(n))),
            ),
            (Lang::CSharp, Box::new(|n| nest("$\"{", "a", "}\"", n))),
            (
                Lang::CSharp,
                Box::new(|n| format!("void M() {{ {} }}", nest("if (a) { ", "F();", " }", n))),
            ),
            (
                Lang::CSharp,
                Box::new(|n| format!("var y = {};", nest("new A { B = ", "1", " }", n))),
            ),
            (Lang::CSharp, Box::new(|n| nest("a.b(", "1", ").c()", n))),
            (
                Lang::Java,
                Box::new(|n| format!("class C {{ Object x = {}; }}", nest("f(", "1", ")", n))),
            ),
            (
                Lang::Java,
                Box::new(|n| {
                    format!(
                        "class C {{ Object x = {}; }}",
                        nest("new B(", "1", ").m()", n)
                    )
                }),
            ),
            (
                Lang::Java,
                Box::new(|n| format!("class C {{ Object x = {}; }}", nest("() -> ", "1", "", n))),
            ),
            (
                Lang::Go,
                Box::new(|n| format!("package m\nvar x = {}", nest("f(", "1", ")", n))),
            ),
            (
                Lang::Go,
                Box::new(|n| format!("package m\nvar x = {}", nest("T{A: ", "1", "}", n))),
            ),
            (
                Lang::Go,
                Box::new(|n| format!("package m\nvar x = {}", nest("func() { ", "g()", " }", n))),
            ),
        ];
        for &(lang, ref make) in &shapes {
            for n in (5..=120).step_by(5) {
                let src = make(n);
                let handle = std::thread::Builder::new()
                    .stack_size(1 << 20)
                    .spawn(move || facts(&src, lang).calls.len())
                    .unwrap();
                assert!(handle.join().is_ok(), "{lang:?} nesting {n} overflowed");
            }
        }
    }

    /// Every prefix of realistic files (cut anywhere) and some byte soup parse without
    /// panicking and keep the invariants.
    #[test]
    fn truncated_and_garbage_input_never_panics() {
        use super::test_util::run;
        let samples = [
            (
                Lang::CSharp,
                r#"using Azure.AI.OpenAI; [Attr("x", A = 1)] class C { string _k = cfg["A:B"] ?? "d";
                async Task M(int a = 1) { var c = new AzureOpenAIClient(new Uri(e), new AzureKeyCredential(k)) { X = 1 }.GetChatClient("d");
                _log.LogInformation($"x {a.b[0]:N} {{y}}", x); foreach (var m in ms) { s += m; } Func<int,int> f = q => q + 1;
                var o = new { A = 1 }; int[] n = { 1 }; var t = string.Format("{0}", z); } }"#,
            ),
            (
                Lang::Java,
                r#"import a.b.C; @Service class S { @Value("${a.b:c}") String k; S(@Value("${x}") String x) { super(x); }
                void m(String... a) { var c = new OpenAIClientBuilder().endpoint(e).credential(new AzureKeyCredential(k)).buildClient();
                log.info("{}", String.format("%s", a)); for (String s : a) { t += s; } Runnable r = () -> go(a[0]);
                int[] n = {1}; String u = """
                  block"""; } }"#,
            ),
            (
                Lang::Go,
                r#"package main
                import ( o "github.com/openai/openai-go/v2/option"; "os" )
                func (s *S) F(a, b string) { c := openai.NewClient(o.WithAPIKey(os.Getenv("K")), o.WithBaseURL(`u`))
                r := openai.Req{Model: "m", Msgs: []openai.Msg{{Role: "u", Content: fmt.Sprintf("%s", a)}}}
                for _, m := range ms { x += m }; f := func(q int) int { return q }; log.Printf("%v", r); _ = c; _ = f }"#,
            ),
        ];
        for (lang, src) in samples {
            let mut cut = 0;
            while cut <= src.len() {
                if src.is_char_boundary(cut) {
                    run(lang, &src[..cut]);
                }
                cut += 3;
            }
            let soup: String = src.chars().rev().collect();
            run(lang, &soup);
            run(lang, &src.replace(['(', '{'], ""));
            run(lang, &src.replace([')', '}'], ""));
        }
        run(Lang::CSharp, "\0\u{fffd}\"\\");
        run(Lang::Go, "");
        run(Lang::Java, "@");
    }

    #[test]
    fn non_clike_language_is_noted() {
        let f = facts("x = 1", Lang::Python);
        assert!(!f.notes.is_empty());
        assert_eq!(f.scopes.len(), 1);
    }
}
