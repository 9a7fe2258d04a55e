//! JavaScript, TypeScript and TSX frontend: turns one file into [`Facts`] with
//! tree-sitter-javascript (JavaScript and JSX) or tree-sitter-typescript (TypeScript, TSX).
//!
//! One depth-guarded recursive walk visits every node once and records imports (ES modules,
//! `require`, TypeScript `import x = require()`), calls and `new`, decorators, the value kind of
//! every argument and assignment, `process.env` reads and writes, string and template literals,
//! comments, and function scopes. Types are walked only for the literals and comments they
//! hold. It does not evaluate anything, follow data flow or resolve modules: that is the
//! engine's job on the facts.

use tree_sitter::Node;

use super::treesitter::{self as ts, Chain, Escapes, Walk, PLACEHOLDER, STRING_METHODS};
use crate::facts::{Arg, ConfigEntry, Facts, Lang, Part, Span, Value};

/// Extracts the facts of one JavaScript, TypeScript or TSX file.
pub fn facts(text: &str, lang: Lang) -> Facts {
    let language: tree_sitter::Language = match lang {
        Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        _ => tree_sitter_javascript::LANGUAGE.into(),
    };
    let Some(tree) = ts::parse(&language, text) else {
        let mut facts = Facts::new();
        facts.notes.push(format!(
            "the {} parser gave up on this file (time budget); it was not analysed",
            lang.name()
        ));
        return facts;
    };
    let root = tree.root_node();
    let mut js = Js {
        w: Walk::new(text, root),
    };
    js.stmt(root);
    js.w.finish()
}

struct Js<'t> {
    w: Walk<'t>,
}

/// Node kinds that are expressions, so a statement-level visit computes their value.
fn is_expression(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "member_expression"
            | "subscript_expression"
            | "call_expression"
            | "new_expression"
            | "string"
            | "template_string"
            | "number"
            | "true"
            | "false"
            | "null"
            | "undefined"
            | "this"
            | "super"
            | "object"
            | "array"
            | "binary_expression"
            | "unary_expression"
            | "update_expression"
            | "ternary_expression"
            | "assignment_expression"
            | "augmented_assignment_expression"
            | "await_expression"
            | "parenthesized_expression"
            | "sequence_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
            | "type_assertion"
            | "instantiation_expression"
            | "yield_expression"
            | "spread_element"
            | "regex"
            | "meta_property"
            | "class"
    ) || is_function(kind)
}

