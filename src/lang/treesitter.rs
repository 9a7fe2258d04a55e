//! Shared tree-sitter plumbing: parsing with a time budget and small node helpers.
//!
//! Every tree-sitter frontend parses through [`parse`], so the cut-off for pathological input
//! and the note it produces are decided once. The walker core shared by the Python and
//! JavaScript frontends also lives here: child iteration that records comments, the recursion
//! guard, member chains, templates and escape decoding. Grammar-specific dispatch does not.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Node, Parser, Tree, TreeCursor};

use crate::facts::{Arg, Call, Comment, Facts, Part, Scope, Span, StrLit, Value};

/// How long one file may take to parse before the parse is abandoned.
pub const PARSE_BUDGET: Duration = Duration::from_secs(5);

/// Parses `text`; `None` when the grammar could not be loaded or the budget ran out.
pub fn parse(language: &Language, text: &str) -> Option<Tree> {
    // One parser per thread, reused from file to file (a parser owns its stack and lexer
    // buffers; making one per file was a malloc storm on trees of small files).
    thread_local! {
        static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new(Parser::new());
    }
    PARSER.with(|p| match p.try_borrow_mut() {
        Ok(mut parser) => parse_with(&mut parser, language, text),
        // Re-entered (a frontend parsing an embedded language): a parser of its own.
        Err(_) => parse_with(&mut Parser::new(), language, text),
    })
}

fn parse_with(parser: &mut Parser, language: &Language, text: &str) -> Option<Tree> {
    parser.set_language(language).ok()?;
    // A parse cut off by the time budget leaves state behind that would resume it.
    parser.reset();
    let start = Instant::now();
    let mut progress = |_: &tree_sitter::ParseState| -> bool { start.elapsed() > PARSE_BUDGET };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
    // The grammars' lexers read a NUL byte as the end of input: a stray NUL in a text file
    // would hide everything after it (code, and the suppression comments below it). Parse a
    // copy with NULs as spaces; byte offsets, and so every span, stay the same.
    let cleaned;
    let bytes = if text.as_bytes().contains(&0) {
        cleaned = text.replace('\0', " ");
        cleaned.as_bytes()
    } else {
        text.as_bytes()
    };
    parser.parse_with_options(
        &mut |i, _| bytes.get(i..).unwrap_or(&[]),
        None,
        Some(options),
    )
}

/// The source text of a node.
pub fn text<'a>(node: Node, src: &'a str) -> &'a str {
    src.get(node.byte_range()).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Shared walker state for the Python and JavaScript frontends. Each frontend wraps a [`Walk`]
// and adds its own grammar-specific dispatch; what lives here is what both need in the same way.

/// How deep the walkers recurse into the tree before they stop descending. Each level costs
/// a few stack frames, so this keeps the deepest walk well inside a 2 MiB thread stack.
pub const MAX_DEPTH: usize = 1500;

/// How many bytes of stack the walkers may use below their entry point; half of the 2 MiB
/// that Rust gives spawned threads, so the caller keeps room for itself.
pub const STACK_BUDGET: usize = 1 << 20;

/// A child node with the grammar field it fills, if any.
pub type Kid<'t> = (Option<&'static str>, Node<'t>);

/// What a walker shares across grammars: the facts being built, the current scope, the depth
/// guard, one reusable cursor and a pool of child buffers (so visiting a node allocates nothing
/// once the pool is warm), and the import aliases seen so far.
pub struct Walk<'t> {
    pub src: &'t str,
    pub facts: Facts,
    pub scope: usize,
    /// Local name → import path, for recognising aliased environment readers.
    pub imports: HashMap<String, String>,
    depth: usize,
    stack_base: usize,
    cut: bool,
    cursor: TreeCursor<'t>,
    pool: Vec<Vec<Kid<'t>>>,
}

