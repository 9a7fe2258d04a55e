//! Python frontend: turns one Python file into [`Facts`] with tree-sitter-python.
//!
//! One depth-guarded recursive walk visits every node once and records imports (with aliases),
//! calls (decorators included), the value kind of every argument and assignment, environment
//! reads and writes, string literals, comments and docstrings, and function scopes. It does not
//! evaluate anything, follow data flow or resolve names across files: that is the engine's job
//! on the facts. Notebooks reuse it cell by cell through `lang::notebook`.

use tree_sitter::Node;

use super::treesitter::{self as ts, Chain, Escapes, Walk, PLACEHOLDER, STRING_METHODS};
use crate::facts::{Arg, ConfigEntry, Facts, Part, Span, Value};

/// Extracts the facts of one Python file.
pub fn facts(text: &str) -> Facts {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    let Some(tree) = ts::parse(&language, text) else {
        let mut facts = Facts::new();
        facts.notes.push(
            "the Python parser gave up on this file (time budget); it was not analysed".into(),
        );
        return facts;
    };
    let root = tree.root_node();
    let mut py = Py {
        w: Walk::new(text, root),
        class_body: false,
    };
    py.block(root);
    py.w.finish()
}

struct Py<'t> {
    w: Walk<'t>,
    /// Directly inside a class body (not inside one of its methods): plain assignments there
    /// are also recorded as `self.name`, since methods read them that way.
    class_body: bool,
}

/// Node kinds that are expressions, so a statement-level visit computes their value.
fn is_expression(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "attribute"
            | "subscript"
            | "call"
            | "string"
            | "concatenated_string"
            | "integer"
            | "float"
            | "true"
            | "false"
            | "none"
            | "list"
            | "tuple"
            | "set"
            | "dictionary"
            | "list_comprehension"
            | "dictionary_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "binary_operator"
            | "boolean_operator"
            | "comparison_operator"
            | "not_operator"
            | "unary_operator"
            | "conditional_expression"
            | "lambda"
            | "await"
            | "parenthesized_expression"
            | "named_expression"
            | "yield"
            | "list_splat"
            | "dictionary_splat"
            | "expression_list"
    )
}

