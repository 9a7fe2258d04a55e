//! Rust frontend: turns a `.rs` file into [`Facts`] with `syn`.
//!
//! It reads `use` trees, calls, method chains (builder chains folded into one call), struct
//! literals, the common formatting/logging macros, `let` bindings, closures and functions,
//! environment reads and writes, every string literal and every comment. It does not resolve
//! types, expand macros or follow modules across files. Spans come from proc-macro2 line/column
//! positions mapped through a line-start table; nothing here re-prints tokens to find a span.
//!
//! A file syn cannot parse still yields its string literals and comments: items that fail are
//! skipped one by one, a file that does not lex falls back to a plain literal scan, and deeply
//! nested input never reaches syn (its parser recurses). Parsing runs on a worker thread with a
//! large stack so that recursion in syn, in our walk and in dropping deep trees stays bounded
//! by the guards here rather than by whatever stack the caller happens to have.

use std::collections::HashMap;
use std::str::FromStr;

use proc_macro2::{Delimiter, LineColumn, Spacing, TokenStream, TokenTree};
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{
    BinOp, Block, Expr, ExprCall, ExprMethodCall, Item, Lit, Macro, MacroDelimiter, Member, Pat,
    Stmt, UnOp, UseTree,
};

use crate::facts::{Arg, Assign, Call, Comment, ConfigEntry, Facts, Import, Part, Scope, Span};
use crate::facts::{StrLit, Value};

/// Deeper bracket nesting than this never reaches syn.
const MAX_SYN_DEPTH: usize = 500;
/// Deeper than this is not even lexed into a token tree (dropping one recurses).
const MAX_TOKEN_DEPTH: usize = 20_000;
/// Operators between two separators; syn builds a tree as deep as this run is long.
const MAX_OPERATOR_RUN: usize = 20_000;
/// Member chains longer than this stop growing (each link would copy the whole name).
const MAX_NAME: usize = 512;
/// Nodes walked to find an expression's first or last token; only generated code nests
/// deeper, and there a span that falls short is better than quadratic time.
const MAX_SPAN_STEPS: usize = 1024;

thread_local! {
    /// Set on threads started with at least [`WORKER_STACK`] of stack (the checker's
    /// workers): those parse in place instead of starting a thread per file.
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The stack a thread needs to parse Rust in place (see [`mark_big_stack`]).
pub const WORKER_STACK: usize = 256 * 1024 * 1024;

/// Declares that the current thread was started with [`WORKER_STACK`] of stack, so
/// [`facts`] parses on it directly. Starting a thread per file cost about half of the CPU
/// time on a tree of Rust code (thread start, and the kernel zeroing each fresh stack).
pub fn mark_big_stack() {
    BIG_STACK.with(|b| b.set(true));
}

/// Facts of one Rust source file. Never panics.
pub fn facts(text: &str) -> Facts {
    let mut scan = scan(text);
    if BIG_STACK.with(|b| b.get()) {
        // proc-macro2 keeps a thread-local map of every source it lexed; clear it after each
        // file so a long-lived worker does not grow with the tree. A panic is caught by the
        // caller (the per-file guard), as it would be for any frontend.
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_in_worker(text, &scan)
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        let mut facts = parsed.unwrap_or_else(|_| {
            let mut f = plain_facts(&scan);
            f.notes
                .push("the Rust parser failed on this file; only literals were read".into());
            f
        });
        facts.comments = std::mem::take(&mut scan.comments);
        return facts;
    }
    let worker = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("phi-lint-rust".into())
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, || parse_in_worker(text, &scan))
            .ok()
            .map(|h| h.join())
    });
    let mut facts = match worker {
        Some(Ok(f)) => f,
        Some(Err(_)) => {
            let mut f = plain_facts(&scan);
            f.notes
                .push("the Rust parser failed on this file; only literals were read".into());
            f
        }
        None if scan.max_depth <= 64 => {
            let f = parse_in_worker(text, &scan);
            proc_macro2::extra::invalidate_current_thread_spans();
            f
        }
        None => {
            let mut f = plain_facts(&scan);
            f.notes
                .push("could not start a parser thread; only literals were read".into());
            f
        }
    };
    facts.comments = std::mem::take(&mut scan.comments);
    facts
}

fn plain_facts(scan: &Scan) -> Facts {
    let mut f = Facts::new();
    f.strings = scan.strings.clone();
    f.parse_errors = true;
    f
}

/// Everything that touches proc-macro2 spans; runs on the worker thread, whose thread-local
/// source map dies with it.
fn parse_in_worker(text: &str, scan: &Scan) -> Facts {
    let base = code_start(text);
    let code = &text[base..];
    if scan.max_depth > MAX_TOKEN_DEPTH {
        let mut f = plain_facts(scan);
        f.notes.push(format!(
            "brackets nest more than {MAX_TOKEN_DEPTH} deep; only literals were read"
        ));
        return f;
    }
    let tokens = match TokenStream::from_str(code) {
        Ok(t) => t,
        Err(_) => {
            let mut f = plain_facts(scan);
            f.notes
                .push("the file does not lex as Rust; only literals were read".into());
            return f;
        }
    };
    let lines = Lines::new(code, base);
    let mut w = Walker::new(lines);
    w.token_strings(tokens.clone());
    if scan.max_depth > MAX_SYN_DEPTH || scan.max_run > MAX_OPERATOR_RUN {
        w.f.parse_errors = true;
        w.f.notes.push(format!(
            "nesting deeper than {MAX_SYN_DEPTH} brackets or {MAX_OPERATOR_RUN} operators; \
             only literals and comments were read"
        ));
        return w.f;
    }
    let mut skipped = false;
    // Each item is walked as soon as it is parsed and dropped after: a generated file of
    // megabytes never holds its whole syntax tree at once.
    let parsed = (|input: ParseStream| {
        parse_items_recovering(input, &mut skipped, &mut |s: Stmt| {
            w.stmt(&s);
        })
    })
    .parse2(tokens);
    if parsed.is_err() {
        w.f.parse_errors = true;
    }
    if skipped {
        w.f.parse_errors = true;
        w.f.notes.push(
            "some items did not parse and were skipped; their literals were still read".into(),
        );
    }
    w.f
}

fn statement_ahead(input: ParseStream) -> bool {
    let fork = input.fork();
    fork.parse::<Stmt>().is_ok()
}

/// Byte offset where code starts: after a byte-order mark and a shebang line.
fn code_start(text: &str) -> usize {
    let mut base = 0;
    if text.starts_with('\u{feff}') {
        base = '\u{feff}'.len_utf8();
    }
    let rest = &text[base..];
    if let Some(after) = rest.strip_prefix("#!") {
        if !after.trim_start().starts_with('[') {
            base += rest.find('\n').unwrap_or(rest.len());
        }
    }
    base
}