impl<'t> Walk<'t> {
    pub fn new(src: &'t str, root: Node<'t>) -> Walk<'t> {
        let mut facts = Facts::new();
        facts.scopes[0].span = 0..src.len();
        facts.parse_errors = root.has_error();
        Walk {
            src,
            facts,
            scope: 0,
            imports: HashMap::new(),
            depth: 0,
            stack_base: 0,
            cut: false,
            cursor: root.walk(),
            pool: Vec::new(),
        }
    }

    /// The children of `node` with their field names. Comments among them are recorded here,
    /// which is why every walker reads children only through this method, once per node.
    pub fn kids(&mut self, node: Node<'t>) -> Vec<Kid<'t>> {
        let mut out = self.pool.pop().unwrap_or_default();
        self.cursor.reset(node);
        if self.cursor.goto_first_child() {
            loop {
                let n = self.cursor.node();
                if n.is_extra() && matches!(n.kind(), "comment" | "html_comment") {
                    // Python line comments take the `\r` of a CRLF ending with them.
                    let t = text(n, self.src);
                    let t = t.strip_suffix('\r').unwrap_or(t);
                    self.facts.comments.push(Comment {
                        text: t.to_string(),
                        span: n.start_byte()..n.start_byte() + t.len(),
                    });
                } else {
                    out.push((self.cursor.field_name(), n));
                }
                if !self.cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// The first named, non-comment child (the expression of `return x`, for instance).
    pub fn first_named(&mut self, node: Node<'t>) -> Option<Node<'t>> {
        let kids = self.kids(node);
        let found = kids
            .iter()
            .map(|k| k.1)
            .find(|k| k.is_named() && k.kind() != "comment");
        self.put(kids);
        found
    }

    /// Returns a buffer from [`Walk::kids`] to the pool.
    pub fn put(&mut self, mut kids: Vec<Kid<'t>>) {
        kids.clear();
        self.pool.push(kids);
    }

    /// Enters one recursion level; false (and a note, once) when the depth limit or the
    /// stack budget is reached.
    pub fn enter(&mut self) -> bool {
        // The address of a local tells how far the stack has grown since the walk began; no
        // pointer is dereferenced. Unoptimised builds use much bigger frames, so the byte
        // budget is what stops them, while the level limit stops optimised ones.
        let marker = 0u8;
        let here = std::ptr::addr_of!(marker) as usize;
        if self.depth == 0 {
            self.stack_base = here;
        }
        if self.depth >= MAX_DEPTH || self.stack_base.abs_diff(here) > STACK_BUDGET {
            if !self.cut {
                self.cut = true;
                self.facts.notes.push(
                    "code nested too deeply to analyse; the innermost part was skipped".into(),
                );
            }
            return false;
        }
        self.depth += 1;
        true
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    pub fn text(&self, node: Node) -> &'t str {
        text(node, self.src)
    }

    /// Pushes a placeholder call so the outer call gets its index before its inner calls.
    pub fn reserve_call(&mut self, span: Span) -> usize {
        self.facts.calls.push(Call {
            callee: String::new(),
            qualified: String::new(),
            is_new: false,
            args: Vec::new(),
            span,
            callee_span: 0..0,
            scope: self.scope,
            chained_into: None,
            decorator: false,
        });
        self.facts.calls.len() - 1
    }

    /// Opens a function scope and makes it current; returns the previous scope to restore.
    pub fn open_scope(&mut self, name: String, span: Span) -> usize {
        self.facts.scopes.push(Scope {
            name,
            params: Vec::new(),
            span,
            parent: self.scope,
        });
        let prev = self.scope;
        self.scope = self.facts.scopes.len() - 1;
        prev
    }

    pub fn assign(&mut self, target: String, value: Value, span: Span) {
        self.facts.assigns.push(crate::facts::Assign {
            target,
            value,
            span,
            scope: self.scope,
        });
    }

    pub fn string(&mut self, value: String, span: Span, content_start: usize, raw: bool) {
        self.facts.strings.push(StrLit {
            value,
            span,
            content_start,
            raw_is_value: raw,
        });
    }

    pub fn import(&mut self, local: String, path: String, span: Span) {
        if !local.is_empty() {
            self.imports.insert(local.clone(), path.clone());
        }
        self.facts
            .imports
            .push(crate::facts::Import { local, path, span });
    }

    /// `name` with its first segment replaced through the imports seen so far.
    pub fn qualify<'a>(&self, name: &'a str) -> Cow<'a, str> {
        let end = name.find('.').unwrap_or(name.len());
        match self.imports.get(&name[..end]) {
            Some(path) => Cow::Owned(format!("{path}{}", &name[end..])),
            None => Cow::Borrowed(name),
        }
    }

    /// Turns a finished chain into the value it reads.
    pub fn chain_value(&self, c: Chain) -> Value {
        if let Some((v, _)) = c.env {
            return v;
        }
        if let Some(i) = c.call {
            return Value::Call(i);
        }
        if c.pure {
            return Value::Ident(c.ident);
        }
        let mut refs = c.refs;
        if let Some(root) = c.root {
            into_refs(root, &mut refs, &self.facts.calls);
        }
        Value::Other(refs)
    }

    /// The names a value reads, for `Other`: consumes the value so strings move, not copy.
    pub fn refs_of(&self, v: Value) -> Vec<String> {
        let mut out = Vec::new();
        into_refs(v, &mut out, &self.facts.calls);
        out
    }

    /// What a loop variable over `v` reads: the iterable's names, and for a call such as
    /// `enumerate(msgs)` or `patient.items()` its arguments and receiver.
    pub fn iter_refs(&self, v: Value) -> Vec<String> {
        self.refs_of(v)
    }

    /// Sorts position-ordered facts and hands them over.
    pub fn finish(mut self) -> Facts {
        self.facts.comments.sort_by_key(|c| c.span.start);
        self.facts.strings.sort_by_key(|s| s.span.start);
        self.facts
    }
}

fn receiver_ref(call: &Call, out: &mut Vec<String>) {
    if let Some((recv, _)) = call.callee.rsplit_once('.') {
        if !matches!(crate::facts::root_of(recv), PLACEHOLDER | "str" | "String") {
            out.push(recv.to_string());
        }
    }
}

/// The callee segment used for a receiver that is neither a name nor a call (`(a or b).x()`).
pub const PLACEHOLDER: &str = "_";

/// Moves every name `v` reads into `out`. A call contributes the names its arguments read.
pub fn into_refs(v: Value, out: &mut Vec<String>, calls: &[Call]) {
    match v {
        Value::Ident(s) => out.push(s),
        Value::Other(names) => {
            if out.is_empty() {
                *out = names;
            } else {
                out.extend(names);
            }
        }
        Value::Template(parts) => {
            for p in parts {
                if let Part::Hole(h) = p {
                    into_refs(h, out, calls);
                }
            }
        }
        Value::Env { fallback, .. } => {
            if let Some(f) = fallback {
                into_refs(*f, out, calls);
            }
        }
        Value::Object(args) => {
            for a in args {
                into_refs(a.value, out, calls);
            }
        }
        Value::Array(items) => {
            for v in items {
                into_refs(v, out, calls);
            }
        }
        Value::Call(i) => {
            if let Some(call) = calls.get(i) {
                for a in &call.args {
                    a.value.refs(out, calls);
                }
                receiver_ref(call, out);
            }
        }
        Value::Str(_) | Value::Bool(_) | Value::Number(_) | Value::Null => {}
    }
}

/// A member chain being built bottom-up: `a.b[0].c(...)`. One pass yields both the callee
/// form (calls and indices dropped) and the value form (literal indices kept).
#[derive(Debug, Default)]
pub struct Chain {
    /// Dotted, index and call segments dropped: what a call's `callee` is.
    pub callee: String,
    /// Compact with literal indices (`resp.choices[0].message`): what an `Ident` holds.
    pub ident: String,
    /// Only names and literal indices so far, so `ident` is a faithful name.
    pub pure: bool,
    /// The call whose result the chain starts from (`a(x).b` → the index of `a(x)`).
    pub call: Option<usize>,
    /// Names read by dynamic indices and by a non-name root.
    pub refs: Vec<String>,
    /// The chain is an environment read (`os.environ["X"]`, `process.env.X`): the `Env` value
    /// and the span of the key.
    pub env: Option<(Value, Span)>,
    /// The environment read one segment back (`process.env.X.trim` → the read of `X`).
    pub prev_env: Option<Value>,
    /// The root value when the root is not a name (a string for `"...".format`).
    pub root: Option<Value>,
    /// The number of segments after the root.
    pub segments: usize,
}

impl Chain {
    pub fn name(name: &str) -> Chain {
        Chain {
            callee: name.to_string(),
            ident: name.to_string(),
            pure: true,
            ..Chain::default()
        }
    }

    /// A chain rooted at a call result; the callee so far is the inner call's callee.
    pub fn from_call(idx: usize, value: Value, calls: &[Call], key: Span) -> Chain {
        Chain {
            callee: calls[idx].callee.clone(),
            call: Some(idx),
            env: matches!(value, Value::Env { .. }).then_some((value, key)),
            ..Chain::default()
        }
    }

    /// A chain rooted at some other value, labelled `label` in the callee.
    pub fn from_value(value: Value, label: &str) -> Chain {
        let (env, root) = match value {
            v @ Value::Env { .. } => (Some((v, 0..0)), None),
            v => (None, Some(v)),
        };
        Chain {
            callee: label.to_string(),
            ident: label.to_string(),
            env,
            root,
            ..Chain::default()
        }
    }

    pub fn member(&mut self, name: &str) {
        self.prev_env = self.env.take().map(|e| e.0);
        self.segments += 1;
        if !self.callee.is_empty() {
            self.callee.push('.');
        }
        self.callee.push_str(name);
        self.ident.push('.');
        self.ident.push_str(name);
    }

    /// A literal index, written as `[0]` or `["key"]`.
    pub fn index(&mut self, repr: &str) {
        self.prev_env = self.env.take().map(|e| e.0);
        self.segments += 1;
        self.ident.push('[');
        self.ident.push_str(repr);
        self.ident.push(']');
    }

    /// An index that is not a literal: the chain stops being a plain name.
    pub fn dynamic(&mut self, key: Value, calls: &[Call]) {
        self.env = None;
        self.prev_env = None;
        self.segments += 1;
        if self.pure {
            self.refs.push(self.ident.clone());
            self.pure = false;
        }
        into_refs(key, &mut self.refs, calls);
    }

    /// The last callee segment (`create` in `client.chat.completions.create`).
    pub fn last(&self) -> &str {
        self.callee.rsplit('.').next().unwrap_or("")
    }

    /// The name to record when the chain is an assignment target.
    pub fn target(&self) -> String {
        if self.pure {
            self.ident.clone()
        } else if self.call.is_none() && !self.refs.is_empty() {
            self.refs[0].clone()
        } else {
            self.callee.clone()
        }
    }
}

/// Methods that return a transformed copy of a string: an environment read stays one through them.
pub const STRING_METHODS: &[&str] = &[
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "trim",
    "trimStart",
    "trimEnd",
    "toLowerCase",
    "toUpperCase",
    "toString",
];

/// Whether a value is string-like, so `+` with it is a concatenation.
pub fn is_stringy(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::Template(_))
}

/// Joins two values into one template (`"a" + x`).
pub fn concat(a: Value, b: Value) -> Value {
    let mut parts = into_parts(a);
    for p in into_parts(b) {
        push_part(&mut parts, p);
    }
    Value::Template(parts)
}

fn into_parts(v: Value) -> Vec<Part> {
    match v {
        Value::Str(s) => vec![Part::Lit(s)],
        Value::Template(p) => p,
        other => vec![Part::Hole(other)],
    }
}

/// Appends a part, merging adjacent literals.
pub fn push_part(parts: &mut Vec<Part>, p: Part) {
    if let (Some(Part::Lit(prev)), Part::Lit(s)) = (parts.last_mut(), &p) {
        prev.push_str(s);
        return;
    }
    parts.push(p);
}

/// The template for `"...".format(...)`: `{}` / `{0}` / `{name}` fields filled from the arguments.
pub fn brace_format(fmt: &str, args: &[Arg]) -> Value {
    let positional: Vec<&Value> = args
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| &a.value)
        .collect();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut auto = 0;
    let mut chars = fmt.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if matches!(chars.peek(), Some((_, '{'))) => {
                chars.next();
                lit.push('{');
            }
            '}' if matches!(chars.peek(), Some((_, '}'))) => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut depth = 1;
                let mut end = fmt.len();
                for (j, d) in chars.by_ref() {
                    match d {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let field = &fmt[i + 1..end];
                let key = &field[..field.find(['!', ':', '.', '[']).unwrap_or(field.len())];
                let found = if key.is_empty() {
                    auto += 1;
                    positional.get(auto - 1).copied()
                } else if let Ok(n) = key.parse::<usize>() {
                    positional.get(n).copied()
                } else {
                    args.iter()
                        .find(|a| a.name.as_deref() == Some(key))
                        .map(|a| &a.value)
                };
                if !lit.is_empty() {
                    push_part(&mut parts, Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Hole(
                    found.cloned().unwrap_or_else(|| Value::Other(Vec::new())),
                ));
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        push_part(&mut parts, Part::Lit(lit));
    }
    Value::Template(parts)
}

/// The template for `"..." % args`: `%s` / `%(name)s` conversions filled from a tuple, a dict
/// or a single value.
pub fn percent_format(fmt: &str, args: Value) -> Value {
    let (mut positional, mut named): (Vec<Option<Value>>, Vec<Arg>) = match args {
        Value::Array(items) => (items.into_iter().map(Some).collect(), Vec::new()),
        Value::Object(args) => (Vec::new(), args),
        single => (vec![Some(single)], Vec::new()),
    };
    let mut next = 0;
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            lit.push('%');
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut k = String::new();
            for d in chars.by_ref() {
                if d == ')' {
                    break;
                }
                k.push(d);
            }
            key = Some(k);
        }
        // Flags, width, precision and length modifiers up to the conversion character.
        while let Some(&d) = chars.peek() {
            chars.next();
            if d.is_ascii_alphabetic() && !matches!(d, 'h' | 'l' | 'L') {
                break;
            }
        }
        let value = match key {
            Some(k) => named
                .iter_mut()
                .find(|a| a.name.as_deref() == Some(k.as_str()))
                .map(|a| std::mem::replace(&mut a.value, Value::Null)),
            None => {
                next += 1;
                positional.get_mut(next - 1).and_then(Option::take)
            }
        };
        if !lit.is_empty() {
            push_part(&mut parts, Part::Lit(std::mem::take(&mut lit)));
        }
        parts.push(Part::Hole(
            value.unwrap_or_else(|| Value::Other(Vec::new())),
        ));
    }
    if !lit.is_empty() {
        push_part(&mut parts, Part::Lit(lit));
    }
    Value::Template(parts)
}

