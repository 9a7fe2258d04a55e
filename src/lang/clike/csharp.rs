//! C# node kinds (tree-sitter-c-sharp 0.23) mapped onto the shared clike walk.
//!
//! Covers `using` imports, attributes as decorator calls, invocations, `new` with arguments and
//! object/collection initializers, builder chains, named arguments, interpolated strings,
//! `string.Format`, `IConfiguration`/`Environment` reads and writes, declarations, properties,
//! lambdas and local functions. It does not resolve overloads, extension methods or types
//! beyond the declared type of a target-typed `new()`.

use tree_sitter::Node;

use super::{
    after_equals, child_of_kind, env_of, format_template, is_builder_start, is_type_name,
    last_named, last_segment, trivia, CallParts, Cx, FmtStyle, Link, Seg,
};
use crate::facts::{Arg, Import, Value};

pub(super) fn visit(cx: &mut Cx, n: Node, want: bool) -> Option<Value> {
    let v = match n.kind() {
        "using_directive" => {
            using(cx, n);
            Value::Null
        }
        "attribute_list" => {
            attributes(cx, n);
            Value::Null
        }
        "namespace_declaration" | "file_scoped_namespace_declaration" => return None,
        "method_declaration"
        | "constructor_declaration"
        | "destructor_declaration"
        | "local_function_statement"
        | "operator_declaration"
        | "conversion_operator_declaration" => {
            function(cx, n);
            Value::Null
        }
        "lambda_expression" | "anonymous_method_expression" => lambda(cx, n),
        "field_declaration" | "event_field_declaration" => {
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                if child.kind() == "variable_declaration" {
                    declaration(cx, child, true);
                } else {
                    cx.visit(child, false);
                }
            }
            Value::Null
        }
        "variable_declaration" => {
            declaration(cx, n, false);
            Value::Null
        }
        "property_declaration" => {
            property(cx, n);
            Value::Null
        }
        "parameter" => {
            parameter(cx, n);
            Value::Null
        }
        "assignment_expression" => assignment(cx, n, want),
        "constructor_initializer" => {
            // `: base(x)` / `: this(x)` calls another constructor.
            let keyword = n.child(1).filter(|k| !k.is_named());
            let list = child_of_kind(n, "argument_list");
            let args = arguments(cx, list);
            let i = cx.push_call(CallParts {
                callee: keyword.map(|k| cx.text(k).to_string()).unwrap_or_default(),
                callee_span: keyword.map(|k| k.byte_range()).unwrap_or(n.byte_range()),
                is_new: false,
                args,
                span: n.byte_range(),
                receiver: None,
                decorator: false,
            });
            Value::Call(i)
        }
        "foreach_statement" => {
            foreach(cx, n);
            Value::Null
        }
        "invocation_expression" => invocation(cx, n, false),
        "object_creation_expression" | "implicit_object_creation_expression" => {
            Value::Call(creation(cx, n, None))
        }
        "anonymous_object_creation_expression" => anonymous_object(cx, n),
        "member_access_expression"
        | "element_access_expression"
        | "conditional_access_expression" => member(cx, n),
        "identifier" | "this" | "base" | "this_expression" | "base_expression" => {
            Value::Ident(cx.text(n).to_string())
        }
        "string_literal" | "verbatim_string_literal" | "raw_string_literal" => cx.string_value(n),
        "interpolated_string_expression" => cx.interpolated(n),
        "character_literal" => cx.string_value(n),
        "integer_literal" | "real_literal" => Value::Number(cx.text(n).to_string()),
        "boolean_literal" => Value::Bool(cx.text(n) == "true"),
        "null_literal" => Value::Null,
        "binary_expression" => binary(cx, n),
        "parenthesized_expression"
        | "await_expression"
        | "argument"
        | "arrow_expression_clause"
        | "checked_expression" => match last_named(n, None) {
            Some(inner) => cx.visit(inner, want),
            None => Value::Null,
        },
        "cast_expression" => match n.child_by_field_name("value") {
            Some(inner) => cx.visit(inner, want),
            None => return None,
        },
        "as_expression" => match n.child_by_field_name("left") {
            Some(inner) => cx.visit(inner, want),
            None => return None,
        },
        "postfix_unary_expression" if cx.text(n).trim_end().ends_with('!') => {
            match last_named(n, None) {
                Some(inner) => cx.visit(inner, want),
                None => Value::Null,
            }
        }
        "array_creation_expression"
        | "implicit_array_creation_expression"
        | "stackalloc_expression"
        | "implicit_stackalloc_expression" => match child_of_kind(n, "initializer_expression") {
            Some(init) => {
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if child.id() != init.id() {
                        cx.visit(child, false);
                    }
                }
                initializer(cx, init)
            }
            None => return None,
        },
        "initializer_expression" => initializer(cx, n),
        "collection_expression" => {
            let mut items = Vec::new();
            let mut cursor = n.walk();
            for el in n.named_children(&mut cursor) {
                if trivia(el) {
                    continue;
                }
                let inner = last_named(el, None).unwrap_or(el);
                let inner = last_named(inner, None)
                    .filter(|_| inner.kind() == "expression_element")
                    .unwrap_or(inner);
                let v = if inner.kind() == "spread_element" {
                    cx.other_of(&[inner])
                } else {
                    cx.visit(inner, true)
                };
                items.push(v);
            }
            Value::Array(items)
        }
        _ => return None,
    };
    Some(v)
}

/// A type or namespace name, dotted, generic arguments and `global::` dropped.
fn type_name(cx: &Cx, n: Node) -> String {
    let mut segs: Vec<String> = Vec::new();
    let mut cur = n;
    loop {
        match cur.kind() {
            "qualified_name" => {
                if let Some(name) = cur.child_by_field_name("name") {
                    segs.push(simple_name(cx, name));
                }
                match cur.child_by_field_name("qualifier") {
                    Some(q) => cur = q,
                    None => break,
                }
            }
            "alias_qualified_name" => match cur.child_by_field_name("name") {
                Some(name) => cur = name,
                None => break,
            },
            "nullable_type" | "array_type" | "pointer_type" | "ref_type" | "scoped_type" => {
                match cur
                    .child_by_field_name("type")
                    .or_else(|| cur.named_child(0))
                {
                    Some(inner) => cur = inner,
                    None => break,
                }
            }
            _ => {
                segs.push(simple_name(cx, cur));
                break;
            }
        }
    }
    segs.reverse();
    segs.join(".")
}