/// The string prefix letters (`f`, `rb`, ...) of a literal, lowercased.
fn prefix_of(literal: &str) -> String {
    literal
        .chars()
        .take_while(|c| *c != '"' && *c != '\'')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_interpolated(prefix: &str) -> bool {
    prefix.contains('f') || prefix.contains('t')
}

impl<'t> Py<'t> {
    // ---- statements ---------------------------------------------------------------------

    /// A module or block: its statements, with bare string statements (docstrings and the
    /// like, which have no effect at run time) recorded as comments.
    fn block(&mut self, node: Node<'t>) {
        let kids = self.w.kids(node);
        for &(_, n) in &kids {
            if n.is_named() && !self.bare_string(n) {
                self.stmt(n);
            }
        }
        self.w.put(kids);
    }

    fn bare_string(&mut self, n: Node<'t>) -> bool {
        if n.kind() != "expression_statement" || n.named_child_count() != 1 {
            return false;
        }
        let Some(s) = n.named_child(0) else {
            return false;
        };
        let plain = match s.kind() {
            "string" => !is_interpolated(&prefix_of(self.w.text(s))),
            "concatenated_string" => (0..s.named_child_count()).all(|i| {
                s.named_child(i).is_some_and(|c| {
                    c.kind() == "string" && !is_interpolated(&prefix_of(self.w.text(c)))
                })
            }),
            _ => false,
        };
        if plain {
            self.w.facts.comments.push(crate::facts::Comment {
                text: self.w.text(s).to_string(),
                span: s.byte_range(),
            });
        }
        plain
    }

    fn stmt(&mut self, n: Node<'t>) {
        if !self.w.enter() {
            return;
        }
        match n.kind() {
            "expression_statement" => self.expression_statement(n),
            "import_statement" => self.import(n),
            "import_from_statement" => self.import_from(n),
            "function_definition" => self.function(n),
            "class_definition" => self.class(n),
            "decorated_definition" => self.decorated(n),
            "for_statement" => self.for_statement(n),
            "with_item" => self.with_item(n),
            "block" | "module" => self.block(n),
            "future_import_statement" => {}
            "return_statement" => self.return_statement(n),
            k if is_expression(k) => {
                self.value(n);
            }
            _ => self.generic(n),
        }
        self.w.leave();
    }

    /// `return x` is recorded as an assignment to `return` in the function's scope, so flow
    /// can tell which functions hand back LLM content.
    fn return_statement(&mut self, n: Node<'t>) {
        if let Some(e) = self.w.first_named(n) {
            let v = self.value(e);
            self.w.assign("return".into(), v, e.byte_range());
        }
    }

    fn generic(&mut self, n: Node<'t>) {
        if n.child_count() == 0 {
            return;
        }
        let kids = self.w.kids(n);
        for &(_, k) in &kids {
            if k.is_named() {
                self.stmt(k);
            }
        }
        self.w.put(kids);
    }

    fn expression_statement(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        for &(_, k) in &kids {
            match k.kind() {
                "assignment" => {
                    self.assignment(k, false);
                }
                "augmented_assignment" => self.augmented(k),
                _ if k.is_named() => {
                    self.value(k);
                }
                _ => {}
            }
        }
        self.w.put(kids);
    }

    /// `left = right` (possibly chained or annotated). Returns the assigned value when the
    /// caller is an outer link of a chain `a = b = v` and asked for it.
    fn assignment(&mut self, n: Node<'t>, want: bool) -> Option<(Value, Span)> {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        let annotation = ts::field(&kids, "type");
        self.w.put(kids);
        if let Some(t) = annotation {
            self.stmt(t);
        }
        let right = right?;
        let (value, span) = if right.kind() == "assignment" {
            self.assignment(right, true)?
        } else {
            (self.value(right), right.byte_range())
        };
        let back = want.then(|| (value.clone(), span.clone()));
        if let Some(l) = left {
            self.bind(l, value, span);
        }
        back
    }

    /// Records `target = value` for a target pattern; tuples bind element-wise when the value
    /// is a tuple of the same length, otherwise each name gets what the whole value reads.
    fn bind(&mut self, t: Node<'t>, value: Value, span: Span) {
        if !self.w.enter() {
            return;
        }
        match t.kind() {
            "identifier" => {
                let name = self.w.text(t).to_string();
                if self.class_body {
                    self.w.assign(name.clone(), value.clone(), span.clone());
                    self.w.assign(format!("self.{name}"), value, span);
                } else {
                    self.w.assign(name, value, span);
                }
            }
            "attribute" | "subscript" => {
                let c = self.chain(t);
                match c.env {
                    Some((Value::Env { name, .. }, key_span)) => {
                        self.w.facts.config.push(ConfigEntry {
                            key: name,
                            value,
                            key_span,
                            value_span: span,
                            block: None,
                        })
                    }
                    _ => self.w.assign(c.target(), value, span),
                }
            }
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "expression_list"
            | "parenthesized_expression"
            | "as_pattern_target" => {
                let kids = self.w.kids(t);
                let targets: Vec<Node<'t>> = kids
                    .iter()
                    .filter(|k| k.1.is_named())
                    .map(|k| k.1)
                    .collect();
                self.w.put(kids);
                match value {
                    Value::Array(items) if items.len() == targets.len() => {
                        for (t, v) in targets.into_iter().zip(items) {
                            self.bind(t, v, span.clone());
                        }
                    }
                    other => {
                        let shared = self.spread(other);
                        for t in targets {
                            self.bind(t, shared.clone(), span.clone());
                        }
                    }
                }
            }
            "list_splat_pattern" | "list_splat" => {
                let kids = self.w.kids(t);
                let inner = ts::first_named(&kids);
                self.w.put(kids);
                if let Some(i) = inner {
                    let v = self.spread(value);
                    self.bind(i, v, span);
                }
            }
            _ => self.stmt(t),
        }
        self.w.leave();
    }

    /// What each name of a destructuring gets from a value it cannot split.
    fn spread(&self, v: Value) -> Value {
        match v {
            Value::Call(i) => Value::Call(i),
            other => Value::Other(self.w.refs_of(other)),
        }
    }

    fn augmented(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        self.w.put(kids);
        let (Some(left), Some(right)) = (left, right) else {
            return;
        };
        let target = self.chain(left).target();
        let v = self.value(right);
        let mut refs = vec![target.clone()];
        ts::into_refs(v, &mut refs, &self.w.facts.calls);
        self.w
            .assign(target, Value::Other(refs), right.byte_range());
    }

    fn for_statement(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        let rest: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.is_named() && !matches!(k.0, Some("left" | "right")))
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        if let Some(r) = right {
            let v = self.value(r);
            let refs = self.w.iter_refs(v);
            if let Some(l) = left {
                self.bind_loop(l, r, refs);
            }
        }
        for k in rest {
            self.stmt(k);
        }
    }

    /// A comprehension's `for x in xs`: binds `x` like a loop and returns what `xs` reads.
    fn for_in_clause(&mut self, n: Node<'t>) -> Vec<String> {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        self.w.put(kids);
        let Some(r) = right else {
            return Vec::new();
        };
        let v = self.value(r);
        let refs = self.w.iter_refs(v);
        if let Some(l) = left {
            self.bind_loop(l, r, refs.clone());
        }
        refs
    }

    /// Binds a loop's (or a comprehension's) targets to what the iterable reads. The keys of
    /// `for key, value in d.items()` are the dict's keys and the counter of
    /// `for i, item in enumerate(xs)` is a position: neither reads the iterable's content.
    fn bind_loop(&mut self, l: Node<'t>, r: Node<'t>, refs: Vec<String>) {
        let pair =
            matches!(l.kind(), "pattern_list" | "tuple_pattern") && l.named_child_count() == 2;
        let text = self.w.text(r).trim_end();
        let items_call =
            r.kind() == "call" && text.trim_end_matches(')').trim_end().ends_with(".items(");
        let enumerate_call = r.kind() == "call" && text.starts_with("enumerate(");
        if pair && (items_call || enumerate_call) {
            let (k, v) = (l.named_child(0), l.named_child(1));
            if let Some(k) = k {
                self.bind(k, Value::Other(Vec::new()), r.byte_range());
            }
            if let Some(v) = v {
                self.bind(v, Value::Other(refs), r.byte_range());
            }
        } else {
            self.bind(l, Value::Other(refs), r.byte_range());
        }
    }

    /// A comprehension's value is what its element reads (`[p.name for p in params]` reads
    /// `p.name`); the loop variables are bound to the iterables, so content still flows
    /// through `[m.text for m in messages]`, while filters and iterables add nothing of their own.
    fn comprehension(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let body = ts::field(&kids, "body");
        let rest: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.is_named() && k.0 != Some("body"))
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        let Some(body) = body else {
            return self.other(n);
        };
        for k in rest {
            if k.kind() == "for_in_clause" {
                self.for_in_clause(k);
            } else {
                self.value(k);
            }
        }
        let v = if body.kind() == "pair" {
            self.other(body)
        } else {
            self.value(body)
        };
        Value::Array(vec![v])
    }

    /// `a if cond else b` is `a` or `b`; the condition is read but not passed on.
    fn conditional(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let parts: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.is_named() && k.1.kind() != "comment")
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        if parts.len() != 3 {
            return self.other(n);
        }
        let a = self.value(parts[0]);
        self.value(parts[1]);
        let b = self.value(parts[2]);
        Value::Array(vec![a, b])
    }

    fn with_item(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let value = ts::field(&kids, "value");
        self.w.put(kids);
        let Some(value) = value else {
            return;
        };
        if value.kind() != "as_pattern" {
            self.value(value);
            return;
        }
        let kids = self.w.kids(value);
        let alias = ts::field(&kids, "alias");
        let expr = kids
            .iter()
            .find(|k| k.1.is_named() && k.0.is_none())
            .map(|k| k.1);
        self.w.put(kids);
        if let Some(e) = expr {
            let v = self.value(e);
            match alias {
                Some(a) => {
                    let kids = self.w.kids(a);
                    let target = ts::first_named(&kids);
                    self.w.put(kids);
                    if let Some(t) = target {
                        self.bind(t, v, e.byte_range());
                    }
                }
                None => drop(v),
            }
        }
    }

    fn import(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        for &(f, k) in &kids {
            if f != Some("name") {
                continue;
            }
            match k.kind() {
                "dotted_name" => {
                    let path = ts::compact(k, self.w.src);
                    self.w.import(path.clone(), path, k.byte_range());
                }
                "aliased_import" => {
                    let (path, alias) = self.aliased(k);
                    let local = alias.unwrap_or_else(|| path.clone());
                    self.w.import(local, path, k.byte_range());
                }
                _ => {}
            }
        }
        self.w.put(kids);
    }

    /// `a.b as c` → (`a.b`, Some(`c`)).
    fn aliased(&mut self, n: Node<'t>) -> (String, Option<String>) {
        let kids = self.w.kids(n);
        let name = ts::field(&kids, "name").map(|x| ts::compact(x, self.w.src));
        let alias = ts::field(&kids, "alias").map(|x| self.w.text(x).to_string());
        self.w.put(kids);
        (name.unwrap_or_default(), alias)
    }

    fn import_from(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let module = ts::field(&kids, "module_name")
            .map(|m| ts::compact(m, self.w.src))
            .unwrap_or_default();
        let join = |name: &str| {
            if module.ends_with('.') {
                format!("{module}{name}")
            } else {
                format!("{module}.{name}")
            }
        };
        for &(f, k) in &kids {
            match (f, k.kind()) {
                (Some("name"), "dotted_name") => {
                    let name = ts::compact(k, self.w.src);
                    let path = join(&name);
                    self.w.import(name, path, k.byte_range());
                }
                (Some("name"), "aliased_import") => {
                    let (name, alias) = self.aliased(k);
                    let path = join(&name);
                    self.w.import(alias.unwrap_or(name), path, k.byte_range());
                }
                (_, "wildcard_import") => {
                    self.w.import(String::new(), module.clone(), k.byte_range())
                }
                _ => {}
            }
        }
        self.w.put(kids);
    }

    fn function(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let name = ts::field(&kids, "name").map(|x| self.w.text(x).to_string());
        let params = ts::field(&kids, "parameters");
        let body = ts::field(&kids, "body");
        let returns = ts::field(&kids, "return_type");
        self.w.put(kids);
        if let Some(r) = returns {
            self.stmt(r);
        }
        let prev = self.w.open_scope(name.unwrap_or_default(), n.byte_range());
        let was_class = std::mem::replace(&mut self.class_body, false);
        if let Some(p) = params {
            self.params(p);
        }
        if let Some(b) = body {
            self.stmt(b);
        }
        self.class_body = was_class;
        self.w.scope = prev;
    }

    /// Parameters of the current scope; default values become assignments in it.
    fn params(&mut self, p: Node<'t>) {
        let kids = self.w.kids(p);
        for &(_, k) in &kids {
            let name = match k.kind() {
                "identifier"
                | "list_splat_pattern"
                | "dictionary_splat_pattern"
                | "tuple_pattern" => Some(self.param_name(k)),
                "typed_parameter" => {
                    let kk = self.w.kids(k);
                    let target = ts::first_named(&kk);
                    let ty = ts::field(&kk, "type");
                    self.w.put(kk);
                    if let Some(t) = ty {
                        self.stmt(t);
                    }
                    target.map(|t| self.param_name(t))
                }
                "default_parameter" | "typed_default_parameter" => {
                    let kk = self.w.kids(k);
                    let target = ts::field(&kk, "name");
                    let ty = ts::field(&kk, "type");
                    let value = ts::field(&kk, "value");
                    self.w.put(kk);
                    if let Some(t) = ty {
                        self.stmt(t);
                    }
                    let name = target.map(|t| self.param_name(t));
                    if let (Some(name), Some(v)) = (&name, value) {
                        let val = self.value(v);
                        self.w.assign(name.clone(), val, v.byte_range());
                    }
                    name
                }
                _ => None,
            };
            if let Some(name) = name {
                let scope = self.w.scope;
                self.w.facts.scopes[scope].params.push(name);
            }
        }
        self.w.put(kids);
    }

    fn param_name(&self, n: Node<'t>) -> String {
        ts::compact(n, self.w.src)
            .trim_start_matches('*')
            .to_string()
    }

    fn lambda(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let params = ts::field(&kids, "parameters");
        let body = ts::field(&kids, "body");
        self.w.put(kids);
        let prev = self.w.open_scope("<lambda>".into(), n.byte_range());
        let was_class = std::mem::replace(&mut self.class_body, false);
        if let Some(p) = params {
            self.params(p);
        }
        let refs = match body {
            Some(b) => {
                let v = self.value(b);
                self.w.refs_of(v)
            }
            None => Vec::new(),
        };
        self.class_body = was_class;
        self.w.scope = prev;
        Value::Other(refs)
    }

    fn class(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let bases = ts::field(&kids, "superclasses");
        let body = ts::field(&kids, "body");
        self.w.put(kids);
        if let Some(b) = bases {
            self.stmt(b);
        }
        if let Some(b) = body {
            let was = std::mem::replace(&mut self.class_body, true);
            self.stmt(b);
            self.class_body = was;
        }
    }

    fn decorated(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        for &(f, k) in &kids {
            if k.kind() == "decorator" {
                self.decorator(k);
            } else if f == Some("definition") {
                self.stmt(k);
            }
        }
        self.w.put(kids);
    }

    /// `@observe(capture_input=True)` is a call; bare `@observe` is a call with no arguments.
    fn decorator(&mut self, d: Node<'t>) {
        let kids = self.w.kids(d);
        let expr = ts::first_named(&kids);
        self.w.put(kids);
        let Some(expr) = expr else {
            return;
        };
        if expr.kind() == "call" {
            let (i, _) = self.call(expr);
            self.w.facts.calls[i].decorator = true;
            return;
        }
        let i = self.w.reserve_call(expr.byte_range());
        let c = self.chain(expr);
        let call = &mut self.w.facts.calls[i];
        call.callee = c.callee;
        call.callee_span = expr.byte_range();
        call.decorator = true;
    }

    // ---- expressions ----------------------------------------------------------------------

    fn value(&mut self, n: Node<'t>) -> Value {
        if !self.w.enter() {
            return Value::Other(Vec::new());
        }
        let v = match n.kind() {
            "identifier" => Value::Ident(self.w.text(n).to_string()),
            "attribute" | "subscript" => {
                let c = self.chain(n);
                self.w.chain_value(c)
            }
            "call" => self.call(n).1,
            "string" => self.string(n),
            "concatenated_string" => self.concatenated(n),
            "integer" | "float" => Value::Number(self.w.text(n).to_string()),
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "none" => Value::Null,
            "parenthesized_expression" | "await" => self.inner(n),
            "list" | "tuple" | "set" | "expression_list" | "pattern_list" => self.array(n),
            "dictionary" => self.dictionary(n),
            "binary_operator" => self.binary(n),
            "boolean_operator" => self.boolean(n),
            "unary_operator" => self.unary(n),
            "lambda" => self.lambda(n),
            "named_expression" => self.walrus(n),
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(n),
            "conditional_expression" => self.conditional(n),
            _ => self.other(n),
        };
        self.w.leave();
        v
    }

    /// The value of the single expression inside parentheses or `await`.
    fn inner(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let inner = ts::first_named(&kids);
        let count = kids.iter().filter(|k| k.1.is_named()).count();
        self.w.put(kids);
        match inner {
            Some(i) if count == 1 => self.value(i),
            _ => self.other(n),
        }
    }

    /// Anything without a more specific kind: the names it reads.
    fn other(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut refs = Vec::new();
        for &(_, k) in &kids {
            if !k.is_named() {
                continue;
            }
            if k.kind() == "for_in_clause" {
                let r = self.for_in_clause(k);
                refs.extend(r);
                continue;
            }
            let v = self.value(k);
            ts::into_refs(v, &mut refs, &self.w.facts.calls);
        }
        self.w.put(kids);
        Value::Other(refs)
    }

    fn array(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut items = Vec::new();
        for &(_, k) in &kids {
            if !k.is_named() {
                continue;
            }
            let v = self.value(k);
            items.push(match k.kind() {
                "list_splat" | "parenthesized_list_splat" => Value::Other(self.w.refs_of(v)),
                _ => v,
            });
        }
        self.w.put(kids);
        Value::Array(items)
    }

    fn dictionary(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut args = Vec::new();
        for &(_, k) in &kids {
            match k.kind() {
                "pair" => {
                    let kk = self.w.kids(k);
                    let key = ts::field(&kk, "key");
                    let value = ts::field(&kk, "value");
                    self.w.put(kk);
                    let name = match key.map(|key| self.value(key)) {
                        Some(Value::Str(s)) => Some(s),
                        Some(Value::Number(t)) => Some(t),
                        _ => None,
                    };
                    if let Some(v) = value {
                        let val = self.value(v);
                        args.push(Arg {
                            name,
                            value: val,
                            span: v.byte_range(),
                        });
                    }
                }
                "dictionary_splat" => {
                    let v = self.value(k);
                    args.push(Arg {
                        name: None,
                        value: Value::Other(self.w.refs_of(v)),
                        span: k.byte_range(),
                    });
                }
                _ if k.is_named() => {
                    self.value(k);
                }
                _ => {}
            }
        }
        self.w.put(kids);
        Value::Object(args)
    }

    fn binary(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        let op = ts::field(&kids, "operator").map(|o| self.w.text(o));
        self.w.put(kids);
        let l = left.map_or(Value::Null, |x| self.value(x));
        let r = right.map_or(Value::Null, |x| self.value(x));
        match (op, l) {
            (Some("+"), l) if ts::is_stringy(&l) || ts::is_stringy(&r) => ts::concat(l, r),
            (Some("%"), Value::Str(fmt)) => ts::percent_format(&fmt, r),
            (_, l) => {
                let mut refs = self.w.refs_of(l);
                ts::into_refs(r, &mut refs, &self.w.facts.calls);
                Value::Other(refs)
            }
        }
    }

    /// `os.getenv("X") or "fallback"` keeps the environment read and gains the fallback.
    fn boolean(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        let op = ts::field(&kids, "operator").map(|o| self.w.text(o));
        self.w.put(kids);
        let l = left.map_or(Value::Null, |x| self.value(x));
        let r = right.map_or(Value::Null, |x| self.value(x));
        match (op, l) {
            (
                Some("or"),
                Value::Env {
                    name,
                    fallback: None,
                },
            ) => Value::Env {
                name,
                fallback: Some(Box::new(r)),
            },
            (_, l) => {
                let mut refs = self.w.refs_of(l);
                ts::into_refs(r, &mut refs, &self.w.facts.calls);
                Value::Other(refs)
            }
        }
    }

    fn unary(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let op = ts::field(&kids, "operator").map(|o| self.w.text(o));
        let arg = ts::field(&kids, "argument");
        self.w.put(kids);
        let v = arg.map_or(Value::Null, |a| self.value(a));
        match (op, v) {
            (Some(op @ ("-" | "+")), Value::Number(t)) => Value::Number(format!("{op}{t}")),
            (_, v) => Value::Other(self.w.refs_of(v)),
        }
    }

    fn walrus(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let name = ts::field(&kids, "name").map(|x| self.w.text(x).to_string());
        let value = ts::field(&kids, "value");
        self.w.put(kids);
        let Some(value) = value else {
            return Value::Null;
        };
        let v = self.value(value);
        if let Some(name) = name {
            self.w.assign(name, v.clone(), value.byte_range());
        }
        v
    }

    /// A string literal; an f-string becomes a template and a `raw_is_value: false` literal
    /// whose text has `{}` for each hole.
    fn string(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let src = self.w.src;
        let start = kids
            .iter()
            .find(|k| k.1.kind() == "string_start")
            .map(|k| k.1);
        let end = kids
            .iter()
            .rev()
            .find(|k| k.1.kind() == "string_end")
            .map(|k| k.1);
        let content_start = start.map_or(n.start_byte(), |s| s.end_byte());
        let content_end = end
            .map_or(n.end_byte(), |e| e.start_byte())
            .max(content_start);
        let prefix = start.map(|s| prefix_of(self.w.text(s))).unwrap_or_default();
        let raw = prefix.contains('r');
        let interpolated = is_interpolated(&prefix);
        let decode = |chunk: &str| -> String {
            if interpolated && (chunk.contains("{{") || chunk.contains("}}")) {
                let chunk = chunk.replace("{{", "{").replace("}}", "}");
                if raw {
                    chunk
                } else {
                    ts::unescape(&chunk, Escapes::Python)
                }
            } else if raw {
                chunk.to_string()
            } else {
                ts::unescape(chunk, Escapes::Python)
            }
        };
        let holes: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.kind() == "interpolation")
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        let body = src.get(content_start..content_end).unwrap_or("");
        if holes.is_empty() {
            let value = decode(body);
            let exact = value == body;
            self.w
                .string(value.clone(), n.byte_range(), content_start, exact);
            return Value::Str(value);
        }
        let mut parts = Vec::new();
        let mut shown = String::new();
        let mut pos = content_start;
        for h in holes {
            let lit = decode(src.get(pos..h.start_byte()).unwrap_or(""));
            shown.push_str(&lit);
            shown.push_str("{}");
            if !lit.is_empty() {
                ts::push_part(&mut parts, Part::Lit(lit));
            }
            let kids = self.w.kids(h);
            let expr = ts::field(&kids, "expression");
            self.w.put(kids);
            let v = expr.map_or(Value::Other(Vec::new()), |e| self.value(e));
            parts.push(Part::Hole(v));
            pos = h.end_byte();
        }
        let lit = decode(src.get(pos..content_end).unwrap_or(""));
        shown.push_str(&lit);
        if !lit.is_empty() {
            ts::push_part(&mut parts, Part::Lit(lit));
        }
        self.w.string(shown, n.byte_range(), content_start, false);
        Value::Template(parts)
    }

    /// `"a" "b"` joins; with an f-string among the pieces it is one template.
    fn concatenated(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut acc: Option<Value> = None;
        for &(_, k) in &kids {
            if k.kind() != "string" {
                continue;
            }
            let v = self.string(k);
            acc = Some(match (acc, v) {
                (None, v) => v,
                (Some(Value::Str(mut a)), Value::Str(b)) => {
                    a.push_str(&b);
                    Value::Str(a)
                }
                (Some(a), b) => ts::concat(a, b),
            });
        }
        self.w.put(kids);
        acc.unwrap_or(Value::Str(String::new()))
    }

    /// A member chain (`a.b[0].c`), as a callee and as a value, with environment reads
    /// (`os.environ["X"]`, `st.secrets["X"]`) recognised.
    fn chain(&mut self, n: Node<'t>) -> Chain {
        if !self.w.enter() {
            return Chain::from_value(Value::Other(Vec::new()), PLACEHOLDER);
        }
        let c = match n.kind() {
            "identifier" => Chain::name(self.w.text(n)),
            "attribute" => {
                let kids = self.w.kids(n);
                let object = ts::field(&kids, "object");
                let attr = ts::field(&kids, "attribute");
                self.w.put(kids);
                let mut c = match object {
                    Some(o) => self.chain(o),
                    None => Chain::name(PLACEHOLDER),
                };
                if let Some(a) = attr {
                    c.member(self.w.text(a));
                }
                c
            }
            "subscript" => self.subscript(n),
            "call" => {
                let (i, v) = self.call(n);
                Chain::from_call(i, v, &self.w.facts.calls, n.byte_range())
            }
            "parenthesized_expression" | "await" => {
                let kids = self.w.kids(n);
                let inner = ts::first_named(&kids);
                let count = kids.iter().filter(|k| k.1.is_named()).count();
                self.w.put(kids);
                match inner {
                    Some(i) if count == 1 => self.chain(i),
                    _ => Chain::from_value(self.other(n), PLACEHOLDER),
                }
            }
            "string" | "concatenated_string" => Chain::from_value(self.value(n), "str"),
            _ => Chain::from_value(self.value(n), PLACEHOLDER),
        };
        self.w.leave();
        c
    }

    fn subscript(&mut self, n: Node<'t>) -> Chain {
        let kids = self.w.kids(n);
        let object = ts::field(&kids, "value");
        let mut keys = kids
            .iter()
            .filter(|k| k.0 == Some("subscript"))
            .map(|k| k.1);
        let key = keys.next();
        let more: Vec<Node<'t>> = keys.collect();
        self.w.put(kids);
        let mut c = match object {
            Some(o) => self.chain(o),
            None => Chain::name(PLACEHOLDER),
        };
        if let Some(key) = key {
            let literal = more.is_empty()
                && matches!(key.kind(), "string" | "concatenated_string" | "integer");
            let kv = self.value(key);
            match kv {
                Value::Str(s) if literal => {
                    let env = c.pure && c.call.is_none() && self.is_env_mapping(&c.ident);
                    c.index(&format!("\"{s}\""));
                    if env {
                        c.env = Some((
                            Value::Env {
                                name: s,
                                fallback: None,
                            },
                            key.byte_range(),
                        ));
                    }
                }
                Value::Number(t) if literal => c.index(&t),
                other => c.dynamic(other, &self.w.facts.calls),
            }
        }
        for k in more {
            let v = self.value(k);
            c.dynamic(v, &self.w.facts.calls);
        }
        c
    }

    fn is_env_mapping(&self, ident: &str) -> bool {
        if !(ident.ends_with("environ") || ident.ends_with("secrets")) {
            return false;
        }
        ident == "st.secrets"
            || matches!(
                self.w.qualify(ident).as_ref(),
                "os.environ" | "streamlit.secrets"
            )
    }

    fn call(&mut self, n: Node<'t>) -> (usize, Value) {
        let idx = self.w.reserve_call(n.byte_range());
        let kids = self.w.kids(n);
        let function = ts::field(&kids, "function");
        let arguments = ts::field(&kids, "arguments");
        self.w.put(kids);
        let c = match function {
            Some(f) => self.chain(f),
            None => Chain::name(PLACEHOLDER),
        };
        if let Some(j) = c.call {
            self.w.facts.calls[j].chained_into = Some(idx);
        }
        let mut args = Vec::new();
        if let Some(a) = arguments {
            if a.kind() == "argument_list" {
                self.arguments(a, &mut args);
            } else {
                let v = self.value(a);
                args.push(Arg {
                    name: None,
                    value: v,
                    span: a.byte_range(),
                });
            }
        }
        let value = self.call_value(idx, &c, &args);
        let call = &mut self.w.facts.calls[idx];
        call.callee = c.callee;
        call.callee_span = function.map_or(0..0, |f| f.byte_range());
        call.args = args;
        (idx, value)
    }

    /// What a call evaluates to: an environment read, a format template, or its result.
    /// Environment writes are recorded here too.
    fn call_value(&mut self, idx: usize, c: &Chain, args: &[Arg]) -> Value {
        let maybe_env = matches!(
            c.last(),
            "getenv" | "get" | "setdefault" | "putenv" | "update"
        );
        if maybe_env && c.pure && c.call.is_none() {
            let q = self.w.qualify(&c.callee).into_owned();
            match q.as_str() {
                "os.getenv" | "os.environ.get" | "streamlit.secrets.get" | "st.secrets.get" => {
                    if let Some(v) = env_read(args) {
                        return v;
                    }
                }
                "os.environ.setdefault" => {
                    self.env_write(args);
                    if let Some(v) = env_read(args) {
                        return v;
                    }
                }
                "os.putenv" => self.env_write(args),
                "os.environ.update" => self.env_update(args),
                _ => {}
            }
        }
        if c.segments == 1 && c.last() == "format" {
            if let Some(Value::Str(fmt)) = &c.root {
                return ts::brace_format(fmt, args);
            }
        }
        if let Some(env) = &c.prev_env {
            if STRING_METHODS.contains(&c.last()) {
                return env.clone();
            }
        }
        Value::Call(idx)
    }

    fn env_write(&mut self, args: &[Arg]) {
        let mut positional = args.iter().filter(|a| a.name.is_none());
        let (Some(key), value) = (positional.next(), positional.next()) else {
            return;
        };
        let Value::Str(name) = &key.value else {
            return;
        };
        self.w.facts.config.push(ConfigEntry {
            key: name.clone(),
            value: value.map_or(Value::Null, |v| v.value.clone()),
            key_span: key.span.clone(),
            value_span: value.map_or(key.span.clone(), |v| v.span.clone()),
            block: None,
        });
    }

    /// `os.environ.update({"X": "v"})` and `os.environ.update(X="v")`.
    fn env_update(&mut self, args: &[Arg]) {
        for a in args {
            let entries: &[Arg] = match &a.value {
                Value::Object(items) if a.name.is_none() => items,
                _ if a.name.is_some() => std::slice::from_ref(a),
                _ => continue,
            };
            for e in entries {
                if let Some(name) = &e.name {
                    self.w.facts.config.push(ConfigEntry {
                        key: name.clone(),
                        value: e.value.clone(),
                        key_span: e.span.clone(),
                        value_span: e.span.clone(),
                        block: None,
                    });
                }
            }
        }
    }

    fn arguments(&mut self, a: Node<'t>, out: &mut Vec<Arg>) {
        let kids = self.w.kids(a);
        for &(_, k) in &kids {
            if !k.is_named() {
                continue;
            }
            match k.kind() {
                "keyword_argument" => {
                    let kk = self.w.kids(k);
                    let name = ts::field(&kk, "name").map(|x| self.w.text(x).to_string());
                    let value = ts::field(&kk, "value");
                    self.w.put(kk);
                    if let Some(v) = value {
                        let val = self.value(v);
                        out.push(Arg {
                            name,
                            value: val,
                            span: v.byte_range(),
                        });
                    }
                }
                "list_splat" | "dictionary_splat" => {
                    let kk = self.w.kids(k);
                    let inner = ts::first_named(&kk);
                    self.w.put(kk);
                    let v = inner.map_or(Value::Null, |i| self.value(i));
                    match v {
                        Value::Object(items) if k.kind() == "dictionary_splat" => out.extend(items),
                        v => out.push(Arg {
                            name: None,
                            value: Value::Other(self.w.refs_of(v)),
                            span: k.byte_range(),
                        }),
                    }
                }
                _ => {
                    let v = self.value(k);
                    out.push(Arg {
                        name: None,
                        value: v,
                        span: k.byte_range(),
                    });
                }
            }
        }
        self.w.put(kids);
    }
}