/// Items of a file; an item that fails to parse is skipped up to the next `;` or `{...}` so
/// the rest of the file still yields facts. Top-level statements (evcxr notebooks, snippets)
/// are accepted too.
fn parse_items_recovering(
    input: ParseStream,
    skipped: &mut bool,
    each: &mut dyn FnMut(Stmt),
) -> syn::Result<()> {
    let _ = input.call(syn::Attribute::parse_inner);
    while !input.is_empty() {
        let fork = input.fork();
        match fork.parse::<Item>() {
            Ok(item) => {
                input.advance_to(&fork);
                each(Stmt::Item(item));
            }
            Err(_) if statement_ahead(input) => {
                let stmt = input.parse::<Stmt>()?;
                each(stmt);
            }
            Err(_) => {
                *skipped = true;
                input.step(|cursor| {
                    let mut rest = *cursor;
                    while let Some((tt, next)) = rest.token_tree() {
                        rest = next;
                        match tt {
                            TokenTree::Punct(p) if p.as_char() == ';' => break,
                            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
                            _ => {}
                        }
                    }
                    Ok(((), rest))
                })?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Positions

/// Maps proc-macro2 line/column positions (lines split at `\n`, columns in chars) to byte
/// offsets of the original file.
struct Lines<'a> {
    code: &'a str,
    base: usize,
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

impl<'a> Lines<'a> {
    fn new(code: &'a str, base: usize) -> Lines<'a> {
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in code.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
                ascii.push(line_ascii);
                line_ascii = true;
            } else if b >= 0x80 {
                line_ascii = false;
            }
        }
        ascii.push(line_ascii);
        Lines {
            code,
            base,
            starts,
            ascii,
        }
    }

    fn offset(&self, lc: LineColumn) -> usize {
        let line = lc.line.saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.code.len());
        let within = if self.ascii[line] {
            lc.column.min(end - start)
        } else {
            self.code[start..end]
                .char_indices()
                .nth(lc.column)
                .map(|(i, _)| i)
                .unwrap_or(end - start)
        };
        self.base + start + within
    }

    fn span(&self, s: proc_macro2::Span) -> Span {
        self.offset(s.start())..self.offset(s.end())
    }

    fn range(&self, a: proc_macro2::Span, b: proc_macro2::Span) -> Span {
        let start = self.offset(a.start());
        start..self.offset(b.end()).max(start)
    }
}

/// The first token of an expression (attributes excluded).
fn first_tok(mut e: &Expr) -> proc_macro2::Span {
    for _ in 0..MAX_SPAN_STEPS {
        return match e {
            Expr::Array(x) => x.bracket_token.span.open(),
            Expr::Assign(x) => {
                e = &x.left;
                continue;
            }
            Expr::Async(x) => x.async_token.span,
            Expr::Await(x) => {
                e = &x.base;
                continue;
            }
            Expr::Binary(x) => {
                e = &x.left;
                continue;
            }
            Expr::Block(x) => match &x.label {
                Some(l) => l.name.apostrophe,
                None => x.block.brace_token.span.open(),
            },
            Expr::Break(x) => x.break_token.span,
            Expr::Call(x) => {
                e = &x.func;
                continue;
            }
            Expr::Cast(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Closure(x) => {
                if let Some(l) = &x.lifetimes {
                    l.for_token.span
                } else if let Some(t) = &x.constness {
                    t.span
                } else if let Some(t) = &x.movability {
                    t.span
                } else if let Some(t) = &x.asyncness {
                    t.span
                } else if let Some(t) = &x.capture {
                    t.span
                } else {
                    x.or1_token.span
                }
            }
            Expr::Const(x) => x.const_token.span,
            Expr::Continue(x) => x.continue_token.span,
            Expr::Field(x) => {
                e = &x.base;
                continue;
            }
            Expr::ForLoop(x) => match &x.label {
                Some(l) => l.name.apostrophe,
                None => x.for_token.span,
            },
            Expr::Group(x) => {
                e = &x.expr;
                continue;
            }
            Expr::If(x) => x.if_token.span,
            Expr::Index(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Infer(x) => x.underscore_token.span,
            Expr::Let(x) => x.let_token.span,
            Expr::Lit(x) => x.lit.span(),
            Expr::Loop(x) => match &x.label {
                Some(l) => l.name.apostrophe,
                None => x.loop_token.span,
            },
            Expr::Macro(x) => path_first(&x.mac.path),
            Expr::Match(x) => x.match_token.span,
            Expr::MethodCall(x) => {
                e = &x.receiver;
                continue;
            }
            Expr::Paren(x) => x.paren_token.span.open(),
            Expr::Path(x) => match &x.qself {
                Some(q) => q.lt_token.span,
                None => path_first(&x.path),
            },
            Expr::Range(x) => match &x.start {
                Some(s) => {
                    e = s;
                    continue;
                }
                None => limits_span(&x.limits),
            },
            Expr::RawAddr(x) => x.and_token.span,
            Expr::Reference(x) => x.and_token.span,
            Expr::Repeat(x) => x.bracket_token.span.open(),
            Expr::Return(x) => x.return_token.span,
            Expr::Struct(x) => match &x.qself {
                Some(q) => q.lt_token.span,
                None => path_first(&x.path),
            },
            Expr::Try(x) => {
                e = &x.expr;
                continue;
            }
            Expr::TryBlock(x) => x.try_token.span,
            Expr::Tuple(x) => x.paren_token.span.open(),
            Expr::Unary(x) => match x.op {
                UnOp::Deref(t) => t.span,
                UnOp::Not(t) => t.span,
                UnOp::Neg(t) => t.span,
                _ => {
                    e = &x.expr;
                    continue;
                }
            },
            Expr::Unsafe(x) => x.unsafe_token.span,
            Expr::While(x) => match &x.label {
                Some(l) => l.name.apostrophe,
                None => x.while_token.span,
            },
            Expr::Yield(x) => x.yield_token.span,
            other => syn::spanned::Spanned::span(other),
        };
    }
    proc_macro2::Span::call_site()
}

/// The last token of an expression.
fn last_tok(mut e: &Expr) -> proc_macro2::Span {
    for _ in 0..MAX_SPAN_STEPS {
        return match e {
            Expr::Array(x) => x.bracket_token.span.close(),
            Expr::Assign(x) => {
                e = &x.right;
                continue;
            }
            Expr::Async(x) => x.block.brace_token.span.close(),
            Expr::Await(x) => x.await_token.span,
            Expr::Binary(x) => {
                e = &x.right;
                continue;
            }
            Expr::Block(x) => x.block.brace_token.span.close(),
            Expr::Break(x) => match (&x.expr, &x.label) {
                (Some(v), _) => {
                    e = v;
                    continue;
                }
                (None, Some(l)) => l.ident.span(),
                (None, None) => x.break_token.span,
            },
            Expr::Call(x) => x.paren_token.span.close(),
            Expr::Cast(x) => syn::spanned::Spanned::span(&x.ty),
            Expr::Closure(x) => {
                e = &x.body;
                continue;
            }
            Expr::Const(x) => x.block.brace_token.span.close(),
            Expr::Continue(x) => match &x.label {
                Some(l) => l.ident.span(),
                None => x.continue_token.span,
            },
            Expr::Field(x) => match &x.member {
                Member::Named(i) => i.span(),
                Member::Unnamed(i) => i.span,
            },
            Expr::ForLoop(x) => x.body.brace_token.span.close(),
            Expr::Group(x) => {
                e = &x.expr;
                continue;
            }
            Expr::If(x) => match &x.else_branch {
                Some((_, b)) => {
                    e = b;
                    continue;
                }
                None => x.then_branch.brace_token.span.close(),
            },
            Expr::Index(x) => x.bracket_token.span.close(),
            Expr::Infer(x) => x.underscore_token.span,
            Expr::Let(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Lit(x) => x.lit.span(),
            Expr::Loop(x) => x.body.brace_token.span.close(),
            Expr::Macro(x) => delim_close(&x.mac.delimiter),
            Expr::Match(x) => x.brace_token.span.close(),
            Expr::MethodCall(x) => x.paren_token.span.close(),
            Expr::Paren(x) => x.paren_token.span.close(),
            Expr::Path(x) => path_last(&x.path),
            Expr::Range(x) => match &x.end {
                Some(v) => {
                    e = v;
                    continue;
                }
                None => limits_span(&x.limits),
            },
            Expr::RawAddr(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Reference(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Repeat(x) => x.bracket_token.span.close(),
            Expr::Return(x) => match &x.expr {
                Some(v) => {
                    e = v;
                    continue;
                }
                None => x.return_token.span,
            },
            Expr::Struct(x) => x.brace_token.span.close(),
            Expr::Try(x) => x.question_token.span,
            Expr::TryBlock(x) => x.block.brace_token.span.close(),
            Expr::Tuple(x) => x.paren_token.span.close(),
            Expr::Unary(x) => {
                e = &x.expr;
                continue;
            }
            Expr::Unsafe(x) => x.block.brace_token.span.close(),
            Expr::While(x) => x.body.brace_token.span.close(),
            Expr::Yield(x) => match &x.expr {
                Some(v) => {
                    e = v;
                    continue;
                }
                None => x.yield_token.span,
            },
            other => syn::spanned::Spanned::span(other),
        };
    }
    proc_macro2::Span::call_site()
}

fn limits_span(l: &syn::RangeLimits) -> proc_macro2::Span {
    match l {
        syn::RangeLimits::HalfOpen(t) => t.spans[0],
        syn::RangeLimits::Closed(t) => t.spans[0],
    }
}

fn path_first(p: &syn::Path) -> proc_macro2::Span {
    match (&p.leading_colon, p.segments.first()) {
        (Some(c), _) => c.spans[0],
        (None, Some(s)) => s.ident.span(),
        (None, None) => proc_macro2::Span::call_site(),
    }
}

fn path_last(p: &syn::Path) -> proc_macro2::Span {
    match p.segments.last() {
        Some(s) => match &s.arguments {
            syn::PathArguments::AngleBracketed(a) => a.gt_token.span,
            syn::PathArguments::Parenthesized(a) => a.paren_token.span.close(),
            syn::PathArguments::None => s.ident.span(),
        },
        None => path_first(p),
    }
}

fn delim_close(d: &MacroDelimiter) -> proc_macro2::Span {
    match d {
        MacroDelimiter::Paren(t) => t.span.close(),
        MacroDelimiter::Brace(t) => t.span.close(),
        MacroDelimiter::Bracket(t) => t.span.close(),
    }
}

fn path_name(p: &syn::Path) -> String {
    let mut s = String::new();
    for seg in &p.segments {
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&unraw(&seg.ident));
    }
    s
}

fn unraw(i: &proc_macro2::Ident) -> String {
    let s = i.to_string();
    match s.strip_prefix("r#") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------------------------
// The walk

/// Methods that pass their receiver's value through unchanged, for data flow's sake; they are
/// not emitted as calls (`"gpt-4o".to_string()` is the string, `env::var("K").unwrap()` the
/// environment read).
const TRANSPARENT_METHODS: &[&str] = &[
    "to_string",
    "to_owned",
    "clone",
    "cloned",
    "into",
    "as_str",
    "as_ref",
    "as_deref",
    "unwrap",
    "expect",
    "borrow",
    "into_owned",
    "to_vec",
    "as_slice",
    "unwrap_or_default",
];

/// Constructors that only wrap a value.
const TRANSPARENT_CALLS: &[&str] = &[
    "Some",
    "Ok",
    "Box.new",
    "Arc.new",
    "Rc.new",
    "String.from",
    "Cow.from",
    "Cow.Owned",
    "Cow.Borrowed",
    "std.sync.Arc.new",
];

const ENV_READS: &[&str] = &[
    "std.env.var",
    "std.env.var_os",
    "env.var",
    "env.var_os",
    "dotenvy.var",
    "dotenv.var",
];

const ENV_WRITES: &[&str] = &["std.env.set_var", "env.set_var"];

/// Macros whose first string-literal argument is a format string.
const FORMAT_MACROS: &[&str] = &[
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "unreachable",
    "todo",
    "unimplemented",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "log",
    "event",
    "trace_span",
    "debug_span",
    "info_span",
    "warn_span",
    "error_span",
    "span",
    "anyhow",
    "bail",
    "ensure",
    "eyre",
    "context",
];

struct Walker<'a> {
    lines: Lines<'a>,
    f: Facts,
    scope: usize,
    imports: HashMap<String, String>,
    /// The call a member chain like `make().chat` was read from, for `chained_into`.
    field_feed: Option<usize>,
}

impl<'a> Walker<'a> {
    fn new(lines: Lines<'a>) -> Walker<'a> {
        Walker {
            lines,
            f: Facts::new(),
            scope: 0,
            imports: HashMap::new(),
            field_feed: None,
        }
    }

    fn espan(&self, e: &Expr) -> Span {
        self.lines.range(first_tok(e), last_tok(e))
    }

    fn qualify(&self, dotted: &str) -> String {
        let (head, rest) = match dotted.find('.') {
            Some(i) => (&dotted[..i], &dotted[i..]),
            None => (dotted, ""),
        };
        match self.imports.get(head) {
            Some(p) => format!("{p}{rest}"),
            None => dotted.to_string(),
        }
    }

    // -- strings from tokens --------------------------------------------------------------

    /// Every string literal in the token stream, attributes and macro bodies included; doc
    /// comments (which the lexer turns into `#[doc = "..."]`) are left to the comment scan.
    fn token_strings(&mut self, ts: TokenStream) {
        let mut stack = vec![ts.into_iter()];
        let mut prev_hash = false;
        while let Some(top) = stack.last_mut() {
            let Some(tt) = top.next() else {
                stack.pop();
                continue;
            };
            match tt {
                TokenTree::Literal(lit) => self.push_literal(&lit),
                TokenTree::Group(g) => {
                    if prev_hash && g.delimiter() == Delimiter::Bracket && is_doc_attr(&g) {
                        prev_hash = false;
                        continue;
                    }
                    stack.push(g.stream().into_iter());
                }
                TokenTree::Punct(p) => {
                    prev_hash = p.as_char() == '#' || (prev_hash && p.as_char() == '!');
                    continue;
                }
                TokenTree::Ident(_) => {}
            }
            prev_hash = false;
        }
    }

    fn push_literal(&mut self, lit: &proc_macro2::Literal) {
        let repr = lit.to_string();
        let Some(quote) = repr.find('"') else { return };
        if !repr[..quote]
            .bytes()
            .all(|b| matches!(b, b'b' | b'c' | b'r' | b'#'))
        {
            return;
        }
        let value = match Lit::new(lit.clone()) {
            Lit::Str(s) => s.value(),
            Lit::ByteStr(s) => String::from_utf8_lossy(&s.value()).into_owned(),
            Lit::CStr(s) => s.value().to_string_lossy().into_owned(),
            _ => return,
        };
        let span = self.lines.span(lit.span());
        let content_start = span.start + quote + 1;
        let text = self.lines.code;
        let rel = content_start.saturating_sub(self.lines.base);
        let raw_is_value = text.get(rel..rel + value.len()) == Some(value.as_str());
        self.f.strings.push(StrLit {
            value,
            span,
            content_start,
            raw_is_value,
        });
    }

    // -- items ----------------------------------------------------------------------------

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use(u) => self.use_tree(&u.tree, &mut Vec::new()),
            Item::ExternCrate(c) => {
                if let Some((_, rename)) = &c.rename {
                    let span = self.lines.span(rename.span());
                    self.push_import(unraw(rename), unraw(&c.ident), span);
                }
            }
            Item::Fn(f) => self.function(&f.sig, &f.block, fn_start(&f.vis, &f.sig)),
            Item::Impl(i) => {
                for it in &i.items {
                    match it {
                        syn::ImplItem::Fn(m) => {
                            self.function(&m.sig, &m.block, fn_start(&m.vis, &m.sig))
                        }
                        syn::ImplItem::Const(c) => {
                            self.assign_expr(unraw(&c.ident), &c.expr);
                        }
                        syn::ImplItem::Macro(m) => {
                            self.mac(&m.mac);
                        }
                        _ => {}
                    }
                }
            }
            Item::Trait(t) => {
                for it in &t.items {
                    if let syn::TraitItem::Fn(m) = it {
                        if let Some(block) = &m.default {
                            self.function(
                                &m.sig,
                                block,
                                fn_start(&syn::Visibility::Inherited, &m.sig),
                            );
                        }
                    }
                }
            }
            Item::Const(c) => self.assign_expr(unraw(&c.ident), &c.expr),
            Item::Static(s) => self.assign_expr(unraw(&s.ident), &s.expr),
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    for it in items {
                        self.item(it);
                    }
                }
            }
            Item::Macro(m) if m.ident.is_none() => {
                self.mac(&m.mac);
            }
            _ => {}
        }
    }

    fn push_import(&mut self, local: String, path: String, span: Span) {
        if !local.is_empty() {
            self.imports.insert(local.clone(), path.clone());
        }
        self.f.imports.push(Import { local, path, span });
    }

    fn use_tree(&mut self, tree: &UseTree, prefix: &mut Vec<String>) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(unraw(&p.ident));
                self.use_tree(&p.tree, prefix);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let name = unraw(&n.ident);
                let span = self.lines.span(n.ident.span());
                if name == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        self.push_import(last, prefix.join("."), span);
                    }
                } else {
                    let mut path = prefix.clone();
                    path.push(name.clone());
                    self.push_import(name, path.join("."), span);
                }
            }
            UseTree::Rename(r) => {
                let local = unraw(&r.rename);
                if local == "_" {
                    return;
                }
                let name = unraw(&r.ident);
                let mut path = prefix.clone();
                if name != "self" {
                    path.push(name);
                }
                let span = self.lines.span(r.rename.span());
                self.push_import(local, path.join("."), span);
            }
            UseTree::Glob(g) => {
                let span = self.lines.span(g.star_token.span);
                self.push_import(String::new(), prefix.join("."), span);
            }
            UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix);
                }
            }
        }
    }

    fn function(&mut self, sig: &syn::Signature, block: &Block, start: proc_macro2::Span) {
        let mut params = Vec::new();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => params.push("self".to_string()),
                syn::FnArg::Typed(t) => pat_names(&t.pat, &mut params),
            }
        }
        let span = self.lines.range(start, block.brace_token.span.close());
        let idx = self.push_scope(unraw(&sig.ident), params, span);
        let saved = std::mem::replace(&mut self.scope, idx);
        self.block(block);
        self.scope = saved;
    }

    fn push_scope(&mut self, name: String, params: Vec<String>, span: Span) -> usize {
        self.f.scopes.push(Scope {
            name,
            params,
            span,
            parent: self.scope,
        });
        self.f.scopes.len() - 1
    }

    /// Walks a block; its value is the tail expression's.
    fn block(&mut self, block: &Block) -> Value {
        let mut last = Value::Other(Vec::new());
        for stmt in &block.stmts {
            last = self.stmt(stmt);
        }
        last
    }

    /// Walks a statement; its value is that of an expression without a semicolon.
    fn stmt(&mut self, stmt: &Stmt) -> Value {
        match stmt {
            Stmt::Local(l) => self.local(l),
            Stmt::Item(i) => self.item(i),
            Stmt::Expr(e, semi) => {
                let v = self.eval(e);
                if semi.is_none() {
                    return v;
                }
            }
            Stmt::Macro(m) => {
                let v = self.mac(&m.mac);
                if m.semi_token.is_none() {
                    return v;
                }
            }
        }
        Value::Other(Vec::new())
    }

    fn local(&mut self, l: &syn::Local) {
        let Some(init) = &l.init else { return };
        let span = self.espan(&init.expr);
        let v = self.eval(&init.expr);
        self.bind(&l.pat, v, span);
        if let Some((_, diverge)) = &init.diverge {
            self.eval(diverge);
        }
    }

    /// Assigns a value to the names a pattern binds: a single binding gets the value itself
    /// (`let Ok(resp) = ...`), several get what the value reads.
    fn bind(&mut self, pat: &Pat, v: Value, span: Span) {
        let mut names = Vec::new();
        pat_names(pat, &mut names);
        let v = if names.len() == 1 || matches!(v, Value::Call(_)) {
            v
        } else {
            Value::Other(self.refs(&v))
        };
        for target in names {
            self.f.assigns.push(Assign {
                target,
                value: v.clone(),
                span: span.clone(),
                scope: self.scope,
            });
        }
    }

    fn assign_expr(&mut self, target: String, e: &Expr) {
        let span = self.espan(e);
        let value = self.eval(e);
        self.f.assigns.push(Assign {
            target,
            value,
            span,
            scope: self.scope,
        });
    }

    fn refs(&self, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        v.refs(&mut out, &self.f.calls);
        out
    }

    // -- expressions ----------------------------------------------------------------------

    fn eval(&mut self, e: &Expr) -> Value {
        self.eval_named(e).0
    }

    /// The value of an expression, walking it once (calls and closures inside are emitted), and
    /// its dotted name when it is a member chain or a call (the callee).
    fn eval_named(&mut self, e: &Expr) -> (Value, Option<String>) {
        match e {
            Expr::Lit(l) => (lit_value(&l.lit), None),
            Expr::Path(p) => {
                if p.qself.is_none() && p.path.is_ident("None") {
                    return (Value::Null, None);
                }
                let name = path_name(&p.path);
                (Value::Ident(name.clone()), Some(name))
            }
            Expr::Field(x) => {
                let member = match &x.member {
                    Member::Named(i) => unraw(i),
                    Member::Unnamed(i) => i.index.to_string(),
                };
                let (base, name) = self.eval_named(&x.base);
                let name = name.map(|n| match n.len() < MAX_NAME {
                    true => format!("{n}.{member}"),
                    false => n,
                });
                self.field_feed = match (&base, &*x.base) {
                    (Value::Call(i), _) => Some(*i),
                    (_, Expr::Field(_)) => self.field_feed,
                    _ => None,
                };
                match base {
                    Value::Ident(b) if b.len() >= MAX_NAME => (Value::Ident(b), name),
                    Value::Ident(b) => {
                        let full = format!("{b}.{member}");
                        (Value::Ident(full.clone()), Some(full))
                    }
                    other => (Value::Other(self.refs(&other)), name),
                }
            }
            Expr::Index(x) => {
                let (base, name) = self.eval_named(&x.expr);
                let idx = self.eval(&x.index);
                let key = match &idx {
                    Value::Number(n) => Some(n.clone()),
                    Value::Str(s) => Some(format!("{s:?}")),
                    _ => None,
                };
                match (base, key) {
                    (Value::Ident(b), Some(k)) if b.len() < MAX_NAME => {
                        let full = format!("{b}[{k}]");
                        (Value::Ident(full.clone()), Some(full))
                    }
                    (base, _) => {
                        let mut r = self.refs(&base);
                        r.extend(self.refs(&idx));
                        (Value::Other(r), name)
                    }
                }
            }
            Expr::Call(c) => self.call(c, e),
            Expr::MethodCall(m) => self.method_chain(m, e),
            Expr::Macro(m) => (self.mac(&m.mac), None),
            Expr::Struct(s) => (self.struct_lit(s, e), None),
            Expr::Paren(x) => self.eval_named(&x.expr),
            Expr::Group(x) => self.eval_named(&x.expr),
            Expr::Await(x) => self.eval_named(&x.base),
            Expr::Try(x) => self.eval_named(&x.expr),
            Expr::Reference(x) => self.eval_named(&x.expr),
            Expr::RawAddr(x) => self.eval_named(&x.expr),
            Expr::Cast(x) => self.eval_named(&x.expr),
            Expr::Unary(x) => {
                let (v, name) = self.eval_named(&x.expr);
                match (&x.op, v) {
                    (UnOp::Deref(_), v) => (v, name),
                    (UnOp::Neg(_), Value::Number(n)) => (Value::Number(format!("-{n}")), None),
                    (_, v) => (Value::Other(self.refs(&v)), None),
                }
            }
            Expr::Binary(b) => (self.binary(b), None),
            Expr::Assign(a) => {
                let span = self.espan(&a.right);
                let v = self.eval(&a.right);
                let (_, target) = self.eval_named(&a.left);
                if let Some(target) = target {
                    self.f.assigns.push(Assign {
                        target,
                        value: v,
                        span,
                        scope: self.scope,
                    });
                }
                (Value::Other(Vec::new()), None)
            }
            Expr::Array(a) => {
                let items = a.elems.iter().map(|x| self.eval(x)).collect();
                (Value::Array(items), None)
            }
            Expr::Tuple(t) => {
                let items = t.elems.iter().map(|x| self.eval(x)).collect();
                (Value::Array(items), None)
            }
            Expr::Repeat(r) => {
                let v = self.eval(&r.expr);
                self.eval(&r.len);
                (Value::Array(vec![v]), None)
            }
            Expr::Closure(c) => (self.closure(c, e), None),
            Expr::Block(b) => (self.block(&b.block), None),
            Expr::Unsafe(b) => (self.block(&b.block), None),
            Expr::Const(b) => (self.block(&b.block), None),
            Expr::TryBlock(b) => (self.block(&b.block), None),
            Expr::Async(b) => {
                let v = self.block(&b.block);
                (Value::Other(self.refs(&v)), None)
            }
            Expr::If(i) => {
                let mut r = Vec::new();
                self.eval(&i.cond);
                let t = self.block(&i.then_branch);
                r.extend(self.refs(&t));
                if let Some((_, els)) = &i.else_branch {
                    let v = self.eval(els);
                    r.extend(self.refs(&v));
                }
                (Value::Other(r), None)
            }
            Expr::Let(l) => {
                let span = self.espan(&l.expr);
                let v = self.eval(&l.expr);
                self.bind(&l.pat, v, span);
                (Value::Other(Vec::new()), None)
            }
            Expr::Match(m) => {
                let span = self.espan(&m.expr);
                let scrut = self.eval(&m.expr);
                let scrut_refs = self.refs(&scrut);
                let mut r = Vec::new();
                for arm in &m.arms {
                    self.bind(&arm.pat, Value::Other(scrut_refs.clone()), span.clone());
                    if let Some((_, g)) = &arm.guard {
                        self.eval(g);
                    }
                    let v = self.eval(&arm.body);
                    r.extend(self.refs(&v));
                }
                (Value::Other(r), None)
            }
            Expr::ForLoop(l) => {
                let span = self.espan(&l.expr);
                let v = self.eval(&l.expr);
                let refs = self.refs(&v);
                let mut names = Vec::new();
                pat_names(&l.pat, &mut names);
                for target in names {
                    self.f.assigns.push(Assign {
                        target,
                        value: Value::Other(refs.clone()),
                        span: span.clone(),
                        scope: self.scope,
                    });
                }
                self.block(&l.body);
                (Value::Other(Vec::new()), None)
            }
            Expr::While(w) => {
                self.eval(&w.cond);
                self.block(&w.body);
                (Value::Other(Vec::new()), None)
            }
            Expr::Loop(l) => {
                self.block(&l.body);
                (Value::Other(Vec::new()), None)
            }
            Expr::Range(r) => {
                let mut out = Vec::new();
                for v in [&r.start, &r.end].into_iter().flatten() {
                    let v = self.eval(v);
                    out.extend(self.refs(&v));
                }
                (Value::Other(out), None)
            }
            Expr::Return(x) => {
                if let Some(v) = &x.expr {
                    self.eval(v);
                }
                (Value::Other(Vec::new()), None)
            }
            Expr::Break(x) => {
                if let Some(v) = &x.expr {
                    self.eval(v);
                }
                (Value::Other(Vec::new()), None)
            }
            Expr::Yield(x) => {
                if let Some(v) = &x.expr {
                    self.eval(v);
                }
                (Value::Other(Vec::new()), None)
            }
            _ => (Value::Other(Vec::new()), None),
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary) -> Value {
        if is_compound(&b.op) {
            let span = self.espan(&b.right);
            let v = self.eval(&b.right);
            let (_, target) = self.eval_named(&b.left);
            if let Some(target) = target {
                let mut r = vec![target.clone()];
                r.extend(self.refs(&v));
                self.f.assigns.push(Assign {
                    target,
                    value: Value::Other(r),
                    span,
                    scope: self.scope,
                });
            }
            return Value::Other(Vec::new());
        }
        // `a + b + c` nests to the left; walking the spine in a loop keeps long generated
        // sums from recursing, and gathering operands once keeps their refs linear.
        let mut operands = vec![&*b.right];
        let mut concat = matches!(b.op, BinOp::Add(_));
        let mut cur = &*b.left;
        while let Expr::Binary(x) = cur {
            if is_compound(&x.op) {
                break;
            }
            concat |= matches!(x.op, BinOp::Add(_));
            operands.push(&x.right);
            cur = &x.left;
        }
        operands.push(cur);
        operands.reverse();
        let values: Vec<Value> = operands.into_iter().map(|e| self.eval(e)).collect();
        let stringy = |v: &Value| matches!(v, Value::Str(_) | Value::Template(_));
        if concat && values.iter().any(stringy) {
            let mut parts = Vec::new();
            for v in values {
                push_part(&mut parts, v);
            }
            return Value::Template(parts);
        }
        let mut refs = Vec::new();
        for v in &values {
            for r in self.refs(v) {
                if !refs.contains(&r) && refs.len() < 256 {
                    refs.push(r);
                }
            }
        }
        Value::Other(refs)
    }

    fn closure(&mut self, c: &syn::ExprClosure, whole: &Expr) -> Value {
        let mut params = Vec::new();
        for p in &c.inputs {
            pat_names(p, &mut params);
        }
        let span = self.espan(whole);
        let idx = self.push_scope("<closure>".into(), params, span);
        let saved = std::mem::replace(&mut self.scope, idx);
        let v = self.eval(&c.body);
        self.scope = saved;
        Value::Other(self.refs(&v))
    }

    /// The value of a closure's body, for `unwrap_or_else(|_| "fallback".into())`.
    fn closure_body_value(&mut self, e: &Expr) -> Value {
        match e {
            Expr::Closure(c) => {
                let mut params = Vec::new();
                for p in &c.inputs {
                    pat_names(p, &mut params);
                }
                let span = self.espan(e);
                let idx = self.push_scope("<closure>".into(), params, span);
                let saved = std::mem::replace(&mut self.scope, idx);
                let v = self.eval(&c.body);
                self.scope = saved;
                v
            }
            other => self.eval(other),
        }
    }

    fn args(&mut self, args: &Punctuated<Expr, syn::Token![,]>) -> Vec<Arg> {
        args.iter()
            .map(|a| {
                let span = self.espan(a);
                Arg {
                    name: None,
                    value: self.eval(a),
                    span,
                }
            })
            .collect()
    }

    fn push_call(&mut self, call: Call) -> usize {
        self.f.calls.push(call);
        self.f.calls.len() - 1
    }

    fn new_call(&self, callee: String, args: Vec<Arg>, span: Span, callee_span: Span) -> Call {
        Call {
            callee,
            qualified: String::new(),
            is_new: false,
            args,
            span,
            callee_span,
            scope: self.scope,
            chained_into: None,
            decorator: false,
        }
    }

    /// The literal a name-or-literal argument stands for: a string, or a `const` holding one.
    fn const_str(&self, v: &Value) -> Option<String> {
        match v {
            Value::Str(s) => Some(s.clone()),
            Value::Ident(name) => self.f.assigns.iter().rev().find_map(|a| match &a.value {
                Value::Str(s) if &a.target == name => Some(s.clone()),
                _ => None,
            }),
            _ => None,
        }
    }

    fn call(&mut self, c: &ExprCall, whole: &Expr) -> (Value, Option<String>) {
        let callee = match &*c.func {
            Expr::Path(p) => Some(path_name(&p.path)),
            _ => None,
        };
        if let Some(name) = &callee {
            if TRANSPARENT_CALLS.contains(&name.as_str()) && c.args.len() == 1 {
                return self.eval_named(&c.args[0]);
            }
            let qualified = self.qualify(name);
            if ENV_READS.contains(&name.as_str()) || ENV_READS.contains(&qualified.as_str()) {
                let args = self.args(&c.args);
                if let Some(first) = args.first() {
                    if let Some(key) = self.const_str(&first.value) {
                        return (
                            Value::Env {
                                name: key,
                                fallback: None,
                            },
                            None,
                        );
                    }
                }
                let mut refs = Vec::new();
                for a in &args {
                    refs.extend(self.refs(&a.value));
                }
                return (Value::Other(refs), None);
            }
        }
        let (func_name, callee_span) = match callee {
            Some(n) => (n, self.espan(&c.func)),
            None => {
                let span = self.espan(&c.func);
                let (_, n) = self.eval_named(&c.func);
                (n.unwrap_or_default(), span)
            }
        };
        let args = self.args(&c.args);
        let span = self.espan(whole);
        let qualified = self.qualify(&func_name);
        if ENV_WRITES.contains(&func_name.as_str()) || ENV_WRITES.contains(&qualified.as_str()) {
            if let (Some(k), Some(v)) = (args.first(), args.get(1)) {
                if let Some(key) = self.const_str(&k.value) {
                    self.f.config.push(ConfigEntry {
                        key,
                        value: v.value.clone(),
                        key_span: k.span.clone(),
                        value_span: v.span.clone(),
                        block: None,
                    });
                }
            }
        }
        let call = self.new_call(func_name.clone(), args, span, callee_span);
        let idx = self.push_call(call);
        (Value::Call(idx), Some(func_name))
    }

    /// A method-call chain. Rooted at a static call on a type (`AzureConfig::new()`,
    /// `Args::default()`) it is a builder and becomes one call; otherwise each link is a call
    /// named by the chain so far, feeding the next through `chained_into`.
    fn method_chain(&mut self, m: &ExprMethodCall, whole: &Expr) -> (Value, Option<String>) {
        let mut links = vec![m];
        let mut root = &*m.receiver;
        loop {
            match root {
                Expr::MethodCall(x) => {
                    links.push(x);
                    root = &x.receiver;
                }
                Expr::Await(x) => root = &x.base,
                Expr::Try(x) => root = &x.expr,
                Expr::Paren(x) => root = &x.expr,
                Expr::Group(x) => root = &x.expr,
                _ => break,
            }
        }
        links.reverse();
        let start = first_tok(root);
        if let Expr::Call(c) = root {
            if let Expr::Path(p) = &*c.func {
                let name = path_name(&p.path);
                if p.qself.is_none()
                    && is_type_static(&p.path)
                    && !TRANSPARENT_CALLS.contains(&name.as_str())
                    && links
                        .iter()
                        .any(|l| !TRANSPARENT_METHODS.contains(&l.method.to_string().as_str()))
                {
                    return self.builder(c, &name, &links, whole);
                }
            }
        }
        let (mut cur, mut prefix) = self.eval_named(root);
        let mut feed = match (&cur, root) {
            (Value::Call(i), _) => Some(*i),
            (_, Expr::Field(_)) => self.field_feed.take(),
            _ => None,
        };
        for link in links {
            let method = unraw(&link.method);
            if TRANSPARENT_METHODS.contains(&method.as_str()) && link.args.len() <= 1 {
                for a in &link.args {
                    self.eval(a);
                }
                continue;
            }
            if let Value::Env {
                name,
                fallback: None,
            } = &cur
            {
                let fb = match method.as_str() {
                    "unwrap_or" | "unwrap_or_else" => {
                        link.args.first().map(|a| self.closure_body_value(a))
                    }
                    "unwrap_or_default" | "ok" => Some(Value::Null),
                    _ => None,
                };
                if let Some(fb) = fb {
                    let fallback = match fb {
                        Value::Null => None,
                        v => Some(Box::new(v)),
                    };
                    cur = Value::Env {
                        name: name.clone(),
                        fallback,
                    };
                    continue;
                }
            }
            let callee = match &prefix {
                // A name this long is generated code; capping it keeps long chains linear.
                Some(p) if !p.is_empty() && p.len() < MAX_NAME => format!("{p}.{method}"),
                _ => method.clone(),
            };
            let args = self.args(&link.args);
            let span = self.lines.range(start, link.paren_token.span.close());
            let callee_span = self.lines.range(start, link.method.span());
            let call = self.new_call(callee.clone(), args, span, callee_span);
            let idx = self.push_call(call);
            if let Some(prev) = feed {
                self.f.calls[prev].chained_into = Some(idx);
            }
            feed = Some(idx);
            cur = Value::Call(idx);
            prefix = Some(callee);
        }
        (cur, prefix)
    }

    fn builder(
        &mut self,
        root: &ExprCall,
        name: &str,
        links: &[&ExprMethodCall],
        whole: &Expr,
    ) -> (Value, Option<String>) {
        let callee_span = self.espan(&root.func);
        let mut args = self.args(&root.args);
        for link in links {
            let method = unraw(&link.method);
            if TRANSPARENT_METHODS.contains(&method.as_str()) && link.args.len() <= 1 {
                for a in &link.args {
                    self.eval(a);
                }
                continue;
            }
            if link.args.is_empty() {
                let span = self.lines.span(link.method.span());
                args.push(Arg {
                    name: Some(method),
                    value: Value::Null,
                    span,
                });
                continue;
            }
            for (i, a) in link.args.iter().enumerate() {
                let span = self.espan(a);
                let value = self.eval(a);
                let name = if i == 0 {
                    method.clone()
                } else {
                    format!("{method}.{i}")
                };
                args.push(Arg {
                    name: Some(name),
                    value,
                    span,
                });
            }
        }
        let span = self.espan(whole);
        let call = self.new_call(name.to_string(), args, span, callee_span);
        let idx = self.push_call(call);
        (Value::Call(idx), Some(name.to_string()))
    }

    fn struct_lit(&mut self, s: &syn::ExprStruct, whole: &Expr) -> Value {
        let mut args = Vec::new();
        for fv in &s.fields {
            let name = match &fv.member {
                Member::Named(i) => unraw(i),
                Member::Unnamed(i) => i.index.to_string(),
            };
            let span = self.espan(&fv.expr);
            let value = self.eval(&fv.expr);
            args.push(Arg {
                name: Some(name),
                value,
                span,
            });
        }
        if let Some(rest) = &s.rest {
            let span = self.espan(rest);
            let v = self.eval(rest);
            let value = match v {
                Value::Call(_) => v,
                other => Value::Other(self.refs(&other)),
            };
            args.push(Arg {
                name: None,
                value,
                span,
            });
        }
        let callee_span = self.lines.range(path_first(&s.path), path_last(&s.path));
        let span = self.espan(whole);
        let mut call = self.new_call(path_name(&s.path), args, span, callee_span);
        call.is_new = true;
        Value::Call(self.push_call(call))
    }

    // -- macros ---------------------------------------------------------------------------

    fn mac(&mut self, m: &Macro) -> Value {
        let name = path_name(&m.path);
        let last = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let callee_span = self.lines.range(path_first(&m.path), path_last(&m.path));
        let span = self
            .lines
            .range(path_first(&m.path), delim_close(&m.delimiter));
        match last.as_str() {
            "macro_rules" => return Value::Other(Vec::new()),
            "env" | "option_env" => {
                let chunks = split_commas(m.tokens.clone());
                let args = self.macro_args(chunks);
                return match args.first().and_then(|a| self.const_str(&a.value)) {
                    Some(name) => Value::Env {
                        name,
                        fallback: None,
                    },
                    None => Value::Other(Vec::new()),
                };
            }
            "json" => return self.json_value(m.tokens.clone()),
            "vec" => {
                let tokens = m.tokens.clone();
                if let Ok(items) =
                    Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(tokens.clone())
                {
                    return Value::Array(items.iter().map(|e| self.eval(e)).collect());
                }
                if let Ok(r) = syn::parse2::<syn::ExprRepeat>(quote_bracket(tokens)) {
                    let v = self.eval(&r.expr);
                    self.eval(&r.len);
                    return Value::Array(vec![v]);
                }
                return Value::Other(Vec::new());
            }
            "concat" => {
                let args = self.macro_args(split_commas(m.tokens.clone()));
                let mut parts = Vec::new();
                for a in args {
                    push_part(&mut parts, a.value);
                }
                return match parts.as_slice() {
                    [] => Value::Str(String::new()),
                    [Part::Lit(s)] => Value::Str(s.clone()),
                    _ => Value::Template(parts),
                };
            }
            "stringify" | "include_str" | "include_bytes" | "concat_idents" | "line" | "column"
            | "file" | "module_path" | "cfg" => return Value::Other(Vec::new()),
            _ => {}
        }
        let chunks = split_commas(m.tokens.clone());
        let is_format = FORMAT_MACROS.contains(&last.as_str());
        let parsed_all = chunks.iter().all(|c| chunk_form(c).is_some());
        let mut args = if parsed_all || is_format {
            self.macro_args(chunks)
        } else if let Some(v) = self.macro_items(&m.tokens) {
            v
        } else {
            let mut refs = Vec::new();
            token_idents(m.tokens.clone(), &mut refs);
            vec![Arg {
                name: None,
                value: Value::Other(refs),
                span: self.lines.span(m.delimiter.span().join()),
            }]
        };
        if is_format {
            let skip = usize::from(matches!(last.as_str(), "write" | "writeln"))
                + usize::from(matches!(
                    last.as_str(),
                    "assert" | "debug_assert" | "ensure"
                ))
                + 2 * usize::from(matches!(
                    last.as_str(),
                    "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne"
                ));
            args = format_args(args, skip);
        }
        if matches!(last.as_str(), "format" | "format_args") {
            return match args.len() {
                1 => args.pop().map(|a| a.value).unwrap_or(Value::Null),
                _ => {
                    let mut r = Vec::new();
                    for a in &args {
                        r.extend(self.refs(&a.value));
                    }
                    Value::Other(r)
                }
            };
        }
        let call = self.new_call(name, args, span, callee_span);
        Value::Call(self.push_call(call))
    }

    /// Arguments of a macro from its parsed chunks (see [`chunk_form`]); a chunk that did
    /// not parse becomes an argument reading the identifiers it mentions.
    fn macro_args(&mut self, chunks: Vec<TokenStream>) -> Vec<Arg> {
        let mut out = Vec::new();
        for chunk in chunks {
            match chunk_form(&chunk) {
                Some((name, e)) => {
                    let span = self.espan(&e);
                    let value = self.eval(&e);
                    out.push(Arg { name, value, span });
                }
                None => {
                    let mut refs = Vec::new();
                    token_idents(chunk.clone(), &mut refs);
                    let span = token_range(&chunk)
                        .map(|(a, b)| self.lines.range(a, b))
                        .unwrap_or(0..0);
                    out.push(Arg {
                        name: None,
                        value: Value::Other(refs),
                        span,
                    });
                }
            }
        }
        out
    }

    /// A macro body holding items or statements (`lazy_static!`-like bodies do not parse).
    fn macro_items(&mut self, tokens: &TokenStream) -> Option<Vec<Arg>> {
        let stmts = Block::parse_within.parse2(tokens.clone()).ok()?;
        for s in &stmts {
            self.stmt(s);
        }
        Some(Vec::new())
    }

    /// `json!` bodies: objects, arrays and Rust expressions.
    fn json_value(&mut self, tokens: TokenStream) -> Value {
        let toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
        if let [TokenTree::Group(g)] = toks.as_slice() {
            match g.delimiter() {
                Delimiter::Brace => {
                    let mut args = Vec::new();
                    for entry in split_commas(g.stream()) {
                        let parts: Vec<TokenTree> = entry.into_iter().collect();
                        let Some(colon) = json_colon(&parts) else {
                            continue;
                        };
                        let key_toks: TokenStream = parts[..colon].iter().cloned().collect();
                        let val_toks: TokenStream = parts[colon + 1..].iter().cloned().collect();
                        let key = match parts.first() {
                            Some(TokenTree::Literal(l)) if colon == 1 => {
                                match Lit::new(l.clone()) {
                                    Lit::Str(s) => s.value(),
                                    _ => l.to_string(),
                                }
                            }
                            Some(TokenTree::Ident(i)) if colon == 1 => unraw(i),
                            _ => {
                                let mut r = Vec::new();
                                token_idents(key_toks.clone(), &mut r);
                                if let Ok(e) = syn::parse2::<Expr>(key_toks) {
                                    self.eval(&e);
                                }
                                r.join(".")
                            }
                        };
                        let span = token_range(&val_toks)
                            .map(|(a, b)| self.lines.range(a, b))
                            .unwrap_or(0..0);
                        let value = self.json_value(val_toks);
                        args.push(Arg {
                            name: Some(key),
                            value,
                            span,
                        });
                    }
                    return Value::Object(args);
                }
                Delimiter::Bracket => {
                    let items = split_commas(g.stream())
                        .into_iter()
                        .map(|c| self.json_value(c))
                        .collect();
                    return Value::Array(items);
                }
                _ => {}
            }
        }
        if let [TokenTree::Ident(i)] = toks.as_slice() {
            if i == "null" {
                return Value::Null;
            }
        }
        match syn::parse2::<Expr>(tokens.clone()) {
            Ok(e) => self.eval(&e),
            Err(_) => {
                let mut refs = Vec::new();
                token_idents(tokens, &mut refs);
                Value::Other(refs)
            }
        }
    }
}

