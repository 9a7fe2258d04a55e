//! Java node kinds (tree-sitter-java 0.23) mapped onto the shared clike walk.
//!
//! Covers imports, annotations as decorator calls (with Spring `@Value("${x}")` fields and
//! parameters read as configuration), method invocations, `new` (anonymous class bodies are
//! walked), builder chains folded into one call, `String.format` / `.formatted` /
//! `MessageFormat.format` templates, `System.getenv` / `getProperty` reads, `System.setProperty`
//! writes, declarations, lambdas and enhanced `for`. It does not resolve types, overloads or
//! static imports of methods.

use tree_sitter::Node;

use super::{
    env_of, format_template, is_builder_start, is_type_name, last_named, last_segment, trivia,
    CallParts, Cx, FmtStyle, Link, Seg,
};
use crate::facts::{Arg, Import, Value};

pub(super) fn visit(cx: &mut Cx, n: Node, want: bool) -> Option<Value> {
    let v = match n.kind() {
        "import_declaration" => {
            import(cx, n);
            Value::Null
        }
        "package_declaration" => Value::Null,
        "annotation" | "marker_annotation" => Value::Call(annotation(cx, n)),
        "method_declaration" | "constructor_declaration" | "compact_constructor_declaration" => {
            function(cx, n);
            Value::Null
        }
        "lambda_expression" => lambda(cx, n),
        "field_declaration" => {
            declaration(cx, n, true);
            Value::Null
        }
        "local_variable_declaration" => {
            declaration(cx, n, false);
            Value::Null
        }
        "formal_parameter" | "spread_parameter" => {
            parameter(cx, n);
            Value::Null
        }
        "assignment_expression" => assignment(cx, n, want),
        "enhanced_for_statement" => {
            enhanced_for(cx, n);
            Value::Null
        }
        "method_invocation" => invocation(cx, n),
        "explicit_constructor_invocation" => {
            let ctor = n.child_by_field_name("constructor");
            let args = arguments(cx, n.child_by_field_name("arguments"));
            let i = cx.push_call(CallParts {
                callee: ctor.map(|c| cx.text(c).to_string()).unwrap_or_default(),
                callee_span: ctor.map(|c| c.byte_range()).unwrap_or(n.byte_range()),
                is_new: false,
                args,
                span: n.byte_range(),
                receiver: None,
                decorator: false,
            });
            Value::Call(i)
        }
        "object_creation_expression" => Value::Call(creation(cx, n)),
        "field_access" | "array_access" => cx.chain_value(n, step, base_name),
        "identifier" | "this" | "super" | "type_identifier" => Value::Ident(cx.text(n).to_string()),
        "string_literal" => cx.string_value(n),
        "character_literal" => {
            let t = cx.text(n);
            Value::Str(
                t.get(1..t.len().saturating_sub(1))
                    .unwrap_or("")
                    .to_string(),
            )
        }
        "decimal_integer_literal"
        | "hex_integer_literal"
        | "octal_integer_literal"
        | "binary_integer_literal"
        | "decimal_floating_point_literal"
        | "hex_floating_point_literal" => Value::Number(cx.text(n).to_string()),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null_literal" => Value::Null,
        "binary_expression" => {
            let plus = n
                .child_by_field_name("operator")
                .is_some_and(|o| cx.text(o) == "+");
            if plus {
                cx.concat(n, "binary_expression")
            } else {
                return None;
            }
        }
        "parenthesized_expression" => match last_named(n, None) {
            Some(inner) => cx.visit(inner, want),
            None => Value::Null,
        },
        "cast_expression" => match n.child_by_field_name("value") {
            Some(inner) => cx.visit(inner, want),
            None => return None,
        },
        "array_creation_expression" => match n.child_by_field_name("value") {
            Some(init) => {
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if child.id() != init.id() && !trivia(child) {
                        cx.visit(child, false);
                    }
                }
                cx.visit(init, want)
            }
            None => return None,
        },
        "array_initializer" | "element_value_array_initializer" => {
            let mut items = Vec::new();
            let mut cursor = n.walk();
            for el in n.named_children(&mut cursor) {
                if !trivia(el) {
                    items.push(cx.visit(el, true));
                }
            }
            Value::Array(items)
        }
        _ => return None,
    };
    Some(v)
}