/// Which escape rules a string literal follows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    Python,
    JavaScript,
}

/// Decodes backslash escapes. Unknown escapes keep the backslash in Python (as Python does)
/// and drop it in JavaScript; malformed numeric escapes are kept as written.
pub fn unescape(raw: &str, rules: Escapes) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        let Some(e) = rest.chars().next() else {
            out.push('\\');
            break;
        };
        rest = &rest[e.len_utf8()..];
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'a' if rules == Escapes::Python => out.push('\u{7}'),
            '\\' | '\'' | '"' => out.push(e),
            '\n' => {}
            '\r' => {
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            '0'..='7' => {
                let digits = 1 + rest
                    .bytes()
                    .take(2)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                let start = pos_of(raw, rest) - 1;
                let code = u32::from_str_radix(&raw[start..start + digits], 8).unwrap_or(0);
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                rest = &rest[digits - 1..];
            }
            'x' => rest = hex_escape(rest, 2, e, &mut out),
            'u' if rules == Escapes::JavaScript && rest.starts_with('{') => match rest.find('}') {
                Some(end) => {
                    match u32::from_str_radix(&rest[1..end], 16)
                        .ok()
                        .and_then(char::from_u32)
                    {
                        Some(c) => out.push(c),
                        None => {
                            out.push_str("\\u");
                            out.push_str(&rest[..=end]);
                        }
                    }
                    rest = &rest[end + 1..];
                }
                None => out.push_str("\\u"),
            },
            'u' => rest = hex_escape(rest, 4, e, &mut out),
            'U' if rules == Escapes::Python => rest = hex_escape(rest, 8, e, &mut out),
            _ if rules == Escapes::Python => {
                out.push('\\');
                out.push(e);
            }
            _ => out.push(e),
        }
    }
    out.push_str(rest);
    out
}