fn fn_start(vis: &syn::Visibility, sig: &syn::Signature) -> proc_macro2::Span {
    match vis {
        syn::Visibility::Public(p) => return p.span,
        syn::Visibility::Restricted(r) => return r.pub_token.span,
        syn::Visibility::Inherited => {}
    }
    if let Some(t) = &sig.constness {
        t.span
    } else if let Some(t) = &sig.asyncness {
        t.span
    } else if let Some(t) = &sig.unsafety {
        t.span
    } else if let Some(a) = &sig.abi {
        a.extern_token.span
    } else {
        sig.fn_token.span
    }
}

/// A call on a type's path (`AzureConfig::new`, `reqwest::Client::builder`, `Self::new`).
fn is_type_static(p: &syn::Path) -> bool {
    let n = p.segments.len();
    n >= 2
        && p.segments[n - 2]
            .ident
            .to_string()
            .trim_start_matches("r#")
            .starts_with(|c: char| c.is_ascii_uppercase())
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Str(s) => Value::Str(s.value()),
        Lit::ByteStr(s) => Value::Str(String::from_utf8_lossy(&s.value()).into_owned()),
        Lit::CStr(s) => Value::Str(s.value().to_string_lossy().into_owned()),
        Lit::Int(i) => Value::Number(i.base10_digits().to_string()),
        Lit::Float(f) => Value::Number(f.base10_digits().to_string()),
        Lit::Bool(b) => Value::Bool(b.value),
        _ => Value::Other(Vec::new()),
    }
}