/// A dotted name from `scoped_identifier` / `scoped_type_identifier` / generic types,
/// without recursion.
fn dotted(cx: &Cx, n: Node) -> String {
    let mut segs: Vec<&str> = Vec::new();
    let mut cur = n;
    loop {
        match cur.kind() {
            "scoped_identifier" | "scoped_type_identifier" => {
                let name = cur
                    .child_by_field_name("name")
                    .or_else(|| last_named(cur, None));
                if let Some(name) = name {
                    segs.push(cx.text(name));
                }
                match cur
                    .child_by_field_name("scope")
                    .or_else(|| cur.named_child(0))
                {
                    Some(s) if Some(s) != name => cur = s,
                    _ => break,
                }
            }
            "generic_type" | "annotated_type" => match cur.named_child(0) {
                Some(inner) if inner.kind() != "type_arguments" => cur = inner,
                _ => break,
            },
            _ => {
                segs.push(cx.text(cur));
                break;
            }
        }
    }
    segs.reverse();
    segs.join(".")
}

fn import(cx: &mut Cx, n: Node) {
    let mut cursor = n.walk();
    let mut path = None;
    let mut wildcard = false;
    for child in n.named_children(&mut cursor) {
        match child.kind() {
            "scoped_identifier" | "identifier" => path = Some(dotted(cx, child)),
            "asterisk" => wildcard = true,
            _ => {}
        }
    }
    let Some(path) = path else {
        return;
    };
    let local = if wildcard {
        String::new()
    } else {
        last_segment(&path).to_string()
    };
    cx.f.imports.push(Import {
        local,
        path,
        span: n.byte_range(),
    });
}

fn annotation(cx: &mut Cx, n: Node) -> usize {
    let name = n.child_by_field_name("name");
    let mut args = Vec::new();
    if let Some(list) = n.child_by_field_name("arguments") {
        let mut cursor = list.walk();
        for a in list.named_children(&mut cursor) {
            if trivia(a) {
                continue;
            }
            if a.kind() == "element_value_pair" {
                let key = a.child_by_field_name("key");
                if let Some(value) = a.child_by_field_name("value") {
                    let v = cx.visit(value, true);
                    args.push(Arg {
                        name: key.map(|k| cx.text(k).to_string()),
                        value: v,
                        span: value.byte_range(),
                    });
                }
            } else {
                let v = cx.visit(a, true);
                args.push(Arg {
                    name: None,
                    value: v,
                    span: a.byte_range(),
                });
            }
        }
    }
    let callee = name.map(|x| dotted(cx, x)).unwrap_or_default();
    cx.push_call(CallParts {
        callee,
        callee_span: name.map(|x| x.byte_range()).unwrap_or(n.byte_range()),
        is_new: false,
        args,
        span: n.byte_range(),
        receiver: None,
        decorator: true,
    })
}

/// Visits the annotations in a `modifiers` node and returns the configuration key of a
/// Spring `@Value("${key:default}")` among them.
fn modifiers(cx: &mut Cx, n: Node) -> Option<(Value, std::ops::Range<usize>)> {
    let mut found = None;
    let mut cursor = n.walk();
    for m in n.named_children(&mut cursor) {
        if !matches!(m.kind(), "annotation" | "marker_annotation") {
            continue;
        }
        let i = annotation(cx, m);
        let c = &cx.f.calls[i];
        if last_segment(&c.callee) != "Value" {
            continue;
        }
        let Some(arg) = c
            .args
            .iter()
            .find(|a| a.name.as_deref().is_none_or(|k| k == "value"))
        else {
            continue;
        };
        if let Some(v) = placeholder(arg.value.as_str().unwrap_or("")) {
            found = Some((v, arg.span.clone()));
        }
    }
    found
}

/// `${a.b}` → Env a.b; `${a.b:dflt}` → with fallback "dflt".
fn placeholder(s: &str) -> Option<Value> {
    let start = s.find("${")?;
    let body = &s[start + 2..];
    let end = body.rfind('}')?;
    let body = &body[..end];
    let (name, fallback) = match body.find(':') {
        Some(i) => (
            &body[..i],
            Some(Box::new(Value::Str(body[i + 1..].to_string()))),
        ),
        None => (body, None),
    };
    Some(Value::Env {
        name: name.trim().to_string(),
        fallback,
    })
}

fn param_names(cx: &Cx, params: Option<Node>) -> Vec<String> {
    let Some(params) = params else {
        return Vec::new();
    };
    if params.kind() == "identifier" {
        return vec![cx.text(params).to_string()];
    }
    let mut out = Vec::new();
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        match p.kind() {
            "identifier" => out.push(cx.text(p).to_string()),
            "formal_parameter" => {
                if let Some(name) = p.child_by_field_name("name") {
                    out.push(cx.text(name).to_string());
                }
            }
            "spread_parameter" => {
                let mut c2 = p.walk();
                let d = p
                    .named_children(&mut c2)
                    .find(|c| c.kind() == "variable_declarator");
                if let Some(name) = d.and_then(|d| d.child_by_field_name("name")) {
                    out.push(cx.text(name).to_string());
                }
            }
            _ => {}
        }
    }
    out
}