fn pos_of(whole: &str, tail: &str) -> usize {
    whole.len() - tail.len()
}

fn hex_escape<'a>(rest: &'a str, n: usize, letter: char, out: &mut String) -> &'a str {
    let decoded = rest
        .get(..n)
        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32);
    match decoded {
        Some(c) => {
            out.push(c);
            &rest[n..]
        }
        None => {
            out.push('\\');
            out.push(letter);
            rest
        }
    }
}

/// The node's text with all whitespace removed (`a . b` → `a.b`).
pub fn compact(node: Node, src: &str) -> String {
    text(node, src)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The first kid filling `field`.
pub fn field<'t>(kids: &[Kid<'t>], name: &str) -> Option<Node<'t>> {
    kids.iter().find(|(f, _)| *f == Some(name)).map(|&(_, n)| n)
}

/// The first named kid.
pub fn first_named<'t>(kids: &[Kid<'t>]) -> Option<Node<'t>> {
    kids.iter().find(|(_, n)| n.is_named()).map(|&(_, n)| n)
}

/// Invariants every frontend's facts must satisfy, for the frontends' tests.
#[cfg(test)]
pub mod testing {
    use crate::facts::{Facts, Span};

    /// Every span lies inside `text` on character boundaries, and a literal marked
    /// `raw_is_value` really sits at `content_start` verbatim.
    pub fn check_spans(text: &str, facts: &Facts) {
        let ok = |s: &Span, what: &str| {
            assert!(
                s.start <= s.end && s.end <= text.len(),
                "{what} span {s:?} out of range"
            );
            assert!(
                text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                "{what} span {s:?} splits a character"
            );
        };
        for i in &facts.imports {
            ok(&i.span, "import");
        }
        for c in &facts.calls {
            ok(&c.span, "call");
            ok(&c.callee_span, "callee");
            for a in &c.args {
                ok(&a.span, "arg");
            }
        }
        for a in &facts.assigns {
            ok(&a.span, "assign");
        }
        for s in &facts.strings {
            ok(&s.span, "string");
            assert!(text.is_char_boundary(s.content_start));
            if s.raw_is_value {
                assert_eq!(
                    text.get(s.content_start..s.content_start + s.value.len()),
                    Some(s.value.as_str()),
                    "raw literal {s:?} not at its content_start"
                );
            }
        }
        for c in &facts.comments {
            ok(&c.span, "comment");
            assert_eq!(&text[c.span.clone()], c.text);
        }
        for s in &facts.scopes {
            ok(&s.span, "scope");
        }
        for c in &facts.config {
            ok(&c.key_span, "config key");
            ok(&c.value_span, "config value");
        }
    }
}