fn push_part(parts: &mut Vec<Part>, v: Value) {
    match v {
        Value::Str(s) => match parts.last_mut() {
            Some(Part::Lit(prev)) => prev.push_str(&s),
            _ => parts.push(Part::Lit(s)),
        },
        Value::Template(inner) => {
            for p in inner {
                match p {
                    Part::Lit(s) => push_part(parts, Value::Str(s)),
                    hole => parts.push(hole),
                }
            }
        }
        other => parts.push(Part::Hole(other)),
    }
}

/// Names bound by a pattern.
fn pat_names(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Ident(i) => {
            let name = unraw(&i.ident);
            if name != "_" {
                out.push(name);
            }
            if let Some((_, sub)) = &i.subpat {
                pat_names(sub, out);
            }
        }
        Pat::Type(t) => pat_names(&t.pat, out),
        Pat::Reference(r) => pat_names(&r.pat, out),
        Pat::Paren(x) => pat_names(&x.pat, out),
        Pat::Tuple(t) => t.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|e| pat_names(e, out)),
        Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                pat_names(first, out);
            }
        }
        Pat::Struct(s) => s.fields.iter().for_each(|f| pat_names(&f.pat, out)),
        _ => {}
    }
}

/// Splits a macro body at its top-level commas.
fn split_commas(ts: TokenStream) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for tt in ts {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                out.push(cur.drain(..).collect::<TokenStream>());
            }
            _ => cur.push(tt),
        }
    }
    if !cur.is_empty() {
        out.push(cur.into_iter().collect());
    }
    out
}