fn function(cx: &mut Cx, n: Node) {
    let name = n
        .child_by_field_name("name")
        .map(|x| cx.text(x).to_string())
        .unwrap_or_default();
    let params = param_names(cx, n.child_by_field_name("parameters"));
    // Annotations on the method belong to the enclosing scope, like Python decorators.
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "modifiers" {
            cx.visit(child, false);
        }
    }
    let prev = cx.open_scope(name, params, n.byte_range());
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() != "modifiers" && !trivia(child) {
            cx.visit(child, false);
        }
    }
    cx.close_scope(prev);
}

fn lambda(cx: &mut Cx, n: Node) -> Value {
    let params = param_names(cx, n.child_by_field_name("parameters"));
    let prev = cx.open_scope("<lambda>".into(), params, n.byte_range());
    if let Some(p) = n
        .child_by_field_name("parameters")
        .filter(|p| p.kind() == "formal_parameters")
    {
        cx.visit(p, false);
    }
    let v = match n.child_by_field_name("body") {
        Some(b) if b.kind() != "block" => cx.other_of(&[b]),
        Some(b) => {
            cx.visit(b, false);
            Value::Other(Vec::new())
        }
        None => Value::Other(Vec::new()),
    };
    cx.close_scope(prev);
    v
}

fn parameter(cx: &mut Cx, n: Node) {
    let mut env = None;
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "modifiers" {
            env = modifiers(cx, child);
        }
    }
    let name = n.child_by_field_name("name").or_else(|| {
        let mut c2 = n.walk();
        let d = n
            .named_children(&mut c2)
            .find(|c| c.kind() == "variable_declarator");
        d.and_then(|d| d.child_by_field_name("name"))
    });
    if let (Some((v, span)), Some(name)) = (env, name) {
        let target = cx.text(name).to_string();
        cx.assign(target, v, span);
    }
}

/// Locals and fields (fields are also assigned as `this.x`; `@Value` fields read config).
fn declaration(cx: &mut Cx, n: Node, field: bool) {
    let mut env = None;
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "modifiers" {
            env = modifiers(cx, child);
        }
    }
    let mut cursor = n.walk();
    for d in n.named_children(&mut cursor) {
        if d.kind() != "variable_declarator" {
            continue;
        }
        let Some(name) = d.child_by_field_name("name") else {
            continue;
        };
        let target = cx.text(name).to_string();
        let value = d.child_by_field_name("value");
        let (v, span) = match (value, &env) {
            (Some(value), _) => (cx.visit(value, true), value.byte_range()),
            (None, Some((v, span))) => (v.clone(), span.clone()),
            (None, None) => continue,
        };
        if field {
            cx.assign(format!("this.{target}"), v.clone(), span.clone());
        }
        cx.assign(target, v, span);
    }
}

fn assignment(cx: &mut Cx, n: Node, want: bool) -> Value {
    let (Some(left), Some(right)) = (
        n.child_by_field_name("left"),
        n.child_by_field_name("right"),
    ) else {
        return cx.generic(n, want);
    };
    let op = n
        .child_by_field_name("operator")
        .map(|o| cx.text(o))
        .unwrap_or("=");
    let v = cx.visit(right, true);
    let span = right.byte_range();
    let target = cx.target(left, step, base_name);
    if op == "=" {
        if want {
            cx.assign(target, v.clone(), span);
            v
        } else {
            cx.assign(target, v, span);
            Value::Null
        }
    } else {
        let mut refs = vec![target.clone()];
        cx.absorb(v, &mut refs);
        let combined = Value::Other(refs);
        cx.assign(target, combined.clone(), span);
        combined
    }
}