/// `getenv("X", fallback)` / `environ.get("X", default=fallback)` → `Env`.
fn env_read(args: &[Arg]) -> Option<Value> {
    let mut positional = args.iter().filter(|a| a.name.is_none());
    let Value::Str(name) = &positional.next()?.value else {
        return None;
    };
    let fallback = positional
        .next()
        .or_else(|| args.iter().find(|a| a.name.as_deref() == Some("default")))
        .map(|a| Box::new(a.value.clone()));
    Some(Value::Env {
        name: name.clone(),
        fallback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Assign, Call, Lang};
    use crate::lang::treesitter::testing::check_spans;

    fn run(src: &str) -> Facts {
        let f = crate::lang::extract(Lang::Python, src);
        check_spans(src, &f);
        f
    }

    fn call<'a>(f: &'a Facts, callee: &str) -> &'a Call {
        f.calls
            .iter()
            .find(|c| c.callee == callee)
            .unwrap_or_else(|| panic!("no call {callee}: {:#?}", f.calls))
    }

    fn assign<'a>(f: &'a Facts, target: &str) -> &'a Assign {
        f.assigns
            .iter()
            .find(|a| a.target == target)
            .unwrap_or_else(|| panic!("no assign {target}: {:#?}", f.assigns))
    }

    fn arg<'a>(c: &'a Call, name: &str) -> &'a Value {
        &c.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no arg {name}: {c:#?}"))
            .value
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    fn ident(v: &str) -> Value {
        Value::Ident(v.into())
    }

    fn env(name: &str, fallback: Option<Value>) -> Value {
        Value::Env {
            name: name.into(),
            fallback: fallback.map(Box::new),
        }
    }

    #[test]
    fn imports_and_aliases() {
        let f = run("import openai\n\
             import openai as oa, os.path\n\
             from openai import AzureOpenAI as AO, OpenAI\n\
             from a.b import c\n\
             from .x import y\n\
             from . import z\n\
             from langchain_openai import *\n\
             from __future__ import annotations\n");
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("openai", "openai"),
                ("oa", "openai"),
                ("os.path", "os.path"),
                ("AO", "openai.AzureOpenAI"),
                ("OpenAI", "openai.OpenAI"),
                ("c", "a.b.c"),
                ("y", ".x.y"),
                ("z", ".z"),
                ("", "langchain_openai"),
            ]
        );
    }

    #[test]
    fn calls_with_kwargs_resolve_through_imports() {
        let src = "from openai import AzureOpenAI as AO\n\
                   client = AO(api_key=key, azure_endpoint=\"https://x.openai.azure.com\")\n\
                   resp = client.chat.completions.create(\n    model=\"gpt-4o\",\n    messages=[{\"role\": \"user\", \"content\": prompt}],\n    temperature=0.2,\n)\n";
        let f = run(src);
        let ctor = call(&f, "AO");
        assert_eq!(ctor.qualified, "openai.AzureOpenAI");
        assert_eq!(arg(ctor, "api_key"), &ident("key"));
        assert_eq!(
            arg(ctor, "azure_endpoint"),
            &s("https://x.openai.azure.com")
        );
        let create = call(&f, "client.chat.completions.create");
        assert_eq!(
            &src[create.callee_span.clone()],
            "client.chat.completions.create"
        );
        assert!(src[create.span.clone()].ends_with(')'));
        assert_eq!(arg(create, "temperature"), &Value::Number("0.2".into()));
        let Value::Array(msgs) = arg(create, "messages") else {
            panic!("messages is not an array")
        };
        let Value::Object(entries) = &msgs[0] else {
            panic!("message is not a dict")
        };
        assert_eq!(entries[0].name.as_deref(), Some("role"));
        assert_eq!(entries[0].value, s("user"));
        assert_eq!(entries[1].value, ident("prompt"));
        let span = &create.args[0].span;
        assert_eq!(&src[span.clone()], "\"gpt-4o\"");
        let idx = f.calls.iter().position(|c| std::ptr::eq(c, ctor)).unwrap();
        assert_eq!(assign(&f, "client").value, Value::Call(idx));
    }

    #[test]
    fn nested_and_chained_calls() {
        let f = run(
            "r = AzureOpenAI(api_key=get_key(\"k\")).chat.completions.create(messages=m)\n\
             super().__init__(x)\n\
             log.info(json.dumps(r))\n",
        );
        let outer = f
            .calls
            .iter()
            .position(|c| c.callee == "AzureOpenAI.chat.completions.create")
            .unwrap();
        let inner = f
            .calls
            .iter()
            .position(|c| c.callee == "AzureOpenAI")
            .unwrap();
        assert_eq!(f.calls[inner].chained_into, Some(outer));
        assert_eq!(f.calls[outer].chained_into, None);
        let get_key = f.calls.iter().position(|c| c.callee == "get_key").unwrap();
        assert_eq!(arg(&f.calls[inner], "api_key"), &Value::Call(get_key));
        assert_eq!(call(&f, "super.__init__").args[0].value, ident("x"));
        let dumps = f
            .calls
            .iter()
            .position(|c| c.callee == "json.dumps")
            .unwrap();
        assert_eq!(call(&f, "log.info").args[0].value, Value::Call(dumps));
    }

    #[test]
    fn decorators_are_calls() {
        let f = run("from langfuse import observe\n\
             @observe(capture_input=True)\n\
             def a(): pass\n\
             @observe\n\
             def b(): pass\n\
             class C:\n    @app.route(\"/x\", methods=[\"POST\"])\n    async def c(self): pass\n");
        let decorators: Vec<&Call> = f.calls.iter().filter(|c| c.decorator).collect();
        assert_eq!(decorators.len(), 3);
        assert_eq!(decorators[0].callee, "observe");
        assert_eq!(decorators[0].qualified, "langfuse.observe");
        assert_eq!(arg(decorators[0], "capture_input"), &Value::Bool(true));
        assert_eq!(decorators[1].callee, "observe");
        assert!(decorators[1].args.is_empty());
        assert_eq!(decorators[2].callee, "app.route");
        assert_eq!(decorators[2].args[0].value, s("/x"));
        assert!(decorators.iter().all(|d| d.scope == 0));
    }

    #[test]
    fn value_kinds() {
        let f = run("a = 'it\\'s\\n'\n\
             b = 42\n\
             c = -1.5\n\
             d = True\n\
             e = None\n\
             g = resp.choices[0].message\n\
             h = data[\"note\"]\n\
             i = {\"model\": \"gpt-4\", **extra}\n\
             j = [1, x, *rest]\n\
             k = (1, 2)\n\
             l = x if y else z\n\
             m = [p.name for p in patients]\n\
             n = lambda q: q.text\n\
             o = items[key]\n\
             aw = await client.create()\n\
             r = a.b(c).d\n\
             t = \"a\" \"b\"\n\
             u = not flag\n");
        assert_eq!(assign(&f, "a").value, s("it's\n"));
        assert_eq!(assign(&f, "b").value, Value::Number("42".into()));
        assert_eq!(assign(&f, "c").value, Value::Number("-1.5".into()));
        assert_eq!(assign(&f, "d").value, Value::Bool(true));
        assert_eq!(assign(&f, "e").value, Value::Null);
        assert_eq!(assign(&f, "g").value, ident("resp.choices[0].message"));
        assert_eq!(assign(&f, "h").value, ident("data[\"note\"]"));
        let Value::Object(dict) = &assign(&f, "i").value else {
            panic!()
        };
        assert_eq!(dict[0].name.as_deref(), Some("model"));
        assert_eq!(dict[0].value, s("gpt-4"));
        assert_eq!(dict[1].name, None);
        assert_eq!(dict[1].value, Value::Other(vec!["extra".into()]));
        assert_eq!(
            assign(&f, "j").value,
            Value::Array(vec![
                Value::Number("1".into()),
                ident("x"),
                Value::Other(vec!["rest".into()])
            ])
        );
        assert_eq!(
            assign(&f, "k").value,
            Value::Array(vec![Value::Number("1".into()), Value::Number("2".into())])
        );
        // `x if y else z` is one of its branches; the condition is not passed on.
        assert_eq!(
            assign(&f, "l").value,
            Value::Array(vec![ident("x"), ident("z")])
        );
        // A comprehension is what its element reads; `p` itself is bound to `patients`.
        assert_eq!(assign(&f, "m").value, Value::Array(vec![ident("p.name")]));
        assert_eq!(assign(&f, "n").value, Value::Other(vec!["q.text".into()]));
        assert_eq!(
            assign(&f, "o").value,
            Value::Other(vec!["items".into(), "key".into()])
        );
        let create = f
            .calls
            .iter()
            .position(|c| c.callee == "client.create")
            .unwrap();
        assert_eq!(assign(&f, "aw").value, Value::Call(create));
        let b = f.calls.iter().position(|c| c.callee == "a.b").unwrap();
        assert_eq!(assign(&f, "r").value, Value::Call(b));
        assert_eq!(assign(&f, "t").value, s("ab"));
        assert_eq!(assign(&f, "u").value, Value::Other(vec!["flag".into()]));
        assert_eq!(assign(&f, "aw").scope, 0);
        // The comprehension variable reads the iterable.
        assert_eq!(assign(&f, "p").value, Value::Other(vec!["patients".into()]));
    }

    #[test]
    fn environment_reads() {
        let f = run("import os\n\
             from os import environ, getenv\n\
             import streamlit as st\n\
             a = os.environ[\"A\"]\n\
             b = os.environ.get(\"B\", \"fb\")\n\
             c = os.getenv(\"C\", \"fc\")\n\
             d = environ[\"D\"]\n\
             e = getenv(\"E\")\n\
             g = os.getenv(\"G\") or \"fg\"\n\
             h = st.secrets[\"H\"]\n\
             i = os.environ.get(\"I\", default=\"fi\")\n\
             j = os.getenv(\"J\", \"\").strip()\n\
             k = os.environ\n");
        assert_eq!(assign(&f, "a").value, env("A", None));
        assert_eq!(assign(&f, "b").value, env("B", Some(s("fb"))));
        assert_eq!(assign(&f, "c").value, env("C", Some(s("fc"))));
        assert_eq!(assign(&f, "d").value, env("D", None));
        assert_eq!(assign(&f, "e").value, env("E", None));
        assert_eq!(assign(&f, "g").value, env("G", Some(s("fg"))));
        assert_eq!(assign(&f, "h").value, env("H", None));
        assert_eq!(assign(&f, "i").value, env("I", Some(s("fi"))));
        assert_eq!(assign(&f, "j").value, env("J", Some(s(""))));
        assert_eq!(assign(&f, "k").value, ident("os.environ"));
        // The reading calls are still calls.
        assert_eq!(call(&f, "os.getenv").qualified, "os.getenv");
    }

    #[test]
    fn environment_writes_are_config() {
        let src = "import os\n\
                   os.environ[\"OPENAI_API_TYPE\"] = \"azure\"\n\
                   os.environ.setdefault(\"OPENAI_BASE_URL\", \"https://api.openai.com\")\n\
                   os.environ.update({\"LANGCHAIN_TRACING_V2\": \"true\"})\n\
                   openai.api_type = \"azure\"\n";
        let f = run(src);
        let keys: Vec<(&str, &Value)> = f
            .config
            .iter()
            .map(|c| (c.key.as_str(), &c.value))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("OPENAI_API_TYPE", &s("azure")),
                ("OPENAI_BASE_URL", &s("https://api.openai.com")),
                ("LANGCHAIN_TRACING_V2", &s("true")),
            ]
        );
        assert_eq!(&src[f.config[0].key_span.clone()], "\"OPENAI_API_TYPE\"");
        assert_eq!(&src[f.config[0].value_span.clone()], "\"azure\"");
        assert!(f.config.iter().all(|c| c.block.is_none()));
        assert_eq!(assign(&f, "openai.api_type").value, s("azure"));
    }

    #[test]
    fn f_strings_and_formatting_are_templates() {
        let src = "p = f\"Summarize {note.text!r} for {patient['name']:>10} {{literal}}\"\n\
                   q = \"Patient: \" + name + \"!\"\n\
                   r = \"Dear {}, re {topic}\".format(who, topic=subj)\n\
                   t = \"%s is %d\" % (who, age)\n\
                   u = \"%(n)s\" % {\"n\": nm}\n";
        let f = run(src);
        assert_eq!(
            assign(&f, "p").value,
            Value::Template(vec![
                Part::Lit("Summarize ".into()),
                Part::Hole(ident("note.text")),
                Part::Lit(" for ".into()),
                Part::Hole(ident("patient[\"name\"]")),
                Part::Lit(" {literal}".into()),
            ])
        );
        let lit = f.strings.iter().find(|s| s.span.start == 4).unwrap();
        assert_eq!(lit.value, "Summarize {} for {} {literal}");
        assert!(!lit.raw_is_value);
        assert_eq!(lit.content_start, 6);
        assert_eq!(
            assign(&f, "q").value,
            Value::Template(vec![
                Part::Lit("Patient: ".into()),
                Part::Hole(ident("name")),
                Part::Lit("!".into()),
            ])
        );
        assert_eq!(
            assign(&f, "r").value,
            Value::Template(vec![
                Part::Lit("Dear ".into()),
                Part::Hole(ident("who")),
                Part::Lit(", re ".into()),
                Part::Hole(ident("subj")),
            ])
        );
        assert_eq!(
            assign(&f, "t").value,
            Value::Template(vec![
                Part::Hole(ident("who")),
                Part::Lit(" is ".into()),
                Part::Hole(ident("age")),
            ])
        );
        assert_eq!(
            assign(&f, "u").value,
            Value::Template(vec![Part::Hole(ident("nm"))])
        );
        assert_eq!(call(&f, "str.format").args.len(), 2);
    }

    #[test]
    fn string_literals_and_escapes() {
        let src = "a = 'plain'\nb = \"tab\\there\"\nc = r'C:\\new'\nd = b'bytes'\ne = '''multi\nline'''\n";
        let f = run(src);
        let values: Vec<(&str, bool)> = f
            .strings
            .iter()
            .map(|s| (s.value.as_str(), s.raw_is_value))
            .collect();
        assert_eq!(
            values,
            vec![
                ("plain", true),
                ("tab\there", false),
                ("C:\\new", true),
                ("bytes", true),
                ("multi\nline", true),
            ]
        );
        assert_eq!(f.strings[4].content_start, src.find("multi").unwrap());
    }

    #[test]
    fn assignments_of_every_shape() {
        let src = "class Bot(Base):\n\
                   \x20   model = \"gpt-4\"\n\
                   \x20   def __init__(self, deployment=\"gpt4\", *args, retries: int = 3, **kw):\n\
                   \x20       self.client = OpenAI()\n\
                   \x20       a, b = x, y\n\
                   \x20       c, d = pair()\n\
                   \x20       total = 0\n\
                   \x20       total += len(msgs)\n\
                   \x20       e = g = \"same\"\n\
                   \x20       h: str = \"annotated\"\n\
                   \x20       for m in msgs:\n\
                   \x20           send(m)\n\
                   \x20       for i, n in enumerate(notes):\n\
                   \x20           pass\n\
                   \x20       with open(path) as fh:\n\
                   \x20           pass\n\
                   \x20       if (w := compute()):\n\
                   \x20           pass\n";
        let f = run(src);
        let method = f.scopes.iter().position(|s| s.name == "__init__").unwrap();
        assert_eq!(assign(&f, "model").value, s("gpt-4"));
        assert_eq!(assign(&f, "model").scope, 0);
        assert_eq!(assign(&f, "self.model").value, s("gpt-4"));
        assert_eq!(assign(&f, "deployment").value, s("gpt4"));
        assert_eq!(assign(&f, "deployment").scope, method);
        assert_eq!(assign(&f, "retries").value, Value::Number("3".into()));
        let openai = f.calls.iter().position(|c| c.callee == "OpenAI").unwrap();
        assert_eq!(assign(&f, "self.client").value, Value::Call(openai));
        assert_eq!(assign(&f, "self.client").scope, method);
        assert!(f.assigns.iter().all(|a| a.target != "self.total"));
        assert_eq!(assign(&f, "a").value, ident("x"));
        assert_eq!(assign(&f, "b").value, ident("y"));
        let pair = f.calls.iter().position(|c| c.callee == "pair").unwrap();
        assert_eq!(assign(&f, "d").value, Value::Call(pair));
        let aug = f
            .assigns
            .iter()
            .filter(|a| a.target == "total")
            .nth(1)
            .unwrap();
        assert_eq!(aug.value, Value::Other(vec!["total".into(), "msgs".into()]));
        assert_eq!(assign(&f, "e").value, s("same"));
        assert_eq!(assign(&f, "g").value, s("same"));
        assert_eq!(assign(&f, "h").value, s("annotated"));
        assert_eq!(assign(&f, "m").value, Value::Other(vec!["msgs".into()]));
        assert_eq!(assign(&f, "n").value, Value::Other(vec!["notes".into()]));
        // The counter of `enumerate` is a position, not an item.
        assert_eq!(assign(&f, "i").value, Value::Other(Vec::new()));
        let open = f.calls.iter().position(|c| c.callee == "open").unwrap();
        assert_eq!(assign(&f, "fh").value, Value::Call(open));
        let compute = f.calls.iter().position(|c| c.callee == "compute").unwrap();
        assert_eq!(assign(&f, "w").value, Value::Call(compute));
        assert_eq!(&src[assign(&f, "deployment").span.clone()], "\"gpt4\"");
    }

    #[test]
    fn scopes_and_params() {
        let src = "def outer(a, b=1):\n    def inner(self, *args, **kwargs):\n        f = lambda x, y=2: x + y\n        return call(a)\n    return inner\n";
        let f = run(src);
        assert_eq!(f.scopes[0].name, "");
        assert_eq!(f.scopes[1].name, "outer");
        assert_eq!(f.scopes[1].params, vec!["a", "b"]);
        assert_eq!(f.scopes[1].parent, 0);
        assert_eq!(f.scopes[2].name, "inner");
        assert_eq!(f.scopes[2].params, vec!["self", "args", "kwargs"]);
        assert_eq!(f.scopes[2].parent, 1);
        assert_eq!(f.scopes[3].name, "<lambda>");
        assert_eq!(f.scopes[3].params, vec!["x", "y"]);
        assert_eq!(f.scopes[3].parent, 2);
        assert_eq!(call(&f, "call").scope, 2);
        assert!(src[f.scopes[1].span.clone()].starts_with("def outer"));
    }

    #[test]
    fn comments_and_docstrings() {
        let src = "\"\"\"Module docstring with PHI example: John Smith.\"\"\"\n\
                   # a comment\n\
                   def f():\n    '''Function doc.'''\n    x = \"real\"  # trailing\n    return x\n";
        let f = run(src);
        let texts: Vec<&str> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "\"\"\"Module docstring with PHI example: John Smith.\"\"\"",
                "# a comment",
                "'''Function doc.'''",
                "# trailing",
            ]
        );
        let strings: Vec<&str> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(strings, vec!["real"]);
    }

    #[test]
    fn comments_inside_expressions_are_kept() {
        let f = run("resp = (\n    client  # the Azure client\n    .chat.completions.create(\n        model=\"m\",  # deployment\n    )\n)\n");
        assert_eq!(f.comments.len(), 2);
        assert_eq!(call(&f, "client.chat.completions.create").args.len(), 1);
    }

    #[test]
    fn parse_errors_are_recovered() {
        let f = run("def broken(:\n    pass\n\nclient.chat.completions.create(model=\"gpt-4\", messages=msgs)\n");
        assert!(f.parse_errors);
        assert_eq!(
            arg(call(&f, "client.chat.completions.create"), "model"),
            &s("gpt-4")
        );
        assert!(!run("x = 1\n").parse_errors);
    }

    #[test]
    fn crlf_text() {
        let src =
            "import openai\r\n# note\r\nx = openai.OpenAI(api_key=\"k\")\r\ny = \"a\\\r\nb\"\r\n";
        let f = run(src);
        assert_eq!(f.comments[0].text, "# note");
        assert_eq!(call(&f, "openai.OpenAI").qualified, "openai.OpenAI");
        assert_eq!(assign(&f, "y").value, s("ab"));
    }

    #[test]
    fn non_ascii_text_keeps_char_boundaries() {
        let src = "# café ☕\nnote = \"Patiënt José — 日本\"\np = f\"Résumé {naïve} ✓\"\nclient.create(msg=\"naïve\", é=1)\n";
        let f = run(src);
        let lit = &f.strings[0];
        assert_eq!(lit.value, "Patiënt José — 日本");
        assert!(lit.raw_is_value);
        assert_eq!(
            &src[lit.content_start..lit.content_start + lit.value.len()],
            lit.value
        );
        assert_eq!(f.strings[1].value, "Résumé {} ✓");
        assert_eq!(
            assign(&f, "p").value,
            Value::Template(vec![
                Part::Lit("Résumé ".into()),
                Part::Hole(ident("naïve")),
                Part::Lit(" ✓".into()),
            ])
        );
        assert_eq!(
            arg(call(&f, "client.create"), "é"),
            &Value::Number("1".into())
        );
    }

    #[test]
    fn deep_nesting_is_cut_off_with_a_note() {
        let n = 10_000;
        let src = format!(
            "x = {}1{}\ny = {}{}\nz = {}{}\nclient.create(model=\"m\")\n",
            "(".repeat(n),
            ")".repeat(n),
            "[".repeat(n),
            "]".repeat(n),
            "f(".repeat(n),
            ")".repeat(n),
        );
        let f = run(&src);
        assert!(!f.notes.is_empty());
        assert_eq!(arg(call(&f, "client.create"), "model"), &s("m"));
        let chain = format!("w = a{}\n", ".b".repeat(n));
        let f = run(&chain);
        assert!(!f.notes.is_empty());
    }

    #[test]
    fn never_panics_on_garbage() {
        for src in [
            "",
            "(",
            "f\"{",
            "def",
            "@",
            "x = 'unterminated",
            "class A(:\n  def (",
            "\u{feff}print('bom')",
            "lambda: (yield)",
            "os.environ[] = 1",
        ] {
            run(src);
        }
    }
}