/// One macro argument as a (name, expression) pair, accepting the forms logging macros
/// use besides plain expressions: `target: x`, `key = value`, `a.b = %v`, `"k" = ?v`, `?x`,
/// `%x`. `None` when the chunk is not an expression at all (items, a DSL).
fn chunk_form(chunk: &TokenStream) -> Option<(Option<String>, Expr)> {
    let toks: Vec<TokenTree> = chunk.clone().into_iter().collect();
    let (name, body): (Option<String>, &[TokenTree]) = match toks.as_slice() {
        [TokenTree::Ident(i), TokenTree::Punct(p), rest @ ..]
            if p.as_char() == ':' && p.spacing() == Spacing::Alone && !rest.is_empty() =>
        {
            (Some(unraw(i)), rest)
        }
        _ => match field_eq(&toks) {
            Some(eq) => (field_name(&toks[..eq]), &toks[eq + 1..]),
            None => (None, &toks[..]),
        },
    };
    let body = match body {
        [TokenTree::Punct(p), rest @ ..]
            if (p.as_char() == '?' || p.as_char() == '%') && !rest.is_empty() =>
        {
            rest
        }
        other => other,
    };
    let e = syn::parse2::<Expr>(body.iter().cloned().collect()).ok()?;
    Some((name, e))
}

/// The `=` of a `field = value` macro argument whose left side is a plain field name.
fn field_eq(toks: &[TokenTree]) -> Option<usize> {
    let eq = toks
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '='))?;
    let alone = matches!(&toks[eq], TokenTree::Punct(p) if p.spacing() == Spacing::Alone);
    let after_joint =
        eq > 0 && matches!(&toks[eq - 1], TokenTree::Punct(p) if p.spacing() == Spacing::Joint);
    if !alone || after_joint || eq == 0 || eq + 1 == toks.len() {
        return None;
    }
    field_name(&toks[..eq]).map(|_| eq)
}