fn simple_name(cx: &Cx, n: Node) -> String {
    match n.kind() {
        "generic_name" => n
            .named_child(0)
            .map(|i| cx.text(i).to_string())
            .unwrap_or_default(),
        "identifier" | "predefined_type" => cx.text(n).to_string(),
        _ => cx.compact(n),
    }
}

fn using(cx: &mut Cx, n: Node) {
    let alias = n.child_by_field_name("name");
    let Some(target) = last_named(n, alias) else {
        return;
    };
    let path = type_name(cx, target);
    let local = alias.map(|a| cx.text(a).to_string()).unwrap_or_default();
    cx.f.imports.push(Import {
        local,
        path,
        span: n.byte_range(),
    });
}

fn attributes(cx: &mut Cx, n: Node) {
    let mut cursor = n.walk();
    for attr in n.named_children(&mut cursor) {
        if attr.kind() != "attribute" {
            continue;
        }
        let Some(name) = attr.child_by_field_name("name") else {
            continue;
        };
        let mut args = Vec::new();
        if let Some(list) = child_of_kind(attr, "attribute_argument_list") {
            let mut c2 = list.walk();
            for a in list.named_children(&mut c2) {
                if a.kind() != "attribute_argument" {
                    continue;
                }
                let arg_name = a.child_by_field_name("name");
                let Some(value) = last_named(a, arg_name) else {
                    continue;
                };
                let v = cx.visit(value, true);
                args.push(Arg {
                    name: arg_name.map(|x| cx.text(x).to_string()),
                    value: v,
                    span: value.byte_range(),
                });
            }
        }
        let callee = type_name(cx, name);
        cx.push_call(CallParts {
            callee,
            callee_span: name.byte_range(),
            is_new: false,
            args,
            span: attr.byte_range(),
            receiver: None,
            decorator: true,
        });
    }
}

fn param_names(cx: &Cx, params: Option<Node>) -> Vec<String> {
    let Some(params) = params else {
        return Vec::new();
    };
    if params.kind() == "implicit_parameter" || params.kind() == "identifier" {
        return vec![cx.text(params).to_string()];
    }
    let mut out = Vec::new();
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        if let Some(name) = p.child_by_field_name("name") {
            out.push(cx.text(name).to_string());
        } else if p.kind() == "identifier" || p.kind() == "implicit_parameter" {
            out.push(cx.text(p).to_string());
        }
    }
    out
}

fn function(cx: &mut Cx, n: Node) {
    let name = n
        .child_by_field_name("name")
        .map(|x| cx.text(x).to_string())
        .unwrap_or_else(|| n.kind().trim_end_matches("_declaration").to_string());
    let params = param_names(cx, n.child_by_field_name("parameters"));
    // Attributes belong to the enclosing scope, like Python decorators.
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "attribute_list" {
            cx.visit(child, false);
        }
    }
    let prev = cx.open_scope(name, params, n.byte_range());
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() != "attribute_list" && !trivia(child) {
            cx.visit(child, false);
        }
    }
    cx.close_scope(prev);
}

fn lambda(cx: &mut Cx, n: Node) -> Value {
    let params = param_names(cx, n.child_by_field_name("parameters"));
    let body = n
        .child_by_field_name("body")
        .or_else(|| child_of_kind(n, "block"));
    let prev = cx.open_scope("<lambda>".into(), params, n.byte_range());
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "parameter_list" || child.kind() == "attribute_list" {
            cx.visit(child, false);
        }
    }
    let v = match body {
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
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if child.kind() == "attribute_list" {
            cx.visit(child, false);
        }
    }
    let (Some(name), Some(default)) = (n.child_by_field_name("name"), after_equals(n)) else {
        return;
    };
    let v = cx.visit(default, true);
    let target = cx.text(name).to_string();
    cx.assign(target, v, default.byte_range());
}

/// `var x = v;` / fields (also assigned as `this.x`); target-typed `new()` takes the declared type.
fn declaration(cx: &mut Cx, n: Node, field: bool) {
    let ty = n
        .child_by_field_name("type")
        .filter(|t| t.kind() != "implicit_type")
        .map(|t| type_name(cx, t));
    let mut cursor = n.walk();
    for d in n.named_children(&mut cursor) {
        if d.kind() != "variable_declarator" {
            continue;
        }
        let Some(value) = after_equals(d) else {
            continue;
        };
        let v = if value.kind() == "implicit_object_creation_expression" {
            Value::Call(creation(cx, value, ty.clone()))
        } else {
            cx.visit(value, true)
        };
        let span = value.byte_range();
        if let Some(name) = d.child_by_field_name("name") {
            let target = cx.text(name).to_string();
            if field {
                cx.assign(format!("this.{target}"), v.clone(), span.clone());
            }
            cx.assign(target, v, span);
        } else if let Some(tuple) = child_of_kind(d, "tuple_pattern") {
            let mut refs = Vec::new();
            cx.absorb(v, &mut refs);
            let mut c2 = tuple.walk();
            for el in tuple.named_children(&mut c2) {
                if el.kind() == "identifier" {
                    let t = cx.text(el).to_string();
                    cx.assign(t, Value::Other(refs.clone()), span.clone());
                }
            }
        }
    }
}

fn property(cx: &mut Cx, n: Node) {
    let value = n.child_by_field_name("value");
    let name = n.child_by_field_name("name");
    let prop = name.map(|x| cx.text(x)).unwrap_or_default();
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        if value.is_some_and(|v| v.id() == child.id()) || trivia(child) {
            continue;
        }
        if child.kind() == "accessor_list" {
            accessors(cx, child, prop);
        } else {
            cx.visit(child, false);
        }
    }
    let (Some(name), Some(value)) = (name, value) else {
        return;
    };
    let expr = if value.kind() == "arrow_expression_clause" {
        last_named(value, None).unwrap_or(value)
    } else {
        value
    };
    let v = cx.visit(expr, true);
    let target = cx.text(name).to_string();
    cx.assign(format!("this.{target}"), v.clone(), expr.byte_range());
    cx.assign(target, v, expr.byte_range());
}