fn enhanced_for(cx: &mut Cx, n: Node) {
    let value = n.child_by_field_name("value");
    let refs = match value {
        Some(v) => match cx.other_of(&[v]) {
            Value::Other(refs) => refs,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    if let Some(name) = n.child_by_field_name("name") {
        let target = cx.text(name).to_string();
        let span = value.map(|v| v.byte_range()).unwrap_or(n.byte_range());
        cx.assign(target, Value::Other(refs), span);
    }
    if let Some(body) = n.child_by_field_name("body") {
        cx.visit(body, false);
    }
}

fn step<'t>(cx: &Cx<'_>, n: Node<'t>) -> Option<(Node<'t>, Seg<'t>)> {
    match n.kind() {
        "field_access" => {
            let obj = n.child_by_field_name("object")?;
            let field = n.child_by_field_name("field")?;
            Some((obj, Seg::Name(cx.text(field).to_string())))
        }
        "array_access" => {
            let obj = n.child_by_field_name("array")?;
            let index = n.child_by_field_name("index")?;
            let seg = if matches!(index.kind(), "decimal_integer_literal" | "string_literal") {
                Seg::Index(cx.text(index).to_string())
            } else {
                Seg::Dyn(index)
            };
            Some((obj, seg))
        }
        _ => None,
    }
}

fn base_name(cx: &Cx<'_>, n: Node<'_>) -> Option<String> {
    match n.kind() {
        "identifier" | "this" | "super" | "type_identifier" => Some(cx.text(n).to_string()),
        "scoped_identifier" | "scoped_type_identifier" | "generic_type" => Some(dotted(cx, n)),
        _ => None,
    }
}

fn arguments(cx: &mut Cx, list: Option<Node>) -> Vec<Arg> {
    let Some(list) = list else {
        return Vec::new();
    };
    let mut args = Vec::new();
    let mut cursor = list.walk();
    for a in list.named_children(&mut cursor) {
        if trivia(a) {
            continue;
        }
        let v = cx.visit(a, true);
        args.push(Arg {
            name: None,
            value: v,
            span: a.byte_range(),
        });
    }
    args
}

fn creation_parts(cx: &mut Cx, n: Node) -> CallParts {
    let ty = n.child_by_field_name("type");
    let callee = ty.map(|t| dotted(cx, t)).unwrap_or_default();
    let args = arguments(cx, n.child_by_field_name("arguments"));
    // An anonymous class body: its methods are scopes of their own.
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "class_body" {
            cx.visit(child, false);
        }
    }
    CallParts {
        callee,
        callee_span: ty.map(|t| t.byte_range()).unwrap_or(n.byte_range()),
        is_new: true,
        args,
        span: n.byte_range(),
        receiver: None,
        decorator: false,
    }
}

fn creation(cx: &mut Cx, n: Node) -> usize {
    let parts = creation_parts(cx, n);
    cx.push_call(parts)
}

fn method_name(cx: &Cx, n: Node) -> String {
    n.child_by_field_name("name")
        .map(|x| cx.text(x).to_string())
        .unwrap_or_default()
}

/// A plain dotted chain without visiting anything.
fn peek_chain(cx: &Cx, n: Node) -> Option<String> {
    let (b, segs) = cx.spine(n, step);
    let mut s = base_name(cx, b)?;
    for seg in segs {
        match seg {
            Seg::Name(x) => {
                s.push('.');
                s.push_str(&x);
            }
            _ => return None,
        }
    }
    Some(s)
}

/// `new X().a(..).build()` or `X.builder().a(..).build()` folded into one call.
fn fold(cx: &mut Cx, n: Node) -> Option<usize> {
    let mut links = Vec::new();
    let mut cur = n;
    while cur.kind() == "method_invocation" {
        let Some(obj) = cur.child_by_field_name("object") else {
            break;
        };
        if !matches!(
            obj.kind(),
            "method_invocation" | "object_creation_expression"
        ) {
            break;
        }
        links.push(cur);
        cur = obj;
    }
    if links.is_empty() {
        return None;
    }
    let root = if cur.kind() == "object_creation_expression" {
        creation_parts(cx, cur)
    } else {
        let obj = cur.child_by_field_name("object")?;
        let owner = peek_chain(cx, obj)?;
        let method = method_name(cx, cur);
        if !is_type_name(&owner) || !is_builder_start(&method) {
            return None;
        }
        let name = cur.child_by_field_name("name")?;
        let args = arguments(cx, cur.child_by_field_name("arguments"));
        CallParts {
            callee: format!("{owner}.{method}"),
            callee_span: obj.start_byte()..name.end_byte(),
            is_new: false,
            args,
            span: cur.byte_range(),
            receiver: None,
            decorator: false,
        }
    };
    let mut folded = Vec::new();
    for link in links.into_iter().rev() {
        let list = link.child_by_field_name("arguments");
        let args = arguments(cx, list);
        folded.push(Link {
            name: method_name(cx, link),
            args,
            args_span: list.map(|l| l.byte_range()).unwrap_or(link.byte_range()),
        });
    }
    Some(cx.push_folded(root, folded, n.byte_range()))
}