/// `a`, `a.b.c` or `"a.b"` as a field name.
fn field_name(toks: &[TokenTree]) -> Option<String> {
    if let [TokenTree::Literal(l)] = toks {
        return match Lit::new(l.clone()) {
            Lit::Str(s) => Some(s.value()),
            _ => None,
        };
    }
    let mut name = String::new();
    for (i, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if i % 2 == 0 => name.push_str(&unraw(id)),
            TokenTree::Punct(p) if i % 2 == 1 && p.as_char() == '.' => name.push('.'),
            _ => return None,
        }
    }
    (!name.is_empty() && !name.ends_with('.')).then_some(name)
}

/// The `:` separating a `json!` key from its value (not part of a `::` path).
fn json_colon(parts: &[TokenTree]) -> Option<usize> {
    let mut prev_joint_colon = false;
    for (i, t) in parts.iter().enumerate() {
        if let TokenTree::Punct(p) = t {
            if p.as_char() == ':' {
                if prev_joint_colon {
                    prev_joint_colon = false;
                    continue;
                }
                if p.spacing() == Spacing::Joint
                    && matches!(parts.get(i + 1), Some(TokenTree::Punct(n)) if n.as_char() == ':')
                {
                    prev_joint_colon = true;
                    continue;
                }
                return Some(i);
            }
        }
        prev_joint_colon = false;
    }
    None
}

fn quote_bracket(ts: TokenStream) -> TokenStream {
    let g = proc_macro2::Group::new(Delimiter::Bracket, ts);
    std::iter::once(TokenTree::Group(g)).collect()
}

fn is_doc_attr(g: &proc_macro2::Group) -> bool {
    matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc")
}

/// Identifiers read in a token stream, joined into `a.b` chains where written so.
fn token_idents(ts: TokenStream, out: &mut Vec<String>) {
    let mut stack = vec![ts.into_iter()];
    let mut chain: Option<String> = None;
    let mut after_dot = false;
    while let Some(top) = stack.last_mut() {
        let Some(tt) = top.next() else {
            stack.pop();
            if let Some(c) = chain.take() {
                out.push(c);
            }
            continue;
        };
        match tt {
            TokenTree::Ident(i) => {
                let s = unraw(&i);
                match (&mut chain, after_dot) {
                    (Some(c), true) => {
                        c.push('.');
                        c.push_str(&s);
                    }
                    _ => {
                        if let Some(c) = chain.take() {
                            out.push(c);
                        }
                        if !is_keyword(&s) {
                            chain = Some(s);
                        }
                    }
                }
                after_dot = false;
            }
            TokenTree::Punct(p) if p.as_char() == '.' => after_dot = chain.is_some(),
            TokenTree::Group(g) => {
                if let Some(c) = chain.take() {
                    out.push(c);
                }
                after_dot = false;
                stack.push(g.stream().into_iter());
            }
            _ => {
                if let Some(c) = chain.take() {
                    out.push(c);
                }
                after_dot = false;
            }
        }
    }
    if let Some(c) = chain {
        out.push(c);
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "fn"
            | "let"
            | "mut"
            | "ref"
            | "if"
            | "else"
            | "match"
            | "for"
            | "in"
            | "while"
            | "loop"
            | "return"
            | "true"
            | "false"
            | "pub"
            | "struct"
            | "enum"
            | "impl"
            | "use"
            | "mod"
            | "static"
            | "const"
            | "move"
            | "async"
            | "await"
            | "where"
            | "type"
            | "dyn"
            | "unsafe"
            | "crate"
            | "super"
    )
}

/// First and last token spans of a token stream.
fn token_range(ts: &TokenStream) -> Option<(proc_macro2::Span, proc_macro2::Span)> {
    let mut first = None;
    let mut last = None;
    for t in ts.clone() {
        let s = t.span();
        if first.is_none() {
            first = Some(s);
        }
        last = Some(s);
    }
    Some((first?, last?))
}