/// Accessor bodies are functions (`P.get`, `P.set` with its implicit `value`).
fn accessors(cx: &mut Cx, list: Node, prop: &str) {
    let mut cursor = list.walk();
    for acc in list.named_children(&mut cursor) {
        let body = acc.child_by_field_name("body");
        let Some(body) = body.filter(|_| acc.kind() == "accessor_declaration") else {
            cx.visit(acc, false);
            continue;
        };
        let kind = acc
            .child_by_field_name("name")
            .map(|k| cx.text(k))
            .unwrap_or("get");
        let params = if kind == "get" {
            Vec::new()
        } else {
            vec!["value".to_string()]
        };
        let mut c2 = acc.walk();
        for child in acc.named_children(&mut c2) {
            if child.kind() == "attribute_list" {
                cx.visit(child, false);
            }
        }
        let prev = cx.open_scope(format!("{prop}.{kind}"), params, acc.byte_range());
        cx.visit(body, false);
        cx.close_scope(prev);
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
    if left.kind() == "tuple_expression" {
        let mut refs = Vec::new();
        cx.absorb(v, &mut refs);
        let mut cursor = left.walk();
        for el in left.named_children(&mut cursor) {
            let inner = last_named(el, None).unwrap_or(el);
            let t = cx.target(inner, step, base_name);
            cx.assign(t, Value::Other(refs.clone()), span.clone());
        }
        return if want {
            Value::Other(refs)
        } else {
            Value::Null
        };
    }
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

fn foreach(cx: &mut Cx, n: Node) {
    let left = n.child_by_field_name("left");
    let right = n.child_by_field_name("right");
    let refs = match right {
        Some(r) => match cx.other_of(&[r]) {
            Value::Other(refs) => refs,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let span = right.map(|r| r.byte_range()).unwrap_or(n.byte_range());
    if let Some(left) = left {
        let mut names = Vec::new();
        if left.kind() == "identifier" {
            names.push(cx.text(left).to_string());
        } else {
            let mut cursor = left.walk();
            for el in left.named_children(&mut cursor) {
                if el.kind() == "identifier" {
                    names.push(cx.text(el).to_string());
                }
            }
        }
        for name in names {
            cx.assign(name, Value::Other(refs.clone()), span.clone());
        }
    }
    let mut cursor = n.walk();
    for child in n.named_children(&mut cursor) {
        let skip = [left, right].iter().flatten().any(|x| x.id() == child.id());
        if !skip && !trivia(child) {
            cx.visit(child, false);
        }
    }
}

fn step<'t>(cx: &Cx<'_>, n: Node<'t>) -> Option<(Node<'t>, Seg<'t>)> {
    match n.kind() {
        "member_access_expression" => {
            let obj = n.child_by_field_name("expression")?;
            let name = n.child_by_field_name("name")?;
            Some((obj, Seg::Name(simple_name(cx, name))))
        }
        "element_access_expression" => {
            let obj = n.child_by_field_name("expression")?;
            let sub = n.child_by_field_name("subscript")?;
            Some((obj, index_seg(cx, sub)))
        }
        "conditional_access_expression" => {
            let obj = n.child_by_field_name("condition")?;
            let binding = last_named(n, Some(obj))?;
            let seg = match binding.kind() {
                "member_binding_expression" => {
                    Seg::Name(simple_name(cx, binding.child_by_field_name("name")?))
                }
                "element_binding_expression" => index_seg(cx, binding),
                _ => Seg::Name(
                    cx.compact(binding)
                        .trim_start_matches(['.', '?'])
                        .to_string(),
                ),
            };
            Some((obj, seg))
        }
        _ => None,
    }
}

/// `[0]` / `["k"]` keep their literal; anything else is read dynamically.
fn index_seg<'t>(cx: &Cx<'_>, sub: Node<'t>) -> Seg<'t> {
    let mut cursor = sub.walk();
    let args: Vec<Node<'t>> = sub
        .named_children(&mut cursor)
        .filter(|a| !trivia(*a))
        .collect();
    if let [arg] = args[..] {
        let inner = last_named(arg, None).unwrap_or(arg);
        if matches!(
            inner.kind(),
            "integer_literal" | "string_literal" | "verbatim_string_literal"
        ) {
            return Seg::Index(cx.text(inner).to_string());
        }
    }
    Seg::Dyn(sub)
}

fn base_name(cx: &Cx<'_>, n: Node<'_>) -> Option<String> {
    match n.kind() {
        "identifier" | "this" | "base" | "this_expression" | "base_expression"
        | "predefined_type" => Some(cx.text(n).to_string()),
        "generic_name" | "qualified_name" | "alias_qualified_name" => Some(type_name(cx, n)),
        _ => None,
    }
}

/// The first string literal argument of a bracketed `[...]` list, if that is all it holds.
fn string_key(cx: &Cx, sub: Node) -> Option<String> {
    let mut cursor = sub.walk();
    let args: Vec<Node> = sub
        .named_children(&mut cursor)
        .filter(|a| !trivia(*a))
        .collect();
    let [arg] = args[..] else {
        return None;
    };
    let inner = last_named(arg, None).unwrap_or(arg);
    matches!(
        inner.kind(),
        "string_literal" | "verbatim_string_literal" | "raw_string_literal"
    )
    .then(|| cx.string_value(inner))
    .and_then(|v| v.as_str().map(str::to_string))
}

/// Whether a member name reads like an `IConfiguration` (`config`, `_configuration`,
/// `builder.Configuration`, `appConfig`).
fn is_config_name(name: &str) -> bool {
    let lower = name.trim_start_matches('_').to_ascii_lowercase();
    lower.ends_with("config") || lower.ends_with("configuration") || lower == "cfg"
}

/// The `A` of a call `x.GetSection("A")`, for `GetSection("A")["B"]` and `.Value` reads.
fn section_of(cx: &Cx, idx: usize) -> Option<String> {
    let c = cx.f.calls.get(idx)?;
    matches!(last_segment(&c.callee), "GetSection" | "GetRequiredSection")
        .then(|| {
            c.args
                .first()
                .and_then(|a| a.value.as_str())
                .map(str::to_string)
        })
        .flatten()
}

fn member(cx: &mut Cx, n: Node) -> Value {
    if n.kind() == "element_access_expression" {
        if let (Some(obj), Some(key)) = (
            n.child_by_field_name("expression"),
            n.child_by_field_name("subscript")
                .and_then(|s| string_key(cx, s)),
        ) {
            let (b, segs) = cx.spine(obj, step);
            let plain = segs.iter().all(|s| matches!(s, Seg::Name(_)));
            let last = match segs.last() {
                Some(Seg::Name(x)) => Some(x.clone()),
                _ if segs.is_empty() => base_name(cx, b),
                _ => None,
            };
            if plain && base_name(cx, b).is_some() && last.as_deref().is_some_and(is_config_name) {
                return Value::Env {
                    name: key,
                    fallback: None,
                };
            }
            if obj.kind() == "invocation_expression" {
                let v = cx.visit(obj, true);
                if let Value::Call(i) = v {
                    if let Some(section) = section_of(cx, i) {
                        return Value::Env {
                            name: format!("{section}:{key}"),
                            fallback: None,
                        };
                    }
                }
                let mut out = Vec::new();
                cx.absorb(v, &mut out);
                return Value::Other(out);
            }
        }
    }
    if n.kind() == "member_access_expression"
        && n.child_by_field_name("name")
            .is_some_and(|x| cx.text(x) == "Value")
    {
        if let Some(obj) = n
            .child_by_field_name("expression")
            .filter(|o| o.kind() == "invocation_expression")
        {
            let v = cx.visit(obj, true);
            if let Value::Call(i) = v {
                if let Some(section) = section_of(cx, i) {
                    return Value::Env {
                        name: section,
                        fallback: None,
                    };
                }
            }
            let mut out = Vec::new();
            cx.absorb(v, &mut out);
            return Value::Other(out);
        }
    }
    cx.chain_value(n, step, base_name)
}

fn binary(cx: &mut Cx, n: Node) -> Value {
    let op = n
        .child_by_field_name("operator")
        .map(|o| cx.text(o))
        .unwrap_or("");
    match op {
        "+" => cx.concat(n, "binary_expression"),
        "??" => {
            let (Some(l), Some(r)) = (
                n.child_by_field_name("left"),
                n.child_by_field_name("right"),
            ) else {
                return cx.generic(n, true);
            };
            let left = cx.visit(l, true);
            let right = cx.visit(r, true);
            match left {
                Value::Env {
                    name,
                    fallback: None,
                } => Value::Env {
                    name,
                    fallback: Some(Box::new(right)),
                },
                other => {
                    let mut out = Vec::new();
                    cx.absorb(other, &mut out);
                    cx.absorb(right, &mut out);
                    Value::Other(out)
                }
            }
        }
        _ => cx.generic(n, true),
    }
}

/// Arguments of an `argument_list` (positional or `name: value`).
fn arguments(cx: &mut Cx, list: Option<Node>) -> Vec<Arg> {
    let Some(list) = list else {
        return Vec::new();
    };
    let mut args = Vec::new();
    let mut cursor = list.walk();
    for a in list.named_children(&mut cursor) {
        if a.kind() != "argument" {
            if !trivia(a) {
                cx.visit(a, false);
            }
            continue;
        }
        let name = a.child_by_field_name("name");
        let Some(value) = last_named(a, name) else {
            continue;
        };
        let v = cx.visit(value, true);
        args.push(Arg {
            name: name.map(|x| cx.text(x).to_string()),
            value: v,
            span: value.byte_range(),
        });
    }
    args
}

/// Object initializer members become named args; collection elements positional ones.
fn initializer_args(cx: &mut Cx, init: Node) -> Vec<Arg> {
    let mut args = Vec::new();
    let mut cursor = init.walk();
    for el in init.named_children(&mut cursor) {
        if trivia(el) {
            continue;
        }
        if el.kind() == "assignment_expression" {
            if let (Some(l), Some(r)) = (
                el.child_by_field_name("left"),
                el.child_by_field_name("right"),
            ) {
                let name = match l.kind() {
                    "identifier" => Some(cx.text(l).to_string()),
                    "element_binding_expression" => string_key(cx, l),
                    _ => None,
                };
                if name.is_none() {
                    cx.visit(l, false);
                }
                let v = if r.kind() == "initializer_expression" {
                    initializer(cx, r)
                } else {
                    cx.visit(r, true)
                };
                args.push(Arg {
                    name,
                    value: v,
                    span: r.byte_range(),
                });
                continue;
            }
        }
        let v = cx.visit(el, true);
        args.push(Arg {
            name: None,
            value: v,
            span: el.byte_range(),
        });
    }
    args
}

/// A bare `{ ... }`: an object when it assigns members, else an array.
fn initializer(cx: &mut Cx, init: Node) -> Value {
    let mut cursor = init.walk();
    let members = init
        .named_children(&mut cursor)
        .any(|c| c.kind() == "assignment_expression");
    let args = initializer_args(cx, init);
    if members {
        Value::Object(args)
    } else {
        Value::Array(args.into_iter().map(|a| a.value).collect())
    }
}

fn anonymous_object(cx: &mut Cx, n: Node) -> Value {
    let mut args = Vec::new();
    let mut pending: Option<String> = None;
    let mut cursor = n.walk();
    let children: Vec<Node> = n.children(&mut cursor).collect();
    let mut i = 0;
    while i < children.len() {
        let c = children[i];
        i += 1;
        if !c.is_named() || trivia(c) {
            continue;
        }
        let next_is_eq = children.get(i).is_some_and(|x| x.kind() == "=");
        if next_is_eq && c.kind() == "identifier" {
            pending = Some(cx.text(c).to_string());
            i += 1;
            continue;
        }
        let v = cx.visit(c, true);
        let name = pending.take().or_else(|| match &v {
            Value::Ident(s) => Some(last_segment(s).to_string()),
            _ => None,
        });
        args.push(Arg {
            name,
            value: v,
            span: c.byte_range(),
        });
    }
    Value::Object(args)
}

/// `new T(args) { init }` and target-typed `new(args)` as the parts of a call.
fn creation_parts(cx: &mut Cx, n: Node, hint: Option<String>) -> CallParts {
    let ty = n.child_by_field_name("type");
    let (callee, callee_span) = match ty {
        Some(t) => (type_name(cx, t), t.byte_range()),
        None => (
            hint.unwrap_or_default(),
            n.child(0).map(|c| c.byte_range()).unwrap_or(n.byte_range()),
        ),
    };
    let list = n
        .child_by_field_name("arguments")
        .or_else(|| child_of_kind(n, "argument_list"));
    let mut args = arguments(cx, list);
    if let Some(init) = n
        .child_by_field_name("initializer")
        .or_else(|| child_of_kind(n, "initializer_expression"))
    {
        args.extend(initializer_args(cx, init));
    }
    CallParts {
        callee,
        callee_span,
        is_new: true,
        args,
        span: n.byte_range(),
        receiver: None,
        decorator: false,
    }
}

fn creation(cx: &mut Cx, n: Node, hint: Option<String>) -> usize {
    let parts = creation_parts(cx, n, hint);
    cx.push_call(parts)
}

/// The method name of an invocation's member callee.
fn method_name(cx: &Cx, func: Node) -> Option<String> {
    (func.kind() == "member_access_expression")
        .then(|| func.child_by_field_name("name"))
        .flatten()
        .map(|x| simple_name(cx, x))
}

/// `new X(..).a(..).b()` or `X.Builder().a(..)` folded into one call, when it is one.
fn fold(cx: &mut Cx, n: Node) -> Option<usize> {
    let mut links = Vec::new();
    let mut cur = n;
    while cur.kind() == "invocation_expression" {
        let func = cur.child_by_field_name("function")?;
        if func.kind() != "member_access_expression" {
            break;
        }
        let obj = func.child_by_field_name("expression")?;
        if !matches!(
            obj.kind(),
            "invocation_expression" | "object_creation_expression"
        ) {
            break;
        }
        links.push(cur);
        cur = obj;
    }
    if links.is_empty() {
        return None;
    }
    let root_is_new = cur.kind() == "object_creation_expression";
    if !root_is_new {
        let func = cur.child_by_field_name("function")?;
        let obj = func.child_by_field_name("expression")?;
        let owner = peek_chain(cx, obj)?;
        if !is_type_name(&owner) || !method_name(cx, func).is_some_and(|m| is_builder_start(&m)) {
            return None;
        }
    }
    let root = if root_is_new {
        creation_parts(cx, cur, None)
    } else {
        let func = cur.child_by_field_name("function")?;
        let (callee, _) = cx.callee(func, step, |cx, b| callee_base(cx, b, false));
        let args = arguments(cx, cur.child_by_field_name("arguments"));
        CallParts {
            callee,
            callee_span: func.byte_range(),
            is_new: false,
            args,
            span: cur.byte_range(),
            receiver: None,
            decorator: false,
        }
    };
    let mut folded = Vec::new();
    for link in links.into_iter().rev() {
        let func = link.child_by_field_name("function")?;
        let name = method_name(cx, func).unwrap_or_default();
        let list = link.child_by_field_name("arguments");
        let args = arguments(cx, list);
        folded.push(Link {
            name,
            args,
            args_span: list.map(|l| l.byte_range()).unwrap_or(link.byte_range()),
        });
    }
    Some(cx.push_folded(root, folded, n.byte_range()))
}

/// Lowers the innermost expression of a callee chain.
fn callee_base(cx: &mut Cx, b: Node, checked: bool) -> (String, Option<usize>) {
    match b.kind() {
        "invocation_expression" => {
            let (i, _) = invocation_index(cx, b, checked);
            (cx.f.calls[i].callee.clone(), Some(i))
        }
        "object_creation_expression" | "implicit_object_creation_expression" => {
            let i = creation(cx, b, None);
            (cx.f.calls[i].callee.clone(), Some(i))
        }
        "parenthesized_expression"
        | "await_expression"
        | "cast_expression"
        | "postfix_unary_expression" => {
            let inner = b
                .child_by_field_name("value")
                .or_else(|| last_named(b, None).filter(|_| b.kind() != "cast_expression"));
            match inner {
                Some(inner) => {
                    let (s, r) = cx.callee(inner, step, |cx, x| callee_base(cx, x, false));
                    (s, r)
                }
                None => (cx.compact(b), None),
            }
        }
        _ => match base_name(cx, b) {
            Some(s) => (s, None),
            None if b.kind() == "member_binding_expression" => (
                b.child_by_field_name("name")
                    .map(|x| simple_name(cx, x))
                    .unwrap_or_default(),
                None,
            ),
            None => {
                cx.visit(b, false);
                (cx.compact(b), None)
            }
        },
    }
}

/// Pushes the call for an invocation and returns its index (folding builder chains unless
/// the caller already established this chain does not fold).
fn invocation_index(cx: &mut Cx, n: Node, checked: bool) -> (usize, Option<usize>) {
    if !checked {
        if let Some(i) = fold(cx, n) {
            return (i, None);
        }
    }
    let func = n.child_by_field_name("function");
    let (callee, recv, callee_span) = match func {
        Some(f) => {
            // The receiver is part of this chain, so it was covered by the fold check above.
            let direct = f.kind() == "member_access_expression";
            let (s, r) = cx.callee(f, step, |cx, b| callee_base(cx, b, direct));
            (s, r, f.byte_range())
        }
        None => (String::new(), None, n.byte_range()),
    };
    let args = arguments(cx, n.child_by_field_name("arguments"));
    let i = cx.push_call(CallParts {
        callee,
        callee_span,
        is_new: false,
        args,
        span: n.byte_range(),
        receiver: recv,
        decorator: false,
    });
    (i, recv)
}

fn invocation(cx: &mut Cx, n: Node, checked: bool) -> Value {
    let (i, recv) = invocation_index(cx, n, checked);
    let c = &cx.f.calls[i];
    let method = last_segment(&c.callee);
    let owner = c.callee.rsplit_once('.').map(|(o, _)| o).unwrap_or("");
    match method {
        "GetEnvironmentVariable" => {
            if let Some(v) = env_of(c.args.first(), None) {
                return v;
            }
        }
        "SetEnvironmentVariable" => {
            let args = c.args.clone();
            cx.env_write(&args);
        }
        "GetValue" | "GetConnectionString" => {
            let key = c
                .args
                .iter()
                .find(|a| a.name.as_deref() != Some("defaultValue"));
            let key = key.or(c.args.first());
            let fallback = c
                .args
                .iter()
                .find(|a| a.name.as_deref() == Some("defaultValue"))
                .or_else(|| c.args.get(1));
            if let Some(Value::Env { name, fallback }) = env_of(key, fallback) {
                let name = match recv.and_then(|r| section_of(cx, r)) {
                    Some(section) => format!("{section}:{name}"),
                    None => name,
                };
                return Value::Env { name, fallback };
            }
        }
        "Format" if matches!(owner, "string" | "String" | "System.String") => {
            let values: Vec<Value> = c.args.iter().map(|a| a.value.clone()).collect();
            let fmt_at = values.iter().position(|v| matches!(v, Value::Str(_)));
            if let Some(at) = fmt_at.filter(|&at| at <= 1) {
                if let Value::Str(fmt) = &values[at] {
                    return format_template(FmtStyle::Braces, fmt, &values[at + 1..]);
                }
            }
        }
        _ => {}
    }
    Value::Call(i)
}

/// A plain dotted chain for `n` without visiting anything (None when it is not one).
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

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Part, Value};

    fn cs(src: &str) -> crate::facts::Facts {
        let f = run(Lang::CSharp, src);
        check_strings(&f, src);
        f
    }

    #[test]
    fn usings_are_imports() {
        let f = cs("using Azure.AI.OpenAI;\nusing OAI = OpenAI.Chat;\nglobal using System;\nusing static System.Math;\n");
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("", "Azure.AI.OpenAI"),
                ("OAI", "OpenAI.Chat"),
                ("", "System"),
                ("", "System.Math")
            ]
        );
    }

    #[test]
    fn azure_openai_client_construction() {
        let src = r#"
using Azure.AI.OpenAI;
using Azure.Identity;
var client = new AzureOpenAIClient(
    new Uri(endpoint),
    new DefaultAzureCredential(),
    new AzureOpenAIClientOptions(AzureOpenAIClientOptions.ServiceVersion.V2024_10_21) { NetworkTimeout = TimeSpan.FromSeconds(30), RetryPolicy = policy });
ChatClient chat = client.GetChatClient("gpt-4o-deployment");
var oai = new OpenAIClient(new ApiKeyCredential(key));
"#;
        let f = cs(src);
        let c = call(&f, "AzureOpenAIClient");
        assert!(c.is_new);
        assert_eq!(c.args.len(), 3);
        let Value::Call(uri) = pos(c, 0) else {
            panic!()
        };
        assert_eq!(f.calls[*uri].callee, "Uri");
        assert_eq!(pos(&f.calls[*uri], 0), &id("endpoint"));
        let Value::Call(opts) = pos(c, 2) else {
            panic!()
        };
        let opts = &f.calls[*opts];
        assert_eq!(opts.callee, "AzureOpenAIClientOptions");
        assert_eq!(
            pos(opts, 0),
            &id("AzureOpenAIClientOptions.ServiceVersion.V2024_10_21")
        );
        assert!(matches!(arg(opts, "NetworkTimeout"), Value::Call(_)));
        assert_eq!(arg(opts, "RetryPolicy"), &id("policy"));
        let chat = call(&f, "client.GetChatClient");
        assert_eq!(pos(chat, 0), &s("gpt-4o-deployment"));
        assert_eq!(
            assigned(&f, "chat").value,
            Value::Call(
                f.calls
                    .iter()
                    .position(|c| c.callee == "client.GetChatClient")
                    .unwrap()
            )
        );
        let cred = call(&f, "ApiKeyCredential");
        assert_eq!(pos(cred, 0), &id("key"));
        assert_eq!(call(&f, "AzureOpenAIClient").qualified, "AzureOpenAIClient");
        assert_eq!(f.calls.iter().filter(|c| c.is_new).count(), 6);
        // The callee span points at the type.
        assert_eq!(&src[c.callee_span.clone()], "AzureOpenAIClient");
    }

    #[test]
    fn semantic_kernel_named_args_and_builder_chain() {
        let src = r#"
var builder = Kernel.CreateBuilder();
builder.AddAzureOpenAIChatCompletion(deploymentName: "gpt-4o", endpoint: cfg["AzureOpenAI:Endpoint"], apiKey: key);
builder.AddOpenAIChatCompletion("gpt-4o", Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
var kernel = Kernel.CreateBuilder().AddAzureOpenAIChatCompletion(deploymentName: "d", endpoint: e, apiKey: k).Build();
"#;
        let f = cs(src);
        let c = call(&f, "builder.AddAzureOpenAIChatCompletion");
        assert_eq!(arg(c, "deploymentName"), &s("gpt-4o"));
        assert_eq!(arg(c, "endpoint"), &env("AzureOpenAI:Endpoint"));
        assert_eq!(arg(c, "apiKey"), &id("key"));
        let c = call(&f, "builder.AddOpenAIChatCompletion");
        assert_eq!(pos(c, 1), &env("OPENAI_API_KEY"));
        // The chain: one call rooted at Kernel.CreateBuilder.
        let chain: Vec<_> = f
            .calls
            .iter()
            .filter(|c| c.callee == "Kernel.CreateBuilder")
            .collect();
        assert_eq!(chain.len(), 2);
        let folded = chain[1];
        assert_eq!(arg(folded, "AddAzureOpenAIChatCompletion"), &s("d"));
        assert_eq!(
            arg(folded, "AddAzureOpenAIChatCompletion.deploymentName"),
            &s("d")
        );
        assert_eq!(
            arg(folded, "AddAzureOpenAIChatCompletion.endpoint"),
            &id("e")
        );
        assert_eq!(arg(folded, "AddAzureOpenAIChatCompletion.apiKey"), &id("k"));
        assert_eq!(arg(folded, "Build"), &Value::Null);
        assert!(src[folded.span.clone()].ends_with(".Build()"));
        assert!(!f.calls.iter().any(|c| c.callee.ends_with(".Build")));
    }

    #[test]
    fn new_rooted_chain_folds() {
        let f = cs(
            r#"var chat = new AzureOpenAIClient(new Uri(ep), new AzureKeyCredential(k)).GetChatClient("dep");"#,
        );
        let c = f
            .calls
            .iter()
            .find(|c| c.callee == "AzureOpenAIClient")
            .unwrap();
        assert!(c.is_new);
        assert_eq!(arg(c, "GetChatClient"), &s("dep"));
        assert_eq!(c.args.len(), 3);
        assert!(call(&f, "AzureKeyCredential").is_new);
    }

    #[test]
    fn plain_chains_set_chained_into() {
        let f = cs(
            r#"var r = await client.GetChatClient("d").CompleteChatAsync(messages);
Span.Current().SetTag("k", v);"#,
        );
        let outer = f
            .calls
            .iter()
            .position(|c| c.callee == "client.GetChatClient.CompleteChatAsync")
            .unwrap();
        let inner = call(&f, "client.GetChatClient");
        assert_eq!(inner.chained_into, Some(outer));
        assert_eq!(assigned(&f, "r").value, Value::Call(outer));
        assert!(f.calls.iter().any(|c| c.callee == "Span.Current.SetTag"));
    }

    #[test]
    fn configuration_and_environment_reads() {
        let src = r#"
var ep = builder.Configuration["AzureOpenAI:Endpoint"];
var k1 = _configuration["OpenAI:ApiKey"];
var k2 = config.GetValue<string>("OpenAI:Key");
var k3 = configuration.GetValue<string>("Model", "gpt-4o");
var k4 = configuration.GetSection("AzureOpenAI").Value;
var k5 = configuration.GetSection("AzureOpenAI")["Deployment"];
var k6 = configuration.GetConnectionString("OpenAI");
var k7 = Environment.GetEnvironmentVariable("AZURE_OPENAI_KEY") ?? "dev-key";
var k8 = System.Environment.GetEnvironmentVariable("X")!;
var k9 = configuration.GetSection("AzureOpenAI").GetValue<string>("Key");
var notenv = items["x"];
Environment.SetEnvironmentVariable("OPENAI_BASE_URL", "https://example.test");
"#;
        let f = cs(src);
        assert_eq!(assigned(&f, "ep").value, env("AzureOpenAI:Endpoint"));
        assert_eq!(assigned(&f, "k1").value, env("OpenAI:ApiKey"));
        assert_eq!(assigned(&f, "k2").value, env("OpenAI:Key"));
        assert_eq!(
            assigned(&f, "k3").value,
            Value::Env {
                name: "Model".into(),
                fallback: Some(Box::new(s("gpt-4o")))
            }
        );
        assert_eq!(assigned(&f, "k4").value, env("AzureOpenAI"));
        assert_eq!(assigned(&f, "k5").value, env("AzureOpenAI:Deployment"));
        assert_eq!(assigned(&f, "k6").value, env("OpenAI"));
        assert_eq!(
            assigned(&f, "k7").value,
            Value::Env {
                name: "AZURE_OPENAI_KEY".into(),
                fallback: Some(Box::new(s("dev-key")))
            }
        );
        assert_eq!(assigned(&f, "k8").value, env("X"));
        assert_eq!(assigned(&f, "k9").value, env("AzureOpenAI:Key"));
        assert_eq!(assigned(&f, "notenv").value, id("items[\"x\"]"));
        assert_eq!(f.config.len(), 1);
        assert_eq!(f.config[0].key, "OPENAI_BASE_URL");
        assert_eq!(f.config[0].value, s("https://example.test"));
        assert_eq!(&src[f.config[0].key_span.clone()], "\"OPENAI_BASE_URL\"");
        // Env reads are still calls for rules that look at callees.
        assert!(f
            .calls
            .iter()
            .any(|c| c.callee == "Environment.GetEnvironmentVariable"));
    }

    #[test]
    fn logging_telemetry_and_templates() {
        let src = r#"
_logger.LogInformation("Prompt for {Patient}: {Prompt}", patient.Name, prompt);
logger.LogDebug($"Sending {request.Messages[0].Content} to {deployment,10:G}");
SentrySdk.CaptureMessage("failed for " + patient.Mrn);
Activity.Current?.SetTag("llm.prompt", prompt);
var s = string.Format("Hello {0}, {{literal}} {1:N2}", name, amount);
var t = "a" + b + "c";
Console.WriteLine(@"C:\path ""quoted""");
"#;
        let f = cs(src);
        let c = call(&f, "_logger.LogInformation");
        assert_eq!(pos(c, 0), &s("Prompt for {Patient}: {Prompt}"));
        assert_eq!(pos(c, 1), &id("patient.Name"));
        let c = call(&f, "logger.LogDebug");
        assert_eq!(
            pos(c, 0),
            &Value::Template(vec![
                Part::Lit("Sending ".into()),
                Part::Hole(id("request.Messages[0].Content")),
                Part::Lit(" to ".into()),
                Part::Hole(id("deployment")),
            ])
        );
        let c = call(&f, "SentrySdk.CaptureMessage");
        assert_eq!(
            pos(c, 0),
            &Value::Template(vec![
                Part::Lit("failed for ".into()),
                Part::Hole(id("patient.Mrn"))
            ])
        );
        let c = call(&f, "Activity.Current.SetTag");
        assert_eq!(pos(c, 1), &id("prompt"));
        assert_eq!(
            assigned(&f, "s").value,
            Value::Template(vec![
                Part::Lit("Hello ".into()),
                Part::Hole(id("name")),
                Part::Lit(", {literal} ".into()),
                Part::Hole(id("amount")),
            ])
        );
        assert_eq!(
            assigned(&f, "t").value,
            Value::Template(vec![
                Part::Lit("a".into()),
                Part::Hole(id("b")),
                Part::Lit("c".into())
            ])
        );
        let verb = call(&f, "Console.WriteLine");
        assert_eq!(pos(verb, 0), &s("C:\\path \"quoted\""));
        let interp = f
            .strings
            .iter()
            .find(|x| x.value.starts_with("Sending"))
            .unwrap();
        assert_eq!(interp.value, "Sending {} to {}");
        assert!(!interp.raw_is_value);
    }

    #[test]
    fn string_literals_and_comments() {
        let src = "// top\nvar a = \"x\\ty\";\nvar b = @\"c:\\d\";\nvar c = \"\"\"raw \"q\" \"\"\";\n/* block */ var d = $@\"v{a}\";\nvar e = \"\";\n";
        let f = cs(src);
        let vals: Vec<(&str, bool)> = f
            .strings
            .iter()
            .map(|s| (s.value.as_str(), s.raw_is_value))
            .collect();
        assert_eq!(
            vals,
            vec![
                ("x\ty", false),
                ("c:\\d", true),
                ("raw \"q\" ", true),
                ("v{}", false),
                ("", true)
            ]
        );
        let e = f.strings.last().unwrap();
        assert_eq!(e.content_start, e.span.start + 1);
        let texts: Vec<&str> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["// top", "/* block */"]);
    }

    #[test]
    fn scopes_params_defaults_and_lambdas() {
        let src = r#"
namespace App;
public class Summarizer {
    private readonly string _deployment = "gpt-4o";
    public string Endpoint { get; set; } = "https://x.openai.azure.com";
    public async Task<string> Summarize(string note, int maxTokens = 256) {
        string Local(string p) => p.Trim();
        var items = notes.Select(n => Redact(n));
        Func<int, int> g = delegate (int z) { return Twice(z); };
        foreach (var m in messages) { Send(m); }
        total += note.Length;
        this.last = note;
        return await chat.CompleteAsync(note);
    }
}
"#;
        let f = cs(src);
        let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["", "Summarize", "Local", "<lambda>", "<lambda>"]
        );
        assert_eq!(f.scopes[1].params, vec!["note", "maxTokens"]);
        assert_eq!(f.scopes[2].parent, 1);
        assert_eq!(f.scopes[3].params, vec!["n"]);
        assert_eq!(f.scopes[4].params, vec!["z"]);
        let d = assigned(&f, "maxTokens");
        assert_eq!(d.value, Value::Number("256".into()));
        assert_eq!(d.scope, 1);
        assert_eq!(assigned(&f, "_deployment").value, s("gpt-4o"));
        assert_eq!(assigned(&f, "this._deployment").value, s("gpt-4o"));
        assert_eq!(
            assigned(&f, "Endpoint").value,
            s("https://x.openai.azure.com")
        );
        assert_eq!(call(&f, "Redact").scope, 3);
        assert_eq!(call(&f, "Twice").scope, 4);
        assert_eq!(call(&f, "p.Trim").scope, 2);
        assert_eq!(
            assigned(&f, "m").value,
            Value::Other(vec!["messages".into()])
        );
        assert_eq!(
            assigned(&f, "total").value,
            Value::Other(vec!["total".into(), "note.Length".into()])
        );
        assert_eq!(assigned(&f, "this.last").value, id("note"));
        assert_eq!(call(&f, "chat.CompleteAsync").scope, 1);
        let f = cs("class C : B { C(string k) : base(k, \"x\") {} }");
        let b = call(&f, "base");
        assert_eq!(pos(b, 0), &id("k"));
        assert_eq!(b.scope, 1);
    }

    #[test]
    fn attributes_are_decorators() {
        let src = r#"
[ApiController]
[Route("api/[controller]")]
public class C {
    [HttpPost("summarize")]
    public IActionResult Post([FromBody] Req r, [FromServices] ILogger log) => Ok();
    [Obsolete("old", DiagnosticId = "X1")] void M() {}
}
"#;
        let f = cs(src);
        let decos: Vec<&str> = f
            .calls
            .iter()
            .filter(|c| c.decorator)
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(
            decos,
            vec![
                "ApiController",
                "Route",
                "HttpPost",
                "FromBody",
                "FromServices",
                "Obsolete"
            ]
        );
        let o = call(&f, "Obsolete");
        assert_eq!(pos(o, 0), &s("old"));
        assert_eq!(arg(o, "DiagnosticId"), &s("X1"));
        assert_eq!(call(&f, "HttpPost").scope, 0);
    }

    #[test]
    fn target_typed_new_objects_and_arrays() {
        let src = r#"
AzureOpenAIClientOptions options = new() { Audience = AzureOpenAIAudience.AzurePublicCloud };
var msgs = new List<ChatMessage> { new SystemChatMessage("sys"), new UserChatMessage(prompt) };
var anon = new { Role = "user", note.Content };
int[] nums = { 1, 2 };
string[] arr = new[] { "a", "b" };
List<string> col = ["x", ..rest];
var d = new Dictionary<string, string> { ["api-key"] = key };
var n = (string)null;
var o = other as ChatClient;
"#;
        let f = cs(src);
        let c = call(&f, "AzureOpenAIClientOptions");
        assert!(c.is_new);
        assert_eq!(
            arg(c, "Audience"),
            &id("AzureOpenAIAudience.AzurePublicCloud")
        );
        let l = call(&f, "List");
        assert_eq!(l.args.len(), 2);
        assert!(matches!(pos(l, 1), Value::Call(_)));
        let Value::Object(fields) = &assigned(&f, "anon").value else {
            panic!()
        };
        assert_eq!(fields[0].name.as_deref(), Some("Role"));
        assert_eq!(fields[1].name.as_deref(), Some("Content"));
        assert_eq!(fields[1].value, id("note.Content"));
        assert_eq!(
            assigned(&f, "nums").value,
            Value::Array(vec![Value::Number("1".into()), Value::Number("2".into())])
        );
        assert_eq!(
            assigned(&f, "arr").value,
            Value::Array(vec![s("a"), s("b")])
        );
        let Value::Array(items) = &assigned(&f, "col").value else {
            panic!()
        };
        assert_eq!(items[0], s("x"));
        assert_eq!(items[1], Value::Other(vec!["rest".into()]));
        assert_eq!(arg(call(&f, "Dictionary"), "api-key"), &id("key"));
        assert_eq!(assigned(&f, "n").value, Value::Null);
        assert_eq!(assigned(&f, "o").value, id("other"));
    }

    #[test]
    fn http_client_post_to_openai() {
        let src = r#"
using var http = new HttpClient { BaseAddress = new Uri("https://api.openai.com/v1/") };
http.DefaultRequestHeaders.Add("api-key", apiKey);
var resp = await http.PostAsJsonAsync("chat/completions", new { model = "gpt-4o", messages = msgs });
"#;
        let f = cs(src);
        let h = call(&f, "HttpClient");
        assert!(matches!(arg(h, "BaseAddress"), Value::Call(_)));
        let p = call(&f, "http.PostAsJsonAsync");
        let Value::Object(body) = pos(p, 1) else {
            panic!()
        };
        assert_eq!(body[0].name.as_deref(), Some("model"));
        assert_eq!(body[1].value, id("msgs"));
    }

    #[test]
    fn aliases_resolve_and_accessors_are_scopes() {
        let src = r#"
using OAI = OpenAI.Chat;
class C {
    public string Prompt {
        get { return Build(_note); }
        set { _note = Redact(value); }
    }
    void M() { var c = new OAI.ChatClient("gpt-4o", key); var x = GetConfig()["K"]; }
}
"#;
        let f = cs(src);
        assert_eq!(
            call(&f, "OAI.ChatClient").qualified,
            "OpenAI.Chat.ChatClient"
        );
        let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["", "Prompt.get", "Prompt.set", "M"]);
        assert_eq!(f.scopes[2].params, vec!["value"]);
        assert_eq!(call(&f, "Build").scope, 1);
        assert_eq!(call(&f, "Redact").scope, 2);
        assert_eq!(
            f.calls.iter().filter(|c| c.callee == "GetConfig").count(),
            1
        );
    }

    #[test]
    fn broken_input_sets_parse_errors_and_keeps_going() {
        let f = cs("class C { void M() { var x = Foo(\"a\", ; client.Send(x); }");
        assert!(f.parse_errors);
        assert!(f.strings.iter().any(|s| s.value == "a"));
        assert!(f.calls.iter().any(|c| c.callee == "client.Send"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        for src in [
            nest("(", "x", ")", 10_000),
            nest("F(", "x", ")", 10_000),
            format!("var y = {};", nest("new A(", "1", ")", 10_000)),
            format!("var y = x{};", ".a".repeat(10_000)),
            format!("var y = {}x;", "\"s\" + ".repeat(10_000)),
            format!("void M() {{ {} }}", nest("{ ", "F();", " }", 10_000)),
            nest("a.b(", "1", ").c()", 5_000),
            format!("var f = {}1;", "x => ".repeat(10_000)),
        ] {
            let f = cs(&src);
            assert!(!f.scopes.is_empty());
        }
        let f = cs(&nest("F(", "\"deep\"", ")", 10_000));
        assert!(f.strings.iter().any(|s| s.value == "deep"));
        assert!(!f.notes.is_empty());
    }
}