fn is_function(kind: &str) -> bool {
    matches!(
        kind,
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

/// Wrappers whose value is the value of the expression inside.
fn is_transparent(kind: &str) -> bool {
    matches!(
        kind,
        "await_expression"
            | "parenthesized_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
            | "type_assertion"
            | "instantiation_expression"
    )
}

/// Node kinds that name an environment object (`process.env`, `import.meta.env`).
const ENV_OBJECTS: &[&str] = &[
    "process.env",
    "node:process.env",
    "import.meta.env",
    "Bun.env",
];

impl<'t> Js<'t> {
    // ---- statements ---------------------------------------------------------------------

    fn stmt(&mut self, n: Node<'t>) {
        if !self.w.enter() {
            return;
        }
        match n.kind() {
            "import_statement" => self.import(n),
            "import_alias" => self.import_alias(n),
            "variable_declarator" => self.declarator(n),
            "expression_statement" => self.expression_statement(n),
            "function_declaration" | "generator_function_declaration" | "method_definition" => {
                self.function(n, None);
            }
            "class_declaration" | "abstract_class_declaration" => self.class(n),
            "public_field_definition" | "field_definition" => self.field(n),
            "decorator" => self.decorator(n),
            "for_in_statement" => self.for_in(n),
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
            if k.kind() == "assignment_expression" {
                self.assignment(k, false);
            } else if k.is_named() {
                self.value(k);
            }
        }
        self.w.put(kids);
    }

    fn import(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let spec = match ts::field(&kids, "source").map(|s| self.value(s)) {
            Some(Value::Str(s)) => s,
            _ => String::new(),
        };
        let mut bound = false;
        for &(_, k) in &kids {
            match k.kind() {
                "import_clause" => {
                    bound = true;
                    self.import_clause(k, &spec);
                }
                "import_require_clause" => {
                    bound = true;
                    let kk = self.w.kids(k);
                    let local = ts::first_named(&kk).filter(|x| x.kind() == "identifier");
                    let source = ts::field(&kk, "source");
                    self.w.put(kk);
                    let spec = match source.map(|s| self.value(s)) {
                        Some(Value::Str(s)) => s,
                        _ => String::new(),
                    };
                    if let Some(l) = local {
                        let local = self.w.text(l).to_string();
                        self.w.import(local, spec, k.byte_range());
                    }
                }
                _ => {}
            }
        }
        self.w.put(kids);
        if !bound && !spec.is_empty() {
            self.w.import(String::new(), spec, n.byte_range());
        }
    }

    fn import_clause(&mut self, clause: Node<'t>, spec: &str) {
        let kids = self.w.kids(clause);
        for &(_, k) in &kids {
            match k.kind() {
                "identifier" => {
                    let local = self.w.text(k).to_string();
                    self.w.import(local, spec.to_string(), k.byte_range());
                }
                "namespace_import" => {
                    let kk = self.w.kids(k);
                    let local = ts::first_named(&kk).map(|x| self.w.text(x).to_string());
                    self.w.put(kk);
                    if let Some(local) = local {
                        self.w.import(local, spec.to_string(), k.byte_range());
                    }
                }
                "named_imports" => {
                    let kk = self.w.kids(k);
                    for &(_, s) in &kk {
                        if s.kind() != "import_specifier" {
                            continue;
                        }
                        let sk = self.w.kids(s);
                        let name = ts::field(&sk, "name");
                        let alias = ts::field(&sk, "alias");
                        self.w.put(sk);
                        let Some(name) = name.map(|x| self.key_name(x)) else {
                            continue;
                        };
                        let local = match alias {
                            Some(a) => self.w.text(a).to_string(),
                            None => name.clone(),
                        };
                        self.w
                            .import(local, format!("{spec}.{name}"), s.byte_range());
                    }
                    self.w.put(kk);
                }
                _ => {}
            }
        }
        self.w.put(kids);
    }

    /// TypeScript `import x = A.B;`.
    fn import_alias(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let mut named = kids.iter().filter(|k| k.1.is_named()).map(|k| k.1);
        let (local, target) = (named.next(), named.next());
        self.w.put(kids);
        if let (Some(l), Some(t)) = (local, target) {
            let local = self.w.text(l).to_string();
            let path = ts::compact(t, self.w.src);
            self.w.import(local, path, n.byte_range());
        }
    }

    /// A property or import name: identifiers as written, string keys decoded.
    fn key_name(&mut self, k: Node<'t>) -> String {
        match k.kind() {
            "string" => match self.value(k) {
                Value::Str(s) => s,
                _ => String::new(),
            },
            _ => ts::compact(k, self.w.src),
        }
    }

    /// `const x = v`, `const { a, b: c } = require("m")`, `let [p, q] = pair`.
    fn declarator(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let target = ts::field(&kids, "name");
        let value = ts::field(&kids, "value");
        let ty = ts::field(&kids, "type");
        self.w.put(kids);
        if let Some(t) = ty {
            self.stmt(t);
        }
        let (Some(target), Some(value)) = (target, value) else {
            return;
        };
        let v = if is_function(value.kind()) && target.kind() == "identifier" {
            let name = self.w.text(target).to_string();
            self.function(value, Some(name))
        } else {
            self.value(value)
        };
        self.require_imports(target, value, &v);
        self.bind(target, v, value.byte_range());
    }

    /// `const X = require("m")`, `const { A, B: C } = require("m")`, `require("m").A`,
    /// `await import("m")` bind imported names.
    fn require_imports(&mut self, target: Node<'t>, value: Node<'t>, v: &Value) {
        let Value::Call(i) = *v else {
            return;
        };
        let call = &self.w.facts.calls[i];
        if !matches!(
            self.w.src.get(call.callee_span.clone()),
            Some("require" | "import")
        ) {
            return;
        }
        let Some(Value::Str(spec)) = call.args.first().map(|a| &a.value) else {
            return;
        };
        let mut node = value;
        while is_transparent(node.kind()) {
            match node.named_child(0) {
                Some(inner) if inner.kind() != "comment" => node = inner,
                _ => break,
            }
        }
        let spec = match node.kind() {
            "member_expression" => match node.child_by_field_name("property") {
                Some(p) => format!("{spec}.{}", self.w.text(p)),
                None => spec.clone(),
            },
            _ => spec.clone(),
        };
        match target.kind() {
            "identifier" => {
                let local = self.w.text(target).to_string();
                self.w.import(local, spec, target.byte_range());
            }
            "object_pattern" => {
                let mut cursor = target.walk();
                let entries: Vec<Node<'t>> = target.named_children(&mut cursor).collect();
                for e in entries {
                    let (key, local) = match e.kind() {
                        "shorthand_property_identifier_pattern" => (self.w.text(e), Some(e)),
                        "pair_pattern" => {
                            let key = e.child_by_field_name("key").map_or("", |k| self.w.text(k));
                            let local = e
                                .child_by_field_name("value")
                                .filter(|l| l.kind() == "identifier");
                            (key.trim_matches(['"', '\'']), local)
                        }
                        "object_assignment_pattern" => {
                            let left = e.child_by_field_name("left");
                            (left.map_or("", |l| self.w.text(l)), left)
                        }
                        _ => continue,
                    };
                    if let Some(l) = local {
                        let local = self.w.text(l).to_string();
                        self.w
                            .import(local, format!("{spec}.{key}"), e.byte_range());
                    }
                }
            }
            _ => {}
        }
    }

    /// Records `target = value` for a target pattern. Destructuring reads members of the
    /// value (`const {a} = obj` → `a = obj.a`; `const {KEY} = process.env` → an env read).
    fn bind(&mut self, t: Node<'t>, value: Value, span: Span) {
        if !self.w.enter() {
            return;
        }
        match t.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => {
                let name = self.w.text(t).to_string();
                self.w.assign(name, value, span);
            }
            "member_expression" | "subscript_expression" => {
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
            "object_pattern" => {
                let kids = self.w.kids(t);
                for &(_, e) in &kids {
                    match e.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let key = self.w.text(e).to_string();
                            let v = self.member_of(&value, &key);
                            self.bind(e, v, span.clone());
                        }
                        "pair_pattern" => {
                            let kk = self.w.kids(e);
                            let key = ts::field(&kk, "key");
                            let inner = ts::field(&kk, "value");
                            self.w.put(kk);
                            let key = key.map(|k| self.pattern_key(k));
                            let v = match &key {
                                Some(k) => self.member_of(&value, k),
                                None => self.spread(value.clone()),
                            };
                            if let Some(inner) = inner {
                                self.bind(inner, v, span.clone());
                            }
                        }
                        "object_assignment_pattern" => {
                            let kk = self.w.kids(e);
                            let left = ts::field(&kk, "left");
                            let right = ts::field(&kk, "right");
                            self.w.put(kk);
                            let Some(left) = left else { continue };
                            let key = self.w.text(left).to_string();
                            let fallback = right.map(|r| self.value(r));
                            let v = with_fallback(self.member_of(&value, &key), fallback);
                            self.bind(left, v, span.clone());
                        }
                        "rest_pattern" => {
                            let v = self.spread(value.clone());
                            self.bind_rest(e, v, span.clone());
                        }
                        _ => {}
                    }
                }
                self.w.put(kids);
            }
            "array_pattern" => {
                let kids = self.w.kids(t);
                let mut index = 0;
                for &(_, e) in &kids {
                    if !e.is_named() {
                        if self.w.text(e) == "," {
                            index += 1;
                        }
                        continue;
                    }
                    if e.kind() == "rest_pattern" {
                        let v = self.spread(value.clone());
                        self.bind_rest(e, v, span.clone());
                        continue;
                    }
                    // `const [a, b] = await Promise.all([x, y])` binds `a` to `x`, `b` to `y`.
                    let awaited = match &value {
                        Value::Call(j) => self.w.facts.calls.get(*j).and_then(|c| {
                            match (c.callee.as_str(), c.args.first()) {
                                ("Promise.all" | "Promise.allSettled", Some(a)) => {
                                    matches!(a.value, Value::Array(_)).then(|| a.value.clone())
                                }
                                _ => None,
                            }
                        }),
                        _ => None,
                    };
                    let v = match awaited.as_ref().unwrap_or(&value) {
                        Value::Array(items) => items.get(index).cloned().unwrap_or(Value::Null),
                        Value::Ident(base) => Value::Ident(format!("{base}[{index}]")),
                        other => self.spread(other.clone()),
                    };
                    self.bind(e, v, span.clone());
                }
                self.w.put(kids);
            }
            "assignment_pattern" => {
                let kids = self.w.kids(t);
                let left = ts::field(&kids, "left");
                let right = ts::field(&kids, "right");
                self.w.put(kids);
                let fallback = right.map(|r| self.value(r));
                if let Some(l) = left {
                    self.bind(l, with_fallback(value, fallback), span);
                }
            }
            "rest_pattern" => self.bind_rest(t, value, span),
            _ if is_transparent(t.kind()) => {
                let kids = self.w.kids(t);
                let inner = ts::first_named(&kids);
                self.w.put(kids);
                if let Some(i) = inner {
                    self.bind(i, value, span);
                }
            }
            _ => self.stmt(t),
        }
        self.w.leave();
    }

    fn bind_rest(&mut self, rest: Node<'t>, value: Value, span: Span) {
        let kids = self.w.kids(rest);
        let inner = ts::first_named(&kids);
        self.w.put(kids);
        if let Some(i) = inner {
            self.bind(i, value, span);
        }
    }

    /// The name a property key stands for; empty for computed keys that are not literals.
    fn pattern_key(&mut self, k: Node<'t>) -> String {
        if k.kind() != "computed_property_name" {
            return self.key_name(k);
        }
        let kids = self.w.kids(k);
        let inner = ts::first_named(&kids);
        self.w.put(kids);
        match inner.map(|i| self.value(i)) {
            Some(Value::Str(s) | Value::Number(s)) => s,
            _ => String::new(),
        }
    }

    /// The value of `value.key` as far as it is known without evaluating anything.
    fn member_of(&self, value: &Value, key: &str) -> Value {
        match value {
            Value::Ident(base) if self.is_env_object(base) => Value::Env {
                name: key.to_string(),
                fallback: None,
            },
            Value::Ident(base) => Value::Ident(format!("{base}.{key}")),
            Value::Object(args) => args
                .iter()
                .find(|a| a.name.as_deref() == Some(key))
                .map_or(Value::Null, |a| a.value.clone()),
            Value::Call(i) => Value::Call(*i),
            other => Value::Other(self.w.refs_of(other.clone())),
        }
    }

    /// What each name of a destructuring gets from a value it cannot split.
    fn spread(&self, v: Value) -> Value {
        match v {
            Value::Call(i) => Value::Call(i),
            other => Value::Other(self.w.refs_of(other)),
        }
    }

    fn is_env_object(&self, ident: &str) -> bool {
        ENV_OBJECTS.contains(&ident) || ENV_OBJECTS.contains(&self.w.qualify(ident).as_ref())
    }

    /// `left = right`; returns the value when the assignment is itself used as a value.
    fn assignment(&mut self, n: Node<'t>, want: bool) -> Value {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        self.w.put(kids);
        let Some(right) = right else {
            return Value::Null;
        };
        let v = match left {
            Some(l) if is_function(right.kind()) => {
                let name = ts::compact(l, self.w.src);
                self.function(right, Some(name))
            }
            _ => self.value(right),
        };
        let back = if want { v.clone() } else { Value::Null };
        if let Some(l) = left {
            self.bind(l, v, right.byte_range());
        }
        back
    }

    fn augmented(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        self.w.put(kids);
        let (Some(left), Some(right)) = (left, right) else {
            return Value::Null;
        };
        let target = self.chain(left).target();
        let v = self.value(right);
        let mut refs = vec![target.clone()];
        ts::into_refs(v, &mut refs, &self.w.facts.calls);
        let value = Value::Other(refs);
        self.w.assign(target, value.clone(), right.byte_range());
        value
    }

    /// `for (const m of msgs)` / `for (k in obj)`: the loop variable reads the iterable.
    fn for_in(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let left = ts::field(&kids, "left");
        let right = ts::field(&kids, "right");
        let body = ts::field(&kids, "body");
        self.w.put(kids);
        if let Some(r) = right {
            let v = self.value(r);
            let refs = self.w.iter_refs(v);
            if let Some(l) = left {
                self.bind(l, Value::Other(refs), r.byte_range());
            }
        }
        if let Some(b) = body {
            self.stmt(b);
        }
    }

    /// A function, method, arrow function or function expression: a scope with its
    /// parameters. Its value reads what an expression body reads.
    fn function(&mut self, n: Node<'t>, name: Option<String>) -> Value {
        let kids = self.w.kids(n);
        let own_name = ts::field(&kids, "name");
        let params = ts::field(&kids, "parameters").or_else(|| ts::field(&kids, "parameter"));
        let body = ts::field(&kids, "body");
        let returns = ts::field(&kids, "return_type");
        let decorators: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.kind() == "decorator")
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        for d in decorators {
            self.decorator(d);
        }
        let name = match (name, own_name) {
            (Some(n), _) => n,
            (None, Some(o)) => self.key_name(o),
            (None, None) => "<anonymous>".to_string(),
        };
        if let Some(r) = returns {
            self.stmt(r);
        }
        let prev = self.w.open_scope(name, n.byte_range());
        if let Some(p) = params {
            if p.kind() == "identifier" {
                let name = self.w.text(p).to_string();
                let scope = self.w.scope;
                self.w.facts.scopes[scope].params.push(name);
            } else {
                self.params(p);
            }
        }
        let value = match body {
            Some(b) if b.kind() == "statement_block" => {
                self.stmt(b);
                Value::Other(Vec::new())
            }
            Some(b) => {
                let v = self.value(b);
                Value::Other(self.w.refs_of(v))
            }
            None => Value::Other(Vec::new()),
        };
        self.w.scope = prev;
        value
    }

    /// Parameters of the current scope; default values become assignments in it, and
    /// TypeScript parameter properties (`constructor(private client: OpenAI)`) assign
    /// `this.client`.
    fn params(&mut self, p: Node<'t>) {
        let kids = self.w.kids(p);
        for &(_, k) in &kids {
            if !k.is_named() {
                continue;
            }
            let (pattern, default, property) = match k.kind() {
                "required_parameter" | "optional_parameter" => {
                    let kk = self.w.kids(k);
                    let pattern = ts::field(&kk, "pattern").or_else(|| ts::field(&kk, "name"));
                    let default = ts::field(&kk, "value");
                    let property = kk.iter().any(|x| {
                        matches!(x.1.kind(), "accessibility_modifier" | "readonly")
                            || self.w.text(x.1) == "readonly"
                    });
                    for &(f, x) in &kk {
                        match f {
                            Some("decorator") => self.decorator(x),
                            Some("type") => self.stmt(x),
                            _ => {}
                        }
                    }
                    self.w.put(kk);
                    (pattern, default, property)
                }
                "assignment_pattern" => {
                    let kk = self.w.kids(k);
                    let left = ts::field(&kk, "left");
                    let right = ts::field(&kk, "right");
                    self.w.put(kk);
                    (left, right, false)
                }
                _ => (Some(k), None, false),
            };
            let Some(pattern) = pattern else { continue };
            if pattern.kind() == "this" {
                continue;
            }
            let name = match pattern.kind() {
                "rest_pattern" => ts::compact(pattern, self.w.src)
                    .trim_start_matches('.')
                    .to_string(),
                _ => ts::compact(pattern, self.w.src),
            };
            if let Some(d) = default {
                let v = self.value(d);
                if pattern.kind() == "identifier" {
                    self.w.assign(name.clone(), v, d.byte_range());
                } else {
                    self.bind(pattern, v, d.byte_range());
                }
            }
            if property && pattern.kind() == "identifier" {
                self.w.assign(
                    format!("this.{name}"),
                    Value::Ident(name.clone()),
                    pattern.byte_range(),
                );
            }
            let scope = self.w.scope;
            self.w.facts.scopes[scope].params.push(name);
        }
        self.w.put(kids);
    }

    fn class(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        for &(f, k) in &kids {
            match (f, k.kind()) {
                (_, "decorator") => self.decorator(k),
                (Some("body"), _) => self.generic(k),
                (Some("name"), _) => {}
                (_, "class_heritage") => self.generic(k),
                _ if k.is_named() => self.stmt(k),
                _ => {}
            }
        }
        self.w.put(kids);
    }

    /// A class field with an initializer: recorded as `name` and as `this.name`.
    fn field(&mut self, n: Node<'t>) {
        let kids = self.w.kids(n);
        let name = ts::field(&kids, "name").or_else(|| ts::field(&kids, "property"));
        let value = ts::field(&kids, "value");
        for &(f, k) in &kids {
            match f {
                Some("decorator") => self.decorator(k),
                Some("type") => self.stmt(k),
                _ => {}
            }
        }
        self.w.put(kids);
        let (Some(name), Some(value)) = (name, value) else {
            return;
        };
        let name = self.key_name(name);
        let v = if is_function(value.kind()) {
            self.function(value, Some(name.clone()))
        } else {
            self.value(value)
        };
        self.w
            .assign(format!("this.{name}"), v.clone(), value.byte_range());
        self.w.assign(name, v, value.byte_range());
    }

    /// `@Injectable()` is a call; bare `@observe` is a call with no arguments.
    fn decorator(&mut self, d: Node<'t>) {
        let kids = self.w.kids(d);
        let expr = ts::first_named(&kids);
        self.w.put(kids);
        let Some(expr) = expr else {
            return;
        };
        if expr.kind() == "call_expression" {
            let (i, _) = self.call(expr, false);
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
        let kind = n.kind();
        let v = match kind {
            "identifier"
            | "member_expression"
            | "subscript_expression"
            | "this"
            | "super"
            | "meta_property" => {
                let c = self.chain(n);
                self.w.chain_value(c)
            }
            "call_expression" => self.call(n, false).1,
            "new_expression" => self.call(n, true).1,
            "string" => self.string(n),
            "template_string" => self.template(n),
            "number" => Value::Number(self.w.text(n).to_string()),
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" | "undefined" => Value::Null,
            "object" => self.object(n),
            "array" => self.array(n),
            "binary_expression" => self.binary(n),
            "unary_expression" => self.unary(n),
            "assignment_expression" => self.assignment(n, true),
            "augmented_assignment_expression" => self.augmented(n),
            "class" => {
                self.class(n);
                Value::Other(Vec::new())
            }
            "spread_element" => self.other(n),
            k if is_function(k) => self.function(n, None),
            k if is_transparent(k) => match self.inner(n) {
                Some(i) => self.value(i),
                None => self.other(n),
            },
            _ => self.other(n),
        };
        self.w.leave();
        v
    }

    /// The expression inside a transparent wrapper (`await x`, `(x)`, `x as T`, `x!`, `<T>x`).
    fn inner(&mut self, n: Node<'t>) -> Option<Node<'t>> {
        let kids = self.w.kids(n);
        let named: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.is_named())
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        match n.kind() {
            "type_assertion" => named.last().copied(),
            "instantiation_expression" => n.child_by_field_name("function"),
            "parenthesized_expression" if named.len() != 1 => None,
            _ => named.first().copied(),
        }
    }

    /// Anything without a more specific kind: the names it reads.
    fn other(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut refs = Vec::new();
        for &(_, k) in &kids {
            if k.is_named() {
                let v = self.value(k);
                ts::into_refs(v, &mut refs, &self.w.facts.calls);
            }
        }
        self.w.put(kids);
        Value::Other(refs)
    }

    fn array(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut items = Vec::new();
        for &(_, k) in &kids {
            if k.is_named() {
                items.push(self.value(k));
            }
        }
        self.w.put(kids);
        Value::Array(items)
    }

    /// An object literal: identifier and string keys become names, `{prompt}` is
    /// `prompt: prompt`, spreads are positional entries carrying what they read.
    fn object(&mut self, n: Node<'t>) -> Value {
        let kids = self.w.kids(n);
        let mut args = Vec::new();
        for &(_, k) in &kids {
            match k.kind() {
                "pair" => {
                    let kk = self.w.kids(k);
                    let key = ts::field(&kk, "key");
                    let value = ts::field(&kk, "value");
                    self.w.put(kk);
                    let name = key
                        .map(|key| self.pattern_key(key))
                        .filter(|s| !s.is_empty());
                    let Some(value) = value else { continue };
                    let v = match (&name, is_function(value.kind())) {
                        (Some(name), true) => self.function(value, Some(name.clone())),
                        _ => self.value(value),
                    };
                    args.push(Arg {
                        name,
                        value: v,
                        span: value.byte_range(),
                    });
                }
                "shorthand_property_identifier" => {
                    let name = self.w.text(k).to_string();
                    args.push(Arg {
                        name: Some(name.clone()),
                        value: Value::Ident(name),
                        span: k.byte_range(),
                    });
                }
                "spread_element" => {
                    let v = self.value(k);
                    args.push(Arg {
                        name: None,
                        value: v,
                        span: k.byte_range(),
                    });
                }
                "method_definition" => {
                    let v = self.function(k, None);
                    let name = k
                        .child_by_field_name("name")
                        .map(|x| self.w.text(x).to_string());
                    args.push(Arg {
                        name,
                        value: v,
                        span: k.byte_range(),
                    });
                }
                _ if k.is_named() => self.stmt(k),
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
            (
                Some("??" | "||"),
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
            (Some("void"), _) => Value::Null,
            (_, v) => Value::Other(self.w.refs_of(v)),
        }
    }

    fn string(&mut self, n: Node<'t>) -> Value {
        let raw = self.w.text(n);
        let quoted = raw.len() >= 2 && (raw.starts_with('"') || raw.starts_with('\''));
        let body = if quoted {
            raw.get(1..raw.len() - 1).unwrap_or("")
        } else {
            raw
        };
        let content_start = n.start_byte() + usize::from(quoted);
        let value = ts::unescape(body, Escapes::JavaScript);
        let exact = value == body;
        self.w
            .string(value.clone(), n.byte_range(), content_start, exact);
        Value::Str(value)
    }

    /// A template literal: a template with one hole per `${}`, and one literal whose text
    /// has `{}` for each hole.
    fn template(&mut self, n: Node<'t>) -> Value {
        let src = self.w.src;
        let kids = self.w.kids(n);
        let holes: Vec<Node<'t>> = kids
            .iter()
            .filter(|k| k.1.kind() == "template_substitution")
            .map(|k| k.1)
            .collect();
        self.w.put(kids);
        let content_start = (n.start_byte() + 1).min(n.end_byte());
        let content_end = n.end_byte().saturating_sub(1).max(content_start);
        let body = src.get(content_start..content_end).unwrap_or("");
        if holes.is_empty() {
            let value = ts::unescape(body, Escapes::JavaScript);
            let exact = value == body;
            self.w
                .string(value.clone(), n.byte_range(), content_start, exact);
            return Value::Str(value);
        }
        let mut parts = Vec::new();
        let mut shown = String::new();
        let mut pos = content_start;
        for h in holes {
            let lit = ts::unescape(
                src.get(pos..h.start_byte()).unwrap_or(""),
                Escapes::JavaScript,
            );
            shown.push_str(&lit);
            shown.push_str("{}");
            if !lit.is_empty() {
                ts::push_part(&mut parts, Part::Lit(lit));
            }
            let kids = self.w.kids(h);
            let expr = ts::first_named(&kids);
            self.w.put(kids);
            let v = expr.map_or(Value::Other(Vec::new()), |e| self.value(e));
            parts.push(Part::Hole(v));
            pos = h.end_byte();
        }
        let lit = ts::unescape(src.get(pos..content_end).unwrap_or(""), Escapes::JavaScript);
        shown.push_str(&lit);
        if !lit.is_empty() {
            ts::push_part(&mut parts, Part::Lit(lit));
        }
        self.w.string(shown, n.byte_range(), content_start, false);
        Value::Template(parts)
    }

    /// A member chain (`a.b[0].c`), as a callee and as a value, with `process.env.X` and
    /// `process.env["X"]` recognised as environment reads.
    fn chain(&mut self, n: Node<'t>) -> Chain {
        if !self.w.enter() {
            return Chain::from_value(Value::Other(Vec::new()), PLACEHOLDER);
        }
        let c = match n.kind() {
            "identifier" | "this" | "super" | "import" | "meta_property" => {
                Chain::name(self.w.text(n))
            }
            "member_expression" => {
                let kids = self.w.kids(n);
                let object = ts::field(&kids, "object");
                let property = ts::field(&kids, "property");
                self.w.put(kids);
                let mut c = match object {
                    Some(o) => self.chain(o),
                    None => Chain::name(PLACEHOLDER),
                };
                if let Some(p) = property {
                    let env = c.pure && c.call.is_none() && self.is_env_object(&c.ident);
                    let name = self.w.text(p);
                    c.member(name);
                    if env {
                        c.env = Some((
                            Value::Env {
                                name: name.to_string(),
                                fallback: None,
                            },
                            p.byte_range(),
                        ));
                    }
                }
                c
            }
            "subscript_expression" => self.subscript(n),
            "call_expression" | "new_expression" => {
                let (i, v) = self.call(n, n.kind() == "new_expression");
                Chain::from_call(i, v, &self.w.facts.calls, n.byte_range())
            }
            k if is_transparent(k) => match self.inner(n) {
                Some(i) => self.chain(i),
                None => Chain::from_value(self.other(n), PLACEHOLDER),
            },
            "string" | "template_string" => Chain::from_value(self.value(n), "String"),
            _ => Chain::from_value(self.value(n), PLACEHOLDER),
        };
        self.w.leave();
        c
    }

    fn subscript(&mut self, n: Node<'t>) -> Chain {
        let kids = self.w.kids(n);
        let object = ts::field(&kids, "object");
        let index = ts::field(&kids, "index");
        self.w.put(kids);
        let mut c = match object {
            Some(o) => self.chain(o),
            None => Chain::name(PLACEHOLDER),
        };
        if let Some(key) = index {
            let literal = matches!(key.kind(), "string" | "number");
            match self.value(key) {
                Value::Str(s) if literal => {
                    let env = c.pure && c.call.is_none() && self.is_env_object(&c.ident);
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
        c
    }

    fn call(&mut self, n: Node<'t>, is_new: bool) -> (usize, Value) {
        let idx = self.w.reserve_call(n.byte_range());
        let kids = self.w.kids(n);
        let function = ts::field(&kids, "function").or_else(|| ts::field(&kids, "constructor"));
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
            if a.kind() == "arguments" {
                let kids = self.w.kids(a);
                for &(_, k) in &kids {
                    if k.is_named() {
                        let v = self.value(k);
                        args.push(Arg {
                            name: None,
                            value: v,
                            span: k.byte_range(),
                        });
                    }
                }
                self.w.put(kids);
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
        call.is_new = is_new;
        call.args = args;
        (idx, value)
    }

    /// What a call evaluates to: an environment read (`Deno.env.get("X")`,
    /// `process.env.X.trim()`) or its result.
    fn call_value(&self, idx: usize, c: &Chain, args: &[Arg]) -> Value {
        if c.pure && c.call.is_none() && c.callee == "Deno.env.get" {
            if let Some(Value::Str(name)) = args.first().map(|a| &a.value) {
                return Value::Env {
                    name: name.clone(),
                    fallback: None,
                };
            }
        }
        if let Some(env) = &c.prev_env {
            if STRING_METHODS.contains(&c.last()) {
                return env.clone();
            }
        }
        Value::Call(idx)
    }
}

/// A destructuring default (`{ KEY = "fb" } = process.env`) is the fallback of an env read.
fn with_fallback(v: Value, fallback: Option<Value>) -> Value {
    match (v, fallback) {
        (
            Value::Env {
                name,
                fallback: None,
            },
            Some(f),
        ) => Value::Env {
            name,
            fallback: Some(Box::new(f)),
        },
        (v, _) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Assign, Call};
    use crate::lang::treesitter::testing::check_spans;

    fn run_as(src: &str, lang: Lang) -> Facts {
        let f = crate::lang::extract(lang, src);
        check_spans(src, &f);
        f
    }

    fn run(src: &str) -> Facts {
        run_as(src, Lang::TypeScript)
    }

    fn call<'a>(f: &'a Facts, callee: &str) -> &'a Call {
        f.calls
            .iter()
            .find(|c| c.callee == callee)
            .unwrap_or_else(|| panic!("no call {callee}: {:#?}", f.calls))
    }

    fn index(f: &Facts, callee: &str) -> usize {
        f.calls.iter().position(|c| c.callee == callee).unwrap()
    }

    fn assign<'a>(f: &'a Facts, target: &str) -> &'a Assign {
        f.assigns
            .iter()
            .find(|a| a.target == target)
            .unwrap_or_else(|| panic!("no assign {target}: {:#?}", f.assigns))
    }

    fn entry<'a>(v: &'a Value, name: &str) -> &'a Value {
        let Value::Object(args) = v else {
            panic!("not an object: {v:?}")
        };
        &args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no entry {name}: {args:#?}"))
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
    fn imports_requires_and_aliases() {
        let f = run(
            "import OpenAI, { AzureOpenAI as AO, type ClientOptions } from \"openai\";\n\
             import * as Sentry from \"@sentry/node\";\n\
             import { ChatOpenAI } from '@langchain/openai';\n\
             import \"dotenv/config\";\n\
             import legacy = require(\"legacy-sdk\");\n\
             import Alias = Foo.Bar;\n\
             const openai = require(\"openai\");\n\
             const { OpenAI: O2, Configuration } = require(\"openai\");\n\
             const Anthropic = require(\"@anthropic-ai/sdk\").default;\n\
             const { GoogleGenAI } = await import(\"@google/genai\");\n",
        );
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("OpenAI", "openai"),
                ("AO", "openai.AzureOpenAI"),
                ("ClientOptions", "openai.ClientOptions"),
                ("Sentry", "@sentry/node"),
                ("ChatOpenAI", "@langchain/openai.ChatOpenAI"),
                ("", "dotenv/config"),
                ("legacy", "legacy-sdk"),
                ("Alias", "Foo.Bar"),
                ("openai", "openai"),
                ("O2", "openai.OpenAI"),
                ("Configuration", "openai.Configuration"),
                ("Anthropic", "@anthropic-ai/sdk.default"),
                ("GoogleGenAI", "@google/genai.GoogleGenAI"),
            ]
        );
    }

    #[test]
    fn new_with_object_literal_argument() {
        let src = "import { AzureOpenAI as AO } from \"openai\";\n\
                   const client = new AO({ apiKey: key, endpoint: \"https://x.openai.azure.com\", deployment });\n";
        let f = run(src);
        let ctor = call(&f, "AO");
        assert!(ctor.is_new);
        assert_eq!(ctor.qualified, "openai.AzureOpenAI");
        assert_eq!(ctor.args.len(), 1, "an object literal is one argument");
        let obj = &ctor.args[0].value;
        assert_eq!(entry(obj, "apiKey"), &ident("key"));
        assert_eq!(entry(obj, "endpoint"), &s("https://x.openai.azure.com"));
        assert_eq!(entry(obj, "deployment"), &ident("deployment"));
        assert_eq!(&src[ctor.callee_span.clone()], "AO");
        assert_eq!(assign(&f, "client").value, Value::Call(index(&f, "AO")));
    }

    #[test]
    fn calls_nested_chained_and_tagged() {
        let f = run("const r = await new AzureOpenAI(opts).chat.completions.create({ messages: [{ role: \"user\", content: prompt }], stream: true });\n\
             client?.chat?.completions?.create(buildParams(note));\n\
             console.log(JSON.stringify(r));\n\
             const q = sql`select * from t where id = ${id}`;\n");
        let outer = index(&f, "AzureOpenAI.chat.completions.create");
        let inner = index(&f, "AzureOpenAI");
        assert!(f.calls[inner].is_new);
        assert!(!f.calls[outer].is_new);
        assert_eq!(f.calls[inner].chained_into, Some(outer));
        assert_eq!(assign(&f, "r").value, Value::Call(outer));
        let params = &f.calls[outer].args[0].value;
        assert_eq!(entry(params, "stream"), &Value::Bool(true));
        let Value::Array(msgs) = entry(params, "messages") else {
            panic!()
        };
        assert_eq!(entry(&msgs[0], "content"), &ident("prompt"));
        let build = index(&f, "buildParams");
        assert_eq!(
            call(&f, "client.chat.completions.create").args[0].value,
            Value::Call(build)
        );
        let stringify = index(&f, "JSON.stringify");
        assert_eq!(
            call(&f, "console.log").args[0].value,
            Value::Call(stringify)
        );
        let tagged = call(&f, "sql");
        assert!(matches!(tagged.args[0].value, Value::Template(_)));
    }

    #[test]
    fn decorators() {
        let f = run("@Injectable()\n\
             export class Svc {\n\
             \x20 @observe\n\
             \x20 async ask(@Inject(TOKEN) x: string) {}\n\
             \x20 @Trace({ name: \"t\" }) field = 1;\n\
             }\n");
        let names: Vec<&str> = f
            .calls
            .iter()
            .filter(|c| c.decorator)
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(names, vec!["Injectable", "observe", "Inject", "Trace"]);
        assert!(call(&f, "observe").args.is_empty());
        assert_eq!(entry(&call(&f, "Trace").args[0].value, "name"), &s("t"));
    }

    #[test]
    fn value_kinds() {
        let f = run("const a = 'it\\'s\\n';\n\
             const b = 42;\n\
             const c = -1;\n\
             const d = false;\n\
             const e = null;\n\
             const g = undefined;\n\
             const h = resp.choices[0].message;\n\
             const i = data[\"note\"];\n\
             const j = [1, x, ...rest];\n\
             const k = { model: \"gpt-4\", \"max-tokens\": 10, [dyn]: 1, ...extra, prompt };\n\
             const l = cond ? x : y;\n\
             const m = items[key];\n\
             const n = (client as any)!;\n\
             const o = (await fetch(url)).json;\n\
             const p = cfg satisfies Config;\n\
             const q = typeof z;\n");
        assert_eq!(assign(&f, "a").value, s("it's\n"));
        assert_eq!(assign(&f, "b").value, Value::Number("42".into()));
        assert_eq!(assign(&f, "c").value, Value::Number("-1".into()));
        assert_eq!(assign(&f, "d").value, Value::Bool(false));
        assert_eq!(assign(&f, "e").value, Value::Null);
        assert_eq!(assign(&f, "g").value, Value::Null);
        assert_eq!(assign(&f, "h").value, ident("resp.choices[0].message"));
        assert_eq!(assign(&f, "i").value, ident("data[\"note\"]"));
        assert_eq!(
            assign(&f, "j").value,
            Value::Array(vec![
                Value::Number("1".into()),
                ident("x"),
                Value::Other(vec!["rest".into()])
            ])
        );
        let k = &assign(&f, "k").value;
        assert_eq!(entry(k, "model"), &s("gpt-4"));
        assert_eq!(entry(k, "max-tokens"), &Value::Number("10".into()));
        assert_eq!(entry(k, "prompt"), &ident("prompt"));
        let Value::Object(entries) = k else { panic!() };
        assert_eq!(entries[2].name, None);
        assert_eq!(entries[3].name, None);
        assert_eq!(entries[3].value, Value::Other(vec!["extra".into()]));
        assert_eq!(
            assign(&f, "l").value,
            Value::Other(vec!["cond".into(), "x".into(), "y".into()])
        );
        assert_eq!(
            assign(&f, "m").value,
            Value::Other(vec!["items".into(), "key".into()])
        );
        assert_eq!(assign(&f, "n").value, ident("client"));
        assert_eq!(assign(&f, "o").value, Value::Call(index(&f, "fetch")));
        assert_eq!(assign(&f, "p").value, ident("cfg"));
        assert_eq!(assign(&f, "q").value, Value::Other(vec!["z".into()]));
    }

    #[test]
    fn environment_reads() {
        let f = run("const a = process.env.A;\n\
             const b = process.env[\"B\"];\n\
             const c = process.env.C ?? \"fc\";\n\
             const d = process.env.D || \"fd\";\n\
             const { E, F = \"ff\" } = process.env;\n\
             const g = import.meta.env.VITE_G;\n\
             const h = process.env.H?.trim();\n\
             const i = Deno.env.get(\"I\");\n\
             const j = process.env;\n\
             const k = `${process.env.K}`;\n");
        assert_eq!(assign(&f, "a").value, env("A", None));
        assert_eq!(assign(&f, "b").value, env("B", None));
        assert_eq!(assign(&f, "c").value, env("C", Some(s("fc"))));
        assert_eq!(assign(&f, "d").value, env("D", Some(s("fd"))));
        assert_eq!(assign(&f, "E").value, env("E", None));
        assert_eq!(assign(&f, "F").value, env("F", Some(s("ff"))));
        assert_eq!(assign(&f, "g").value, env("VITE_G", None));
        assert_eq!(assign(&f, "h").value, env("H", None));
        assert_eq!(assign(&f, "i").value, env("I", None));
        assert_eq!(assign(&f, "j").value, ident("process.env"));
        assert_eq!(
            assign(&f, "k").value,
            Value::Template(vec![Part::Hole(env("K", None))])
        );
    }

    #[test]
    fn environment_writes_are_config() {
        let src = "process.env.OPENAI_BASE_URL = \"https://proxy\";\nprocess.env[\"AZURE_OPENAI_KEY\"] = key;\n";
        let f = run(src);
        assert_eq!(f.config.len(), 2);
        assert_eq!(f.config[0].key, "OPENAI_BASE_URL");
        assert_eq!(f.config[0].value, s("https://proxy"));
        assert_eq!(&src[f.config[0].key_span.clone()], "OPENAI_BASE_URL");
        assert_eq!(&src[f.config[0].value_span.clone()], "\"https://proxy\"");
        assert_eq!(f.config[1].key, "AZURE_OPENAI_KEY");
        assert_eq!(f.config[1].value, ident("key"));
        assert!(f.assigns.is_empty());
    }

    #[test]
    fn template_literals_and_concatenation() {
        let src = "const p = `Summarize ${note.text} for ${patient[\"name\"]}\\n`;\nconst q = \"Patient: \" + name + \"!\";\nconst r = `plain`;\n";
        let f = run(src);
        assert_eq!(
            assign(&f, "p").value,
            Value::Template(vec![
                Part::Lit("Summarize ".into()),
                Part::Hole(ident("note.text")),
                Part::Lit(" for ".into()),
                Part::Hole(ident("patient[\"name\"]")),
                Part::Lit("\n".into()),
            ])
        );
        let lit = &f.strings[0];
        assert_eq!(lit.value, "Summarize {} for {}\n");
        assert!(!lit.raw_is_value);
        assert_eq!(lit.content_start, src.find('`').unwrap() + 1);
        assert_eq!(
            assign(&f, "q").value,
            Value::Template(vec![
                Part::Lit("Patient: ".into()),
                Part::Hole(ident("name")),
                Part::Lit("!".into()),
            ])
        );
        assert_eq!(assign(&f, "r").value, s("plain"));
        assert!(f.strings.last().unwrap().raw_is_value);
    }

    #[test]
    fn assignments_of_every_shape() {
        let src = "class Bot {\n\
                   \x20 client = new OpenAI();\n\
                   \x20 #secret = \"s\";\n\
                   \x20 constructor(private readonly logger: Logger, model = \"gpt-4\") {\n\
                   \x20   this.model = model;\n\
                   \x20 }\n\
                   \x20 handle(msgs, { patient, note = \"\" } = {}) {\n\
                   \x20   const { a, b: renamed } = obj;\n\
                   \x20   let [first, second] = pair;\n\
                   \x20   let total = 0;\n\
                   \x20   total += msgs.length;\n\
                   \x20   for (const m of msgs) send(m);\n\
                   \x20   for (const [i, n] of notes.entries()) {}\n\
                   \x20   x = y = \"same\";\n\
                   \x20   module.exports.handler = async (event) => event.body;\n\
                   \x20 }\n\
                   }\n";
        let f = run(src);
        let openai = index(&f, "OpenAI");
        assert_eq!(assign(&f, "this.client").value, Value::Call(openai));
        assert_eq!(assign(&f, "client").value, Value::Call(openai));
        assert_eq!(assign(&f, "this.#secret").value, s("s"));
        let ctor = f
            .scopes
            .iter()
            .position(|s| s.name == "constructor")
            .unwrap();
        assert_eq!(f.scopes[ctor].params, vec!["logger", "model"]);
        assert_eq!(assign(&f, "this.logger").value, ident("logger"));
        assert_eq!(assign(&f, "model").value, s("gpt-4"));
        assert_eq!(assign(&f, "model").scope, ctor);
        assert_eq!(assign(&f, "this.model").value, ident("model"));
        let handle = f.scopes.iter().position(|s| s.name == "handle").unwrap();
        assert_eq!(f.scopes[handle].params.len(), 2);
        assert_eq!(assign(&f, "note").value, Value::Null);
        assert_eq!(assign(&f, "a").value, ident("obj.a"));
        assert_eq!(assign(&f, "renamed").value, ident("obj.b"));
        assert_eq!(assign(&f, "first").value, ident("pair[0]"));
        assert_eq!(assign(&f, "second").value, ident("pair[1]"));
        let aug = f
            .assigns
            .iter()
            .filter(|a| a.target == "total")
            .nth(1)
            .unwrap();
        assert_eq!(
            aug.value,
            Value::Other(vec!["total".into(), "msgs.length".into()])
        );
        assert_eq!(assign(&f, "m").value, Value::Other(vec!["msgs".into()]));
        assert_eq!(assign(&f, "n").value, Value::Other(vec!["notes".into()]));
        assert_eq!(assign(&f, "x").value, s("same"));
        assert_eq!(assign(&f, "y").value, s("same"));
        assert!(f.scopes.iter().any(|s| s.name == "module.exports.handler"));
        assert_eq!(
            assign(&f, "module.exports.handler").value,
            Value::Other(vec!["event.body".into()])
        );
    }

    #[test]
    fn scopes_and_params() {
        let src = "function outer(a, b = 1) {\n  const inner = (x, ...rest) => {\n    return function named(y) { return call(a); };\n  };\n  return arr.map(v => v * 2);\n}\n";
        let f = run_as(src, Lang::JavaScript);
        let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["", "outer", "inner", "named", "<anonymous>"]);
        assert_eq!(f.scopes[1].params, vec!["a", "b"]);
        assert_eq!(f.scopes[2].params, vec!["x", "rest"]);
        assert_eq!(f.scopes[2].parent, 1);
        assert_eq!(f.scopes[3].parent, 2);
        assert_eq!(f.scopes[4].params, vec!["v"]);
        assert_eq!(call(&f, "call").scope, 3);
        assert_eq!(assign(&f, "b").scope, 1);
    }

    #[test]
    fn comments_of_every_form() {
        let src =
            "// line\n/* block */\nconst x = {\n  a: 1, // inside\n  /** doc */ b: \"v\",\n};\n";
        let f = run_as(src, Lang::JavaScript);
        let texts: Vec<&str> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["// line", "/* block */", "// inside", "/** doc */"]
        );
        let strings: Vec<&str> = f.strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(strings, vec!["v"]);
    }

    #[test]
    fn jsx_and_tsx() {
        let jsx = "const el = <Chat prompt={buildPrompt(note)} title=\"Hi\">{render(x)}</Chat>;\n";
        let f = run_as(jsx, Lang::JavaScript);
        assert!(!f.parse_errors);
        assert_eq!(call(&f, "buildPrompt").args[0].value, ident("note"));
        assert!(f.calls.iter().any(|c| c.callee == "render"));
        assert!(f.strings.iter().any(|s| s.value == "Hi"));
        let tsx = "export function View<T,>({ note }: Props<T>) { return <p>{summarize(note as string)}</p>; }\n";
        let f = run_as(tsx, Lang::Tsx);
        assert!(!f.parse_errors);
        assert_eq!(call(&f, "summarize").args[0].value, ident("note"));
        assert_eq!(call(&f, "summarize").scope, 1);
    }

    #[test]
    fn parse_errors_are_recovered() {
        let f =
            run("function broken( {\n\nopenai.chat.completions.create({ model: \"gpt-4\" });\n");
        assert!(f.parse_errors);
        assert!(f.calls.iter().any(|c| c.callee.ends_with("create")));
        assert!(!run("const x = 1;\n").parse_errors);
    }

    #[test]
    fn crlf_text() {
        let src = "import OpenAI from \"openai\";\r\n// note\r\nconst c = new OpenAI({ apiKey: \"k\" });\r\nconst t = `a\r\nb${x}`;\r\n";
        let f = run(src);
        assert_eq!(f.comments[0].text, "// note");
        assert_eq!(call(&f, "OpenAI").qualified, "openai");
        assert_eq!(
            assign(&f, "t").value,
            Value::Template(vec![Part::Lit("a\r\nb".into()), Part::Hole(ident("x"))])
        );
    }

    #[test]
    fn non_ascii_text_keeps_char_boundaries() {
        let src = "// café ☕\nconst note = \"Patiënt José — 日本\";\nconst p = `Résumé ${naïve} ✓`;\nclient.create({ msg: \"naïve\", é: 1 });\n";
        let f = run(src);
        let lit = &f.strings[0];
        assert_eq!(lit.value, "Patiënt José — 日本");
        assert!(lit.raw_is_value);
        assert_eq!(f.strings[1].value, "Résumé {} ✓");
        assert_eq!(
            entry(&call(&f, "client.create").args[0].value, "é"),
            &Value::Number("1".into())
        );
    }

    #[test]
    fn deep_nesting_is_cut_off_with_a_note() {
        let n = 10_000;
        let src = format!(
            "x = {}1{};\ny = {}{};\nz = {}{};\nu = {}1{};\nclient.create({{ model: \"m\" }});\n",
            "(".repeat(n),
            ")".repeat(n),
            "[".repeat(n),
            "]".repeat(n),
            "f(".repeat(n),
            ")".repeat(n),
            "{a: ".repeat(n),
            "}".repeat(n),
        );
        for lang in [Lang::JavaScript, Lang::TypeScript, Lang::Tsx] {
            let f = run_as(&src, lang);
            assert!(!f.notes.is_empty());
            assert_eq!(
                entry(&call(&f, "client.create").args[0].value, "model"),
                &s("m")
            );
        }
        let chain = format!("w = a{};\n", ".b".repeat(n));
        assert!(!run(&chain).notes.is_empty());
    }

    #[test]
    fn never_panics_on_garbage() {
        for src in [
            "",
            "(",
            "`${",
            "function",
            "@",
            "x = 'unterminated",
            "class A { constructor( }",
            "import { from",
            "process.env[] = 1",
            "<div>{</div>",
            "const {a: {b: [c = process.env.X]}} = y;",
        ] {
            for lang in [Lang::JavaScript, Lang::TypeScript, Lang::Tsx] {
                run_as(src, lang);
            }
        }
    }
}