/// Turns a format macro's arguments into one Template argument (holes from `{}` / `{0}` /
/// `{name}` / inline captures) followed by the arguments the template did not consume.
/// `skip` leading positional arguments (a `write!` target, an `assert!` condition) are kept.
fn format_args(args: Vec<Arg>, skip: usize) -> Vec<Arg> {
    let mut positional_seen = 0;
    let mut fmt_at = None;
    for (i, a) in args.iter().enumerate() {
        if a.name.is_some() {
            continue;
        }
        if positional_seen >= skip {
            if matches!(a.value, Value::Str(_)) {
                fmt_at = Some(i);
            }
            break;
        }
        positional_seen += 1;
    }
    let Some(at) = fmt_at else { return args };
    let Value::Str(fmt) = &args[at].value else {
        return args;
    };
    let later: Vec<usize> = (at + 1..args.len()).collect();
    let positional: Vec<usize> = later
        .iter()
        .copied()
        .filter(|&i| args[i].name.is_none())
        .collect();
    let mut used = vec![false; args.len()];
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut next_pos = 0;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    spec.push(d);
                }
                let arg = spec.split(':').next().unwrap_or("").trim();
                let hole = if arg.is_empty() {
                    let h = positional.get(next_pos).copied();
                    next_pos += 1;
                    h.map(|i| {
                        used[i] = true;
                        args[i].value.clone()
                    })
                } else if let Ok(n) = arg.parse::<usize>() {
                    positional.get(n).copied().map(|i| {
                        used[i] = true;
                        args[i].value.clone()
                    })
                } else {
                    let named = later
                        .iter()
                        .copied()
                        .find(|&i| args[i].name.as_deref() == Some(arg));
                    Some(match named {
                        Some(i) => {
                            used[i] = true;
                            args[i].value.clone()
                        }
                        None => Value::Ident(arg.to_string()),
                    })
                };
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Hole(hole.unwrap_or(Value::Other(Vec::new()))));
            }
            other => lit.push(other),
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    let template = if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
        Value::Str(
            parts
                .iter()
                .map(|p| match p {
                    Part::Lit(s) => s.as_str(),
                    Part::Hole(_) => "",
                })
                .collect(),
        )
    } else {
        Value::Template(parts)
    };
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i == at {
            out.push(Arg {
                name: None,
                value: template.clone(),
                span: a.span,
            });
        } else if !used[i] {
            out.push(a);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The lexical scan: comments, string literals and nesting, without a parser

#[derive(Debug, Default)]
struct Scan {
    comments: Vec<Comment>,
    strings: Vec<StrLit>,
    max_depth: usize,
    max_run: usize,
}

fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let mut out = Scan::default();
    let mut i = code_start(text);
    let mut depth = 0usize;
    let mut run = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map(|e| i + e).unwrap_or(b.len());
                let mut stop = end;
                if stop > i && b[stop - 1] == b'\r' {
                    stop -= 1;
                }
                out.comments.push(Comment {
                    text: text[i..stop].to_string(),
                    span: i..stop,
                });
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut j = i + 2;
                let mut nest = 1;
                while j < b.len() && nest > 0 {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        nest += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        nest -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                let j = j.min(b.len());
                out.comments.push(Comment {
                    text: text[i..j].to_string(),
                    span: i..j,
                });
                i = j;
            }
            b'"' => {
                i = scan_cooked(text, i, i, &mut out.strings);
                run += 1;
            }
            b'\'' => {
                i = skip_char_or_lifetime(text, i);
                run += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                out.max_depth = out.max_depth.max(depth);
                if c == b'{' {
                    run = 0;
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if c == b'}' {
                    run = 0;
                }
                i += 1;
            }
            b';' | b',' => {
                run = 0;
                i += 1;
            }
            b'.' | b'+' | b'-' | b'*' | b'&' | b'|' | b'!' | b'<' | b'>' | b'=' | b'?' | b'%'
            | b'^' | b'/' => {
                run += 1;
                out.max_run = out.max_run.max(run);
                i += 1;
            }
            _ if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let word = &text[start..i];
                let raw_capable = matches!(word, "r" | "br" | "cr");
                let prefix_ok = matches!(word, "r" | "br" | "cr" | "b" | "c");
                if raw_capable && matches!(b.get(i), Some(b'"') | Some(b'#')) {
                    if let Some(end) = scan_raw(text, start, i, &mut out.strings) {
                        i = end;
                        continue;
                    }
                }
                if prefix_ok && !raw_capable && b.get(i) == Some(&b'"') {
                    i = scan_cooked(text, start, i, &mut out.strings);
                } else if word == "b" && b.get(i) == Some(&b'\'') {
                    i = skip_char_or_lifetime(text, i);
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// A `"..."` literal whose quote is at `q` (the literal itself starts at `start`, before
/// any `b`/`c` prefix). Returns the offset after it.
fn scan_cooked(text: &str, start: usize, q: usize, strings: &mut Vec<StrLit>) -> usize {
    let b = text.as_bytes();
    let mut j = q + 1;
    while j < b.len() && b[j] != b'"' {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    let content_end = j.min(b.len());
    let end = (j + 1).min(b.len());
    let raw = &text[q + 1..clamp_char(text, content_end)];
    let value = unescape(raw);
    strings.push(StrLit {
        raw_is_value: value == raw,
        value,
        span: start..end,
        content_start: q + 1,
    });
    end
}

/// A raw literal `r#"..."#` whose hashes start at `at`; `None` when it is a raw identifier.
fn scan_raw(text: &str, start: usize, at: usize, strings: &mut Vec<StrLit>) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = at;
    while j < b.len() && b[j] == b'#' {
        j += 1;
    }
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let hashes = j - at;
    let content_start = j + 1;
    let mut closing = String::from("\"");
    closing.push_str(&"#".repeat(hashes));
    let (content_end, end) = match text[content_start..].find(&closing) {
        Some(k) => (content_start + k, content_start + k + closing.len()),
        None => (b.len(), b.len()),
    };
    strings.push(StrLit {
        value: text[content_start..content_end].to_string(),
        span: start..end,
        content_start,
        raw_is_value: true,
    });
    Some(end)
}

/// Skips a char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or a lifetime/label quote.
fn skip_char_or_lifetime(text: &str, i: usize) -> usize {
    let b = text.as_bytes();
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 2;
        while j < b.len() && j < i + 16 && b[j] != b'\'' && b[j] != b'\n' {
            j += 1;
        }
        return if b.get(j) == Some(&b'\'') {
            j + 1
        } else {
            i + 1
        };
    }
    if let Some(c) = text.get(i + 1..).and_then(|s| s.chars().next()) {
        let after = i + 1 + c.len_utf8();
        if b.get(after) == Some(&b'\'') {
            return after + 1;
        }
    }
    i + 1
}

fn clamp_char(text: &str, mut o: usize) -> usize {
    o = o.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// Decodes Rust string escapes; unknown ones are kept as written.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('x') => {
                let h: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&h, 16) {
                    Ok(v) => out.push(char::from(v)),
                    Err(_) => {
                        out.push_str("\\x");
                        out.push_str(&h);
                    }
                }
            }
            Some('u') => {
                let mut code = String::new();
                if chars.peek() == Some(&'{') {
                    chars.next();
                    for d in chars.by_ref() {
                        if d == '}' {
                            break;
                        }
                        code.push(d);
                    }
                }
                match u32::from_str_radix(&code.replace('_', ""), 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u{");
                        out.push_str(&code);
                        out.push('}');
                    }
                }
            }
            Some('\n') | Some('\r') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Call;

    fn call<'a>(f: &'a Facts, callee: &str) -> &'a Call {
        f.calls
            .iter()
            .find(|c| c.callee == callee)
            .unwrap_or_else(|| panic!("no call {callee}: {:#?}", f.calls))
    }

    fn arg<'a>(c: &'a Call, name: &str) -> &'a Arg {
        c.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no arg {name}: {:#?}", c.args))
    }

    fn assign<'a>(f: &'a Facts, target: &str) -> &'a Assign {
        f.assigns
            .iter()
            .rev()
            .find(|a| a.target == target)
            .unwrap_or_else(|| panic!("no assign {target}: {:#?}", f.assigns))
    }

    fn at<'a>(text: &'a str, span: &Span) -> &'a str {
        &text[span.clone()]
    }

    #[test]
    fn use_trees_become_imports() {
        let src = "use async_openai::{Client, config::{AzureConfig, OpenAIConfig}};\n\
                   use async_openai::types::CreateChatCompletionRequestArgs as Req;\n\
                   use async_openai::types::*;\n\
                   use std::env::{self, var as read_var};\n\
                   use reqwest::header::HeaderMap as _;\n\
                   extern crate serde_json as json;\n";
        let f = facts(src);
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Client", "async_openai.Client"),
                ("AzureConfig", "async_openai.config.AzureConfig"),
                ("OpenAIConfig", "async_openai.config.OpenAIConfig"),
                ("Req", "async_openai.types.CreateChatCompletionRequestArgs"),
                ("", "async_openai.types"),
                ("env", "std.env"),
                ("read_var", "std.env.var"),
                ("json", "serde_json"),
            ]
        );
        assert_eq!(at(src, &f.imports[3].span), "Req");
        assert!(!f.parse_errors);
    }

    #[test]
    fn calls_and_static_constructors() {
        let src = "fn main() {\n    let client = Client::new();\n    let azure = Client::with_config(config);\n}\n";
        let f = facts(src);
        let new = call(&f, "Client.new");
        assert!(new.args.is_empty());
        assert_eq!(at(src, &new.span), "Client::new()");
        assert_eq!(at(src, &new.callee_span), "Client::new");
        assert_eq!(new.scope, 1);
        let with = call(&f, "Client.with_config");
        assert_eq!(with.args[0].value, Value::Ident("config".into()));
        assert_eq!(at(src, &with.args[0].span), "config");
        assert_eq!(assign(&f, "client").value, Value::Call(0));
        assert_eq!(assign(&f, "azure").value, Value::Call(1));
        let mut resolved = f.clone();
        resolved.imports.push(crate::facts::Import {
            local: "Client".into(),
            path: "async_openai.Client".into(),
            span: 0..0,
        });
        resolved.resolve_imports();
        assert_eq!(
            resolved.calls[1].qualified,
            "async_openai.Client.with_config"
        );
    }

    #[test]
    fn azure_builder_chain_is_one_call() {
        let src = r#"
use async_openai::{Client, config::AzureConfig};
fn client() -> Client<AzureConfig> {
    let config = AzureConfig::new()
        .with_api_base(std::env::var("AZURE_OPENAI_ENDPOINT").unwrap())
        .with_api_version("2024-10-21")
        .with_deployment_id("gpt4")
        .with_api_key(key);
    Client::with_config(config)
}
"#;
        let f = facts(src);
        let b = call(&f, "AzureConfig.new");
        assert!(!b.is_new);
        let names: Vec<_> = b.args.iter().map(|a| a.name.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "with_api_base",
                "with_api_version",
                "with_deployment_id",
                "with_api_key"
            ]
        );
        assert_eq!(
            arg(b, "with_api_base").value,
            Value::Env {
                name: "AZURE_OPENAI_ENDPOINT".into(),
                fallback: None
            }
        );
        assert_eq!(
            arg(b, "with_api_version").value,
            Value::Str("2024-10-21".into())
        );
        assert_eq!(at(src, &arg(b, "with_api_version").span), "\"2024-10-21\"");
        assert!(at(src, &b.span).starts_with("AzureConfig::new()"));
        assert!(at(src, &b.span).ends_with(".with_api_key(key)"));
        assert!(f.calls.iter().all(|c| !c.callee.contains("with_api")));
    }

    #[test]
    fn request_builder_with_try_folds() {
        let src = r#"
async fn ask(client: &Client<OpenAIConfig>, msgs: Vec<Msg>) -> Result<String> {
    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o")
        .messages(msgs)
        .max_tokens(512u32)
        .build()?;
    let response = client.chat().create(request).await?;
    Ok(response.choices[0].message.content.clone().unwrap_or_default())
}
"#;
        let f = facts(src);
        let b = call(&f, "CreateChatCompletionRequestArgs.default");
        assert_eq!(arg(b, "model").value, Value::Str("gpt-4o".into()));
        assert_eq!(arg(b, "messages").value, Value::Ident("msgs".into()));
        assert_eq!(arg(b, "max_tokens").value, Value::Number("512".into()));
        assert_eq!(arg(b, "build").value, Value::Null);
        let idx = f.calls.iter().position(|c| std::ptr::eq(c, b)).unwrap();
        assert_eq!(assign(&f, "request").value, Value::Call(idx));
        let create = call(&f, "client.chat.create");
        assert_eq!(create.args[0].value, Value::Ident("request".into()));
        let chat = f
            .calls
            .iter()
            .position(|c| c.callee == "client.chat")
            .unwrap();
        let create_idx = f
            .calls
            .iter()
            .position(|c| c.callee == "client.chat.create")
            .unwrap();
        assert_eq!(f.calls[chat].chained_into, Some(create_idx));
        assert_eq!(assign(&f, "response").value, Value::Call(create_idx));
        assert_eq!(f.scopes[1].name, "ask");
        assert_eq!(f.scopes[1].params, ["client", "msgs"]);
        assert_eq!(create.scope, 1);
    }

    #[test]
    fn reqwest_chains() {
        let src = r#"
async fn post(http: &reqwest::Client, body: serde_json::Value, key: &str) -> reqwest::Result<()> {
    http.post("https://myres.openai.azure.com/openai/deployments/gpt4/chat/completions")
        .header("api-key", key)
        .json(&body)
        .send()
        .await?;
    let direct = reqwest::Client::builder().timeout(t).build()?;
    Ok(())
}
"#;
        let f = facts(src);
        let send = call(&f, "http.post.header.json.send");
        assert!(send.args.is_empty());
        let post = call(&f, "http.post");
        assert_eq!(
            post.args[0].value,
            Value::Str(
                "https://myres.openai.azure.com/openai/deployments/gpt4/chat/completions".into()
            )
        );
        let header = call(&f, "http.post.header");
        assert_eq!(header.args[1].value, Value::Ident("key".into()));
        let json = call(&f, "http.post.header.json");
        assert_eq!(json.args[0].value, Value::Ident("body".into()));
        let b = call(&f, "reqwest.Client.builder");
        assert_eq!(arg(b, "timeout").value, Value::Ident("t".into()));
    }

    #[test]
    fn struct_literals_are_constructions() {
        let src = r#"
fn req(prompt: String) -> CreateChatCompletionRequest {
    let messages = vec![ChatCompletionRequestUserMessage { content: prompt.into(), name: None }];
    CreateChatCompletionRequest { model: "gpt-4o".to_string(), messages, ..Default::default() }
}
"#;
        let f = facts(src);
        let r = call(&f, "CreateChatCompletionRequest");
        assert!(r.is_new);
        assert_eq!(arg(r, "model").value, Value::Str("gpt-4o".into()));
        assert_eq!(arg(r, "messages").value, Value::Ident("messages".into()));
        assert!(matches!(
            r.args.last().unwrap(),
            Arg {
                name: None,
                value: Value::Call(_),
                ..
            }
        ));
        let m = call(&f, "ChatCompletionRequestUserMessage");
        assert_eq!(arg(m, "content").value, Value::Ident("prompt".into()));
        assert_eq!(arg(m, "name").value, Value::Null);
        assert!(matches!(assign(&f, "messages").value, Value::Array(ref v) if v.len() == 1));
    }

    #[test]
    fn format_and_logging_macros() {
        let src = r#"
fn log_it(prompt: &str, patient_id: u64, resp: &Resp) {
    let msg = format!("Summarize {patient_id}: {}", prompt);
    info!("sending prompt {}", prompt);
    log::info!(target: "llm", "prompt={prompt}");
    tracing::info!(patient = %patient_id, body = ?resp, "response {}", resp.id);
    println!("{0} {0}", msg);
    eprintln!("error for {}", patient_id);
    sentry::capture_message(&format!("failed: {}", prompt), sentry::Level::Error);
}
"#;
        let f = facts(src);
        assert_eq!(
            assign(&f, "msg").value,
            Value::Template(vec![
                Part::Lit("Summarize ".into()),
                Part::Hole(Value::Ident("patient_id".into())),
                Part::Lit(": ".into()),
                Part::Hole(Value::Ident("prompt".into())),
            ])
        );
        let info = call(&f, "info");
        assert_eq!(
            info.args,
            vec![Arg {
                name: None,
                value: Value::Template(vec![
                    Part::Lit("sending prompt ".into()),
                    Part::Hole(Value::Ident("prompt".into()))
                ]),
                span: info.args[0].span.clone(),
            }]
        );
        assert_eq!(at(src, &info.span), "info!(\"sending prompt {}\", prompt)");
        let log = call(&f, "log.info");
        assert_eq!(arg(log, "target").value, Value::Str("llm".into()));
        assert!(
            matches!(&log.args[1].value, Value::Template(p) if p[1] == Part::Hole(Value::Ident("prompt".into())))
        );
        let tr = call(&f, "tracing.info");
        assert_eq!(arg(tr, "patient").value, Value::Ident("patient_id".into()));
        assert_eq!(arg(tr, "body").value, Value::Ident("resp".into()));
        assert!(
            matches!(&tr.args[2].value, Value::Template(p) if p[1] == Part::Hole(Value::Ident("resp.id".into())))
        );
        let p = call(&f, "println");
        assert!(matches!(&p.args[0].value, Value::Template(parts) if parts.len() == 3));
        assert_eq!(p.args.len(), 1);
        assert!(matches!(
            &call(&f, "eprintln").args[0].value,
            Value::Template(_)
        ));
        let s = call(&f, "sentry.capture_message");
        assert!(matches!(&s.args[0].value, Value::Template(_)));
        assert_eq!(s.args[1].value, Value::Ident("sentry.Level.Error".into()));
    }

    #[test]
    fn json_macro_is_an_object() {
        let src = r#"
fn body(prompt: &str) -> serde_json::Value {
    serde_json::json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.2,
        "stream": false,
        "user": std::env::var("USER_ID").ok(),
        "extra": null
    })
}
"#;
        let f = facts(src);
        let a = &f.assigns;
        assert!(a.is_empty());
        // The json! value is the function's tail; check it through a let instead.
        let f = facts(
            &src.replace("serde_json::json!(", "let b = serde_json::json!(")
                .replace("})\n}", "});\n}"),
        );
        let Value::Object(args) = &assign(&f, "b").value else {
            panic!()
        };
        assert_eq!(args[0].name.as_deref(), Some("model"));
        assert_eq!(args[0].value, Value::Str("gpt-4o".into()));
        let Value::Array(msgs) = &args[1].value else {
            panic!()
        };
        let Value::Object(m) = &msgs[0] else { panic!() };
        assert_eq!(m[1].value, Value::Ident("prompt".into()));
        assert_eq!(args[2].value, Value::Number("0.2".into()));
        assert_eq!(args[3].value, Value::Bool(false));
        assert_eq!(
            args[4].value,
            Value::Env {
                name: "USER_ID".into(),
                fallback: None
            }
        );
        assert_eq!(args[5].value, Value::Null);
    }

    #[test]
    fn other_macro_bodies_give_literals() {
        let src = r#"
lazy_static! {
    static ref KEY: String = "sk-live-abc".to_string();
}
html! { <a href="https://api.openai.com">{ "link" }</a> }
"#;
        let f = facts(src);
        let vals: Vec<_> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(vals, ["sk-live-abc", "https://api.openai.com", "link"]);
        assert!(f.calls.iter().any(|c| c.callee == "html"));
    }

    #[test]
    fn environment_reads_and_writes() {
        let src = r#"
const KEY_VAR: &str = "OPENAI_API_KEY";
fn cfg() {
    let a = std::env::var("AZURE_OPENAI_ENDPOINT").expect("endpoint");
    let b = env::var("AZURE_OPENAI_DEPLOYMENT").unwrap_or_else(|_| "gpt4".to_string());
    let c = env!("BUILD_KEY");
    let d = dotenvy::var("DB_URL")?;
    let e = env::var(KEY_VAR).unwrap_or("sk-default".into());
    unsafe { std::env::set_var("OPENAI_BASE_URL", "https://api.openai.com/v1"); }
}
"#;
        let f = facts(src);
        let env = |n: &str, fb: Option<&str>| Value::Env {
            name: n.into(),
            fallback: fb.map(|s| Box::new(Value::Str(s.into()))),
        };
        assert_eq!(assign(&f, "a").value, env("AZURE_OPENAI_ENDPOINT", None));
        assert_eq!(
            assign(&f, "b").value,
            env("AZURE_OPENAI_DEPLOYMENT", Some("gpt4"))
        );
        assert_eq!(assign(&f, "c").value, env("BUILD_KEY", None));
        assert_eq!(assign(&f, "d").value, env("DB_URL", None));
        assert_eq!(
            assign(&f, "e").value,
            env("OPENAI_API_KEY", Some("sk-default"))
        );
        assert_eq!(f.config.len(), 1);
        let c = &f.config[0];
        assert_eq!(c.key, "OPENAI_BASE_URL");
        assert_eq!(c.value, Value::Str("https://api.openai.com/v1".into()));
        assert_eq!(at(src, &c.key_span), "\"OPENAI_BASE_URL\"");
        assert_eq!(at(src, &c.value_span), "\"https://api.openai.com/v1\"");
    }

    #[test]
    fn bindings_and_assignments() {
        let src = r#"
impl Bot {
    fn set(&mut self, notes: Vec<Note>) {
        self.model = "gpt-4o".into();
        let (a, b) = (notes[0].text, other);
        let mut prompt = String::new();
        prompt += &notes[0].text;
        for note in notes.iter() { send(note); }
        if let Some(first) = notes.first() { send(first); }
        let s = "Patient: ".to_string() + &name;
    }
}
"#;
        let f = facts(src);
        assert_eq!(assign(&f, "self.model").value, Value::Str("gpt-4o".into()));
        assert_eq!(
            assign(&f, "a").value,
            Value::Other(vec!["notes[0].text".into(), "other".into()])
        );
        assert_eq!(
            assign(&f, "prompt").value,
            Value::Other(vec!["prompt".into(), "notes[0].text".into()])
        );
        assert!(matches!(&assign(&f, "note").value, Value::Other(_)));
        assert!(matches!(assign(&f, "first").value, Value::Call(_)));
        assert_eq!(
            assign(&f, "s").value,
            Value::Template(vec![
                Part::Lit("Patient: ".into()),
                Part::Hole(Value::Ident("name".into()))
            ])
        );
        assert_eq!(f.scopes[1].name, "set");
        assert_eq!(f.scopes[1].params, ["self", "notes"]);
    }

    #[test]
    fn closures_are_scopes() {
        let src = "fn run(items: Vec<String>) {\n    let sender = move |text: String, n| client.send(text);\n    items.iter().for_each(|i| log(i));\n}\n";
        let f = facts(src);
        assert_eq!(f.scopes.len(), 4);
        assert_eq!(f.scopes[2].name, "<closure>");
        assert_eq!(f.scopes[2].params, ["text", "n"]);
        assert_eq!(f.scopes[2].parent, 1);
        assert_eq!(
            at(src, &f.scopes[2].span),
            "move |text: String, n| client.send(text)"
        );
        assert_eq!(call(&f, "client.send").scope, 2);
        assert_eq!(call(&f, "log").scope, 3);
        assert_eq!(call(&f, "items.iter.for_each").scope, 1);
    }

    #[test]
    fn comments_skip_strings_and_chars() {
        let src = "//! crate doc\n/// item doc\nfn f() {\n    let a = \"// not a comment\";\n    let b = r#\"/* nor \"this\" */\"#;\n    let c = '\"'; // real\n    let d: &'static str = \"x\"; /* outer /* inner */ still */\n}\n";
        let f = facts(src);
        let texts: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "//! crate doc",
                "/// item doc",
                "// real",
                "/* outer /* inner */ still */"
            ]
        );
        for c in &f.comments {
            assert_eq!(at(src, &c.span), c.text);
        }
        let vals: Vec<_> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(vals, ["// not a comment", "/* nor \"this\" */", "x"]);
    }

    #[test]
    fn string_literal_positions() {
        let src = "fn f() {\n    let é = \"héllo\";\n    let k = \"sk-\\u{41}\\n\";\n    let r = br##\"raw\"##;\n}\n";
        let f = facts(src);
        let s = &f.strings;
        assert_eq!(s[0].value, "héllo");
        assert!(s[0].raw_is_value);
        assert_eq!(&src[s[0].content_start..s[0].content_start + 6], "héllo");
        assert_eq!(at(src, &s[0].span), "\"héllo\"");
        assert_eq!(s[1].value, "sk-A\n");
        assert!(!s[1].raw_is_value);
        assert_eq!(at(src, &s[2].span), "br##\"raw\"##");
        assert_eq!(&src[s[2].content_start..s[2].content_start + 3], "raw");
        assert!(s[2].raw_is_value);
    }

    #[test]
    fn bom_shebang_and_crlf() {
        let src = "\u{feff}#!/usr/bin/env rust-script\r\nfn main() {\r\n    let k = \"sk-1\"; // c\r\n    call(k);\r\n}\r\n";
        let f = facts(src);
        assert!(!f.parse_errors);
        assert_eq!(at(src, &f.strings[0].span), "\"sk-1\"");
        assert_eq!(at(src, &call(&f, "call").span), "call(k)");
        assert_eq!(f.comments[0].text, "// c");
    }

    #[test]
    fn broken_items_are_skipped() {
        let src = "use async_openai::Client;\nfn ok() { let k = \"sk-abc\"; }\nfn broken() { let x = = \"inside broken\"; }\nfn good() { let c = Client::new(); }\n";
        let f = facts(src);
        assert!(f.parse_errors);
        assert_eq!(f.imports.len(), 1);
        assert_eq!(call(&f, "Client.new").scope, 2);
        let vals: Vec<_> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(vals, ["sk-abc", "inside broken"]);
    }

    #[test]
    fn unlexable_files_fall_back_to_a_literal_scan() {
        let src = "fn f() {\n    let key = \"sk-proj-abc\"; // key\n    let t = (1, 2];\n    let u = r#\"raw\"#;\n}\n";
        let f = facts(src);
        assert!(f.parse_errors);
        assert!(!f.notes.is_empty());
        let vals: Vec<_> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(vals, ["sk-proj-abc", "raw"]);
        assert_eq!(at(src, &f.strings[1].span), "r#\"raw\"#");
        assert_eq!(f.comments[0].text, "// key");
    }

    #[test]
    fn deep_nesting_skips_the_parser() {
        let deep = format!(
            "fn f() {{ let a = {}1{}; let s = \"kept\"; }}",
            "(".repeat(800),
            ")".repeat(800)
        );
        let f = facts(&deep);
        assert!(f.parse_errors);
        assert!(f.notes[0].contains("nest"));
        assert_eq!(f.strings[0].value, "kept");
        let deeper = format!("let s = \"kept\"; {}", "[".repeat(200_000));
        let f = facts(&deeper);
        assert_eq!(f.strings[0].value, "kept");
        let long = format!(
            "fn f() {{ let a = x{}; let b = a{}; }}",
            ".f(1)".repeat(5000),
            " + a".repeat(5000)
        );
        let f = facts(&long);
        assert_eq!(f.calls.len(), 5000);
        assert_eq!(assign(&f, "b").value, Value::Other(vec!["a".into()]));
    }

    /// A tiny deterministic generator for robustness loops.
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

    #[test]
    fn never_panics_on_mangled_input() {
        let base = r##"use async_openai::{Client, config::AzureConfig};
/// doc ü
async fn go(p: &str) -> Result<()> {
    let c = AzureConfig::new().with_api_base("https://x.openai.azure.com").with_api_key(env!("K"));
    info!(user = %p, "sent {p} {}", 1);
    let r = r#"raw "x""#; let ch = '\''; let l: &'static str = "é";
    let j = json!({"a": [1, {"b": p}], "c": null});
    Client::with_config(c).chat().create(Req { model: "m".into(), ..Default::default() }).await?;
    /* c /* n */ */ Ok(())
}
"##;
        let pieces = [
            "(", ")", "{", "}", "\"", "r#\"", "'", "/*", "//", "!", "?", ".", "::", "é", "\n",
            "#[", "|x|", ",", "=", "json!{",
        ];
        let mut rng = Rng(0x9E3779B97F4A7C15);
        for _ in 0..300 {
            let mut s = base.to_string();
            for _ in 0..1 + rng.below(4) {
                let mut at = rng.below(s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.below(3) {
                    0 => s.insert_str(at, pieces[rng.below(pieces.len())]),
                    1 => s.truncate(at),
                    _ => {
                        let mut end = (at + rng.below(20)).min(s.len());
                        while !s.is_char_boundary(end) {
                            end -= 1;
                        }
                        s.replace_range(at..end, "");
                    }
                }
            }
            let f = facts(&s);
            let ok = |sp: &Span| {
                sp.start <= sp.end
                    && sp.end <= s.len()
                    && s.is_char_boundary(sp.start)
                    && s.is_char_boundary(sp.end)
            };
            for c in &f.calls {
                assert!(ok(&c.span) && ok(&c.callee_span), "{s}");
            }
            for l in &f.strings {
                assert!(ok(&l.span), "{s}");
            }
            for c in &f.comments {
                assert!(ok(&c.span), "{s}");
            }
        }
    }

    #[test]
    fn multibyte_text_before_tokens_keeps_byte_offsets() {
        let src = "// 日本語のコメント\nfn f() { let 名前 = \"東京\"; send(名前, \"ok\"); }\n";
        let f = facts(src);
        let c = call(&f, "send");
        assert_eq!(at(src, &c.span), "send(名前, \"ok\")");
        assert_eq!(at(src, &c.args[0].span), "名前");
        assert_eq!(at(src, &f.strings[0].span), "\"東京\"");
    }
}