fn callee_base(cx: &mut Cx, b: Node, checked: bool) -> (String, Option<usize>) {
    match b.kind() {
        "method_invocation" => {
            let i = invocation_index(cx, b, checked);
            (cx.f.calls[i].callee.clone(), Some(i))
        }
        "object_creation_expression" => {
            let i = creation(cx, b);
            (cx.f.calls[i].callee.clone(), Some(i))
        }
        "parenthesized_expression" | "cast_expression" => {
            let inner = b
                .child_by_field_name("value")
                .or_else(|| last_named(b, None).filter(|_| b.kind() != "cast_expression"));
            match inner {
                Some(inner) => cx.callee(inner, step, |cx, x| callee_base(cx, x, false)),
                None => (cx.compact(b), None),
            }
        }
        _ => match base_name(cx, b) {
            Some(s) => (s, None),
            None => {
                cx.visit(b, false);
                (cx.compact(b), None)
            }
        },
    }
}

fn invocation_index(cx: &mut Cx, n: Node, checked: bool) -> usize {
    if !checked {
        if let Some(i) = fold(cx, n) {
            return i;
        }
    }
    let name = n.child_by_field_name("name");
    let method = method_name(cx, n);
    let (callee, recv, callee_span) = match n.child_by_field_name("object") {
        Some(obj) => {
            // A call receiver is the next link of this chain, already fold-checked.
            let (mut s, r) = cx.callee(obj, step, |cx, b| callee_base(cx, b, true));
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&method);
            let end = name.map(|x| x.end_byte()).unwrap_or(n.end_byte());
            (s, r, obj.start_byte()..end)
        }
        None => (
            method,
            None,
            name.map(|x| x.byte_range()).unwrap_or(n.byte_range()),
        ),
    };
    let args = arguments(cx, n.child_by_field_name("arguments"));
    cx.push_call(CallParts {
        callee,
        callee_span,
        is_new: false,
        args,
        span: n.byte_range(),
        receiver: recv,
        decorator: false,
    })
}

fn invocation(cx: &mut Cx, n: Node) -> Value {
    let i = invocation_index(cx, n, false);
    let c = &cx.f.calls[i];
    let method = last_segment(&c.callee);
    let owner = c.callee.rsplit_once('.').map(|(o, _)| o).unwrap_or("");
    let owner_last = last_segment(owner).to_ascii_lowercase();
    match (owner, method) {
        ("System", "getenv") | ("System.getenv", "get") => {
            if let Some(v) = env_of(c.args.first(), None) {
                return v;
            }
        }
        ("System.getenv", "getOrDefault") | ("System", "getProperty") => {
            if let Some(v) = env_of(c.args.first(), c.args.get(1)) {
                return v;
            }
        }
        (_, "getProperty" | "getRequiredProperty") if owner_last.contains("env") => {
            if let Some(v) = env_of(c.args.first(), c.args.get(1)) {
                return v;
            }
        }
        (_, "get") if owner_last == "dotenv" => {
            if let Some(v) = env_of(c.args.first(), None) {
                return v;
            }
        }
        ("System", "setProperty") => {
            let args = c.args.clone();
            cx.env_write(&args);
        }
        ("String", "format") => {
            let values: Vec<Value> = c.args.iter().map(|a| a.value.clone()).collect();
            let at = values.iter().position(|v| matches!(v, Value::Str(_)));
            if let Some(at) = at.filter(|&at| at <= 1) {
                if let Value::Str(fmt) = &values[at] {
                    return format_template(FmtStyle::Printf, fmt, &values[at + 1..]);
                }
            }
        }
        ("MessageFormat", "format") => {
            let values: Vec<Value> = c.args.iter().map(|a| a.value.clone()).collect();
            if let Some(Value::Str(fmt)) = values.first() {
                return format_template(FmtStyle::Braces, fmt, &values[1..]);
            }
        }
        (_, "formatted") => {
            let obj = n
                .child_by_field_name("object")
                .filter(|o| o.kind() == "string_literal");
            if let Some(Value::Str(fmt)) = obj.map(|o| cx.string_value(o)) {
                let values: Vec<Value> = c.args.iter().map(|a| a.value.clone()).collect();
                return format_template(FmtStyle::Printf, &fmt, &values);
            }
        }
        _ => {}
    }
    Value::Call(i)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Part, Value};

    fn java(src: &str) -> crate::facts::Facts {
        let f = run(Lang::Java, src);
        check_strings(&f, src);
        f
    }

    #[test]
    fn imports() {
        let f = java(
            "package com.acme;\nimport com.azure.ai.openai.OpenAIClientBuilder;\nimport com.openai.client.*;\nimport static org.slf4j.LoggerFactory.getLogger;\n",
        );
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "OpenAIClientBuilder",
                    "com.azure.ai.openai.OpenAIClientBuilder"
                ),
                ("", "com.openai.client"),
                ("getLogger", "org.slf4j.LoggerFactory.getLogger"),
            ]
        );
    }

    #[test]
    fn azure_builder_chain_folds_into_one_call() {
        let src = r#"
import com.azure.ai.openai.OpenAIClientBuilder;
class Svc {
  OpenAIClient make(String endpoint, String key) {
    OpenAIClient client = new OpenAIClientBuilder()
        .endpoint(endpoint)
        .credential(new AzureKeyCredential(key))
        .serviceVersion(OpenAIServiceVersion.V2024_10_21)
        .buildClient();
    ChatCompletions cc = client.getChatCompletions("gpt-4o-deployment", options);
    return client;
  }
}
"#;
        let f = java(src);
        let b = call(&f, "OpenAIClientBuilder");
        assert!(b.is_new);
        assert_eq!(b.qualified, "com.azure.ai.openai.OpenAIClientBuilder");
        assert_eq!(arg(b, "endpoint"), &id("endpoint"));
        let Value::Call(cred) = arg(b, "credential") else {
            panic!()
        };
        assert_eq!(f.calls[*cred].callee, "AzureKeyCredential");
        assert_eq!(pos(&f.calls[*cred], 0), &id("key"));
        assert_eq!(
            arg(b, "serviceVersion"),
            &id("OpenAIServiceVersion.V2024_10_21")
        );
        assert_eq!(arg(b, "buildClient"), &Value::Null);
        assert!(src[b.span.clone()].ends_with(".buildClient()"));
        assert_eq!(b.scope, 1);
        assert!(!f.calls.iter().any(|c| c.callee.contains("buildClient")));
        let idx = f
            .calls
            .iter()
            .position(|c| c.callee == "OpenAIClientBuilder")
            .unwrap();
        assert_eq!(assigned(&f, "client").value, Value::Call(idx));
        let g = call(&f, "client.getChatCompletions");
        assert_eq!(pos(g, 0), &s("gpt-4o-deployment"));
        assert_eq!(pos(g, 1), &id("options"));
        assert_eq!(f.scopes[1].params, vec!["endpoint", "key"]);
    }

    #[test]
    fn openai_java_static_builder_and_from_env() {
        let src = r#"
OpenAIClient a = OpenAIOkHttpClient.builder()
    .baseUrl(System.getenv("AZURE_OPENAI_ENDPOINT"))
    .apiKey(key)
    .azureServiceVersion(AzureOpenAIServiceVersion.getV2024_10_21())
    .build();
OpenAIClient b = OpenAIOkHttpClient.fromEnv();
ChatCompletionCreateParams p = ChatCompletionCreateParams.builder()
    .addUserMessage("Summarize: " + note)
    .model(ChatModel.GPT_4O)
    .build();
Span.current().setAttribute("gen_ai.prompt", prompt);
"#;
        let f = java(src);
        let a = call(&f, "OpenAIOkHttpClient.builder");
        assert!(!a.is_new);
        assert_eq!(arg(a, "baseUrl"), &env("AZURE_OPENAI_ENDPOINT"));
        assert_eq!(arg(a, "apiKey"), &id("key"));
        assert!(matches!(arg(a, "azureServiceVersion"), Value::Call(_)));
        assert_eq!(arg(a, "build"), &Value::Null);
        assert_eq!(call(&f, "OpenAIOkHttpClient.fromEnv").args.len(), 0);
        let p = call(&f, "ChatCompletionCreateParams.builder");
        assert_eq!(
            arg(p, "addUserMessage"),
            &Value::Template(vec![
                Part::Lit("Summarize: ".into()),
                Part::Hole(id("note"))
            ])
        );
        // Not a builder: an ordinary chain with chained_into.
        let outer = f
            .calls
            .iter()
            .position(|c| c.callee == "Span.current.setAttribute")
            .unwrap();
        assert_eq!(call(&f, "Span.current").chained_into, Some(outer));
        assert_eq!(pos(&f.calls[outer], 1), &id("prompt"));
    }

    #[test]
    fn spring_value_fields_and_params_read_config() {
        let src = r#"
@Service
public class ChatService {
    @Value("${spring.ai.openai.api-key}")
    private String apiKey;
    @Value("${spring.ai.openai.base-url:https://api.openai.com}") private String baseUrl;
    private final String model = "gpt-4o";
    public ChatService(@Value("${azure.openai.endpoint}") String endpoint) { this.endpoint = endpoint; }
}
"#;
        let f = java(src);
        assert_eq!(
            assigned(&f, "apiKey").value,
            env("spring.ai.openai.api-key")
        );
        assert_eq!(
            assigned(&f, "this.apiKey").value,
            env("spring.ai.openai.api-key")
        );
        assert_eq!(
            assigned(&f, "baseUrl").value,
            Value::Env {
                name: "spring.ai.openai.base-url".into(),
                fallback: Some(Box::new(s("https://api.openai.com")))
            }
        );
        assert_eq!(assigned(&f, "this.model").value, s("gpt-4o"));
        let e = assigned(&f, "endpoint");
        assert_eq!(e.value, env("azure.openai.endpoint"));
        assert_eq!(e.scope, 1);
        assert_eq!(assigned(&f, "this.endpoint").value, id("endpoint"));
        let g = java("class C extends B { C(String k) { super(k, \"x\"); } }");
        let sup = call(&g, "super");
        assert_eq!(pos(sup, 1), &s("x"));
        assert_eq!(sup.scope, 1);
        let decos: Vec<&str> = f
            .calls
            .iter()
            .filter(|c| c.decorator)
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(decos, vec!["Service", "Value", "Value", "Value"]);
        assert_eq!(pos(call(&f, "Value"), 0), &s("${spring.ai.openai.api-key}"));
    }

    #[test]
    fn logging_env_and_templates() {
        let src = r#"
class L {
  private static final Logger log = LoggerFactory.getLogger(L.class);
  void m(Patient patient) {
    log.info("Prompt for {}: {}", patient.getName(), prompt);
    System.out.println("Response: " + response.choices().get(0).message().content());
    String k = System.getenv("OPENAI_API_KEY");
    String u = System.getProperty("openai.url", "https://x");
    String v = env.getProperty("spring.ai.openai.chat.options.model");
    String w = System.getenv().getOrDefault("MODEL", "gpt-4o");
    System.setProperty("OPENAI_BASE_URL", "https://proxy");
    String s = String.format("Patient %s has %d visits", patient.name, n);
    String t = "%s: %s".formatted(a, b);
    String r = MessageFormat.format("Hi {0}", name);
    Sentry.captureMessage("failed " + patient.getMrn());
  }
}
"#;
        let f = java(src);
        let l = call(&f, "log.info");
        assert_eq!(pos(l, 0), &s("Prompt for {}: {}"));
        assert!(matches!(pos(l, 1), Value::Call(_)));
        assert_eq!(pos(l, 2), &id("prompt"));
        let p = call(&f, "System.out.println");
        let Value::Template(parts) = pos(p, 0) else {
            panic!()
        };
        assert_eq!(parts[0], Part::Lit("Response: ".into()));
        assert!(f
            .calls
            .iter()
            .any(|c| c.callee == "response.choices.get.message.content"));
        assert_eq!(assigned(&f, "k").value, env("OPENAI_API_KEY"));
        assert_eq!(
            assigned(&f, "u").value,
            Value::Env {
                name: "openai.url".into(),
                fallback: Some(Box::new(s("https://x")))
            }
        );
        assert_eq!(
            assigned(&f, "v").value,
            env("spring.ai.openai.chat.options.model")
        );
        assert_eq!(
            assigned(&f, "w").value,
            Value::Env {
                name: "MODEL".into(),
                fallback: Some(Box::new(s("gpt-4o")))
            }
        );
        assert_eq!(f.config.len(), 1);
        assert_eq!(f.config[0].key, "OPENAI_BASE_URL");
        assert_eq!(
            assigned(&f, "s").value,
            Value::Template(vec![
                Part::Lit("Patient ".into()),
                Part::Hole(id("patient.name")),
                Part::Lit(" has ".into()),
                Part::Hole(id("n")),
                Part::Lit(" visits".into()),
            ])
        );
        assert_eq!(
            assigned(&f, "t").value,
            Value::Template(vec![
                Part::Hole(id("a")),
                Part::Lit(": ".into()),
                Part::Hole(id("b"))
            ])
        );
        assert_eq!(
            assigned(&f, "r").value,
            Value::Template(vec![Part::Lit("Hi ".into()), Part::Hole(id("name"))])
        );
        assert!(matches!(
            pos(call(&f, "Sentry.captureMessage"), 0),
            Value::Template(_)
        ));
        assert_eq!(assigned(&f, "log").scope, 0);
        assert!(matches!(assigned(&f, "this.log").value, Value::Call(_)));
    }

    #[test]
    fn scopes_lambdas_loops_and_anonymous_classes() {
        let src = r#"
class C {
  void run(List<Message> messages, String... extra) {
    messages.forEach(m -> send(m));
    Function<String, String> f = (a) -> { return redact(a); };
    BiFunction<String, String, String> g = (String x, String y) -> x + y;
    for (Message m : messages) { total += m.length(); }
    Runnable r = new Runnable() { public void run() { go(); } };
    this.last = messages.get(0);
    int[] arr = {1, 2};
    Object o = arr[0];
    Object p = (Object) q;
  }
}
"#;
        let f = java(src);
        let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["", "run", "<lambda>", "<lambda>", "<lambda>", "run"]
        );
        assert_eq!(f.scopes[1].params, vec!["messages", "extra"]);
        assert_eq!(f.scopes[2].params, vec!["m"]);
        assert_eq!(f.scopes[3].params, vec!["a"]);
        assert_eq!(f.scopes[4].params, vec!["x", "y"]);
        assert_eq!(call(&f, "send").scope, 2);
        assert_eq!(call(&f, "redact").scope, 3);
        assert_eq!(call(&f, "go").scope, 5);
        assert_eq!(f.scopes[5].parent, 1);
        assert_eq!(
            assigned(&f, "m").value,
            Value::Other(vec!["messages".into()])
        );
        assert!(matches!(assigned(&f, "total").value, Value::Other(_)));
        assert!(matches!(assigned(&f, "this.last").value, Value::Call(_)));
        assert_eq!(
            assigned(&f, "arr").value,
            Value::Array(vec![Value::Number("1".into()), Value::Number("2".into())])
        );
        assert_eq!(assigned(&f, "o").value, id("arr[0]"));
        assert_eq!(assigned(&f, "p").value, id("q"));
        assert_eq!(
            assigned(&f, "g").value,
            Value::Other(vec!["x".into(), "y".into()])
        );
    }

    #[test]
    fn http_request_builder_to_openai() {
        let src = r#"
HttpRequest req = HttpRequest.newBuilder()
    .uri(URI.create("https://api.openai.com/v1/chat/completions"))
    .header("Authorization", "Bearer " + key)
    .POST(HttpRequest.BodyPublishers.ofString(body))
    .build();
"#;
        let f = java(src);
        let r = call(&f, "HttpRequest.newBuilder");
        let Value::Call(u) = arg(r, "uri") else {
            panic!()
        };
        assert_eq!(
            pos(&f.calls[*u], 0),
            &s("https://api.openai.com/v1/chat/completions")
        );
        assert_eq!(arg(r, "header"), &s("Authorization"));
        assert!(matches!(arg(r, "header.1"), Value::Template(_)));
    }

    #[test]
    fn strings_text_blocks_and_comments() {
        let src = "// line\n/* block */\n/** doc */\nclass C { String a = \"x\\n\"; String b = \"\"\"\n  hi\"\"\"; String c = \"\"; char d = 'q'; }\n";
        let f = java(src);
        let v: Vec<(&str, bool)> = f
            .strings
            .iter()
            .map(|s| (s.value.as_str(), s.raw_is_value))
            .collect();
        assert_eq!(v, vec![("x\n", false), ("\n  hi", true), ("", true)]);
        assert_eq!(f.comments.len(), 3);
        assert_eq!(assigned(&f, "d").value, s("q"));
    }

    #[test]
    fn broken_and_deep_input() {
        let f = java("class C { void m() { foo(\"a\", ; bar(); }");
        assert!(f.parse_errors);
        assert!(f.calls.iter().any(|c| c.callee == "bar"));
        for src in [
            format!("class C {{ Object x = {}; }}", nest("f(", "1", ")", 10_000)),
            format!("class C {{ Object x = {}; }}", nest("(", "1", ")", 10_000)),
            format!(
                "class C {{ void m() {{ {} }} }}",
                nest("{ ", "f();", " }", 10_000)
            ),
            format!("class C {{ Object x = a{}; }}", ".b".repeat(10_000)),
            format!("class C {{ Object x = new B(){}; }}", ".m()".repeat(10_000)),
            format!("class C {{ Object x = {}1; }}", "\"s\" + ".repeat(10_000)),
        ] {
            let f = java(&src);
            assert!(!f.scopes.is_empty());
        }
    }
}
