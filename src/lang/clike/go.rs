//! Go node kinds (tree-sitter-go 0.25) mapped onto the shared clike walk.
//!
//! Covers imports (host and `/vN` dropped from the path, the package name guessed from the
//! last segment), calls with functional options (`option.WithAPIKey(k)` also becomes the
//! named arg `WithAPIKey`), composite literals of named types as `is_new` calls with keyed
//! fields as named args, `fmt.Sprintf` templates, `os.Getenv` / `os.LookupEnv` /
//! `viper.Get*` reads, `os.Setenv` writes, `:=` / `=` / `var` / `const` / `range`
//! assignments, functions, methods and function literals. It does not type-check, so a
//! package's real name is only guessed from its import path.

use tree_sitter::Node;

use super::{
    env_of, format_template, last_named, last_segment, trivia, CallParts, Cx, FmtStyle, Seg,
};
use crate::facts::{Arg, Import, Value};

pub(super) fn visit(cx: &mut Cx, n: Node, want: bool) -> Option<Value> {
    let v = match n.kind() {
        "import_spec" => {
            import(cx, n);
            Value::Null
        }
        "package_clause" => Value::Null,
        "function_declaration" | "method_declaration" => {
            function(cx, n);
            Value::Null
        }
        "func_literal" => func_literal(cx, n),
        "short_var_declaration" | "assignment_statement" => {
            assignment(cx, n);
            Value::Null
        }
        "var_spec" | "const_spec" => {
            spec(cx, n);
            Value::Null
        }
        "range_clause" => {
            range(cx, n);
            Value::Null
        }
        "call_expression" => call(cx, n),
        "composite_literal" => composite(cx, n),
        "literal_value" => literal(cx, n, None),
        "selector_expression" | "index_expression" => cx.chain_value(n, step, base_name),
        "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
            Value::Ident(cx.text(n).to_string())
        }
        "interpreted_string_literal" | "raw_string_literal" => cx.string_value(n),
        "rune_literal" => {
            let t = cx.text(n);
            Value::Str(
                t.get(1..t.len().saturating_sub(1))
                    .unwrap_or("")
                    .to_string(),
            )
        }
        "int_literal" | "float_literal" | "imaginary_literal" => {
            Value::Number(cx.text(n).to_string())
        }
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "nil" => Value::Null,
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
        "parenthesized_expression" | "literal_element" | "variadic_argument" => {
            match last_named(n, None) {
                Some(inner) => cx.visit(inner, want),
                None => Value::Null,
            }
        }
        "unary_expression"
            if n.child_by_field_name("operator")
                .is_some_and(|o| cx.text(o) == "&") =>
        {
            match n.child_by_field_name("operand") {
                Some(inner) => cx.visit(inner, want),
                None => Value::Null,
            }
        }
        "type_assertion_expression" => match n.child_by_field_name("operand") {
            Some(inner) => cx.visit(inner, want),
            None => return None,
        },
        _ => return None,
    };
    Some(v)
}

/// The import path without its host and major-version segments, and the package name Go
/// code would use for it.
fn import_path(raw: &str) -> (String, String) {
    let mut segs: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() > 1 && segs[0].contains('.') {
        segs.remove(0);
    }
    let is_major = |s: &str| {
        s.strip_prefix('v').is_some_and(|d| {
            !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && d != "0" && d != "1"
        })
    };
    if segs.len() > 1 {
        segs.retain(|s| !is_major(s));
    }
    let path = segs.join("/");
    let mut name = segs.last().copied().unwrap_or("");
    // gopkg.in spells the major version as a suffix (`yaml.v3`), including v0 and v1.
    if let Some((base, ver)) = name.rsplit_once('.') {
        if is_major(ver) || ver == "v1" || ver == "v0" {
            name = base;
        }
    }
    // Repositories are often named `go-x`, `x-go` or `x.go` for a package named `x`.
    name = name.strip_prefix("go-").unwrap_or(name);
    for suffix in ["-go", ".go"] {
        name = name.strip_suffix(suffix).unwrap_or(name);
    }
    let local: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (path, local)
}

fn import(cx: &mut Cx, n: Node) {
    let Some(path_node) = n.child_by_field_name("path") else {
        return;
    };
    let raw = match cx.string_value(path_node) {
        Value::Str(s) => s,
        _ => return,
    };
    let (path, guessed) = import_path(&raw);
    let local = match n.child_by_field_name("name") {
        Some(alias) => match cx.text(alias) {
            // A blank import only runs the package's init; it names nothing.
            "_" => return,
            "." => String::new(),
            a => a.to_string(),
        },
        None => guessed,
    };
    cx.f.imports.push(Import {
        local,
        path,
        span: n.byte_range(),
    });
}

fn param_names(cx: &Cx, params: Option<Node>) -> Vec<String> {
    let Some(params) = params else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        let mut c2 = p.walk();
        for name in p.children_by_field_name("name", &mut c2) {
            out.push(cx.text(name).to_string());
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
    let prev = cx.open_scope(name, params, n.byte_range());
    if let Some(body) = n.child_by_field_name("body") {
        cx.visit(body, false);
    }
    cx.close_scope(prev);
}

fn func_literal(cx: &mut Cx, n: Node) -> Value {
    let params = param_names(cx, n.child_by_field_name("parameters"));
    let prev = cx.open_scope("<func>".into(), params, n.byte_range());
    if let Some(body) = n.child_by_field_name("body") {
        cx.visit(body, false);
    }
    cx.close_scope(prev);
    Value::Other(Vec::new())
}

/// Named, non-comment children of an `expression_list` (or the node itself otherwise).
fn list_items<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    if n.kind() != "expression_list" {
        return vec![n];
    }
    let mut cursor = n.walk();
    n.named_children(&mut cursor)
        .filter(|c| !trivia(*c))
        .collect()
}

/// Pairs targets with values: `a, b := x, y` pairwise; `v, ok := f()` gives the value to
/// the first target only.
fn assign_lists(cx: &mut Cx, targets: Vec<String>, values: Vec<Node>, op: &str) {
    let lowered: Vec<(Value, Node)> = values.iter().map(|&v| (cx.visit(v, true), v)).collect();
    for (i, target) in targets.into_iter().enumerate() {
        let Some((v, node)) = lowered.get(i) else {
            break;
        };
        let value = if op == "=" || op == ":=" {
            v.clone()
        } else {
            let mut refs = vec![target.clone()];
            cx.absorb(v.clone(), &mut refs);
            Value::Other(refs)
        };
        cx.assign(target, value, node.byte_range());
    }
}

fn assignment(cx: &mut Cx, n: Node) {
    let (Some(left), Some(right)) = (
        n.child_by_field_name("left"),
        n.child_by_field_name("right"),
    ) else {
        cx.generic(n, false);
        return;
    };
    let op = if n.kind() == "short_var_declaration" {
        ":="
    } else {
        n.child_by_field_name("operator")
            .map(|o| cx.text(o))
            .unwrap_or("=")
    };
    let targets: Vec<String> = list_items(left)
        .into_iter()
        .map(|t| cx.target(t, step, base_name))
        .collect();
    assign_lists(cx, targets, list_items(right), op);
}

fn spec(cx: &mut Cx, n: Node) {
    let mut cursor = n.walk();
    let targets: Vec<String> = n
        .children_by_field_name("name", &mut cursor)
        .filter(|x| x.is_named())
        .map(|x| cx.text(x).to_string())
        .collect();
    if let Some(value) = n.child_by_field_name("value") {
        assign_lists(cx, targets, list_items(value), "=");
    }
}

fn range(cx: &mut Cx, n: Node) {
    let Some(right) = n.child_by_field_name("right") else {
        return;
    };
    let refs = match cx.other_of(&[right]) {
        Value::Other(refs) => refs,
        _ => Vec::new(),
    };
    if let Some(left) = n.child_by_field_name("left") {
        for t in list_items(left) {
            let target = cx.target(t, step, base_name);
            cx.assign(target, Value::Other(refs.clone()), right.byte_range());
        }
    }
}

fn step<'t>(cx: &Cx<'_>, n: Node<'t>) -> Option<(Node<'t>, Seg<'t>)> {
    match n.kind() {
        "selector_expression" => {
            let obj = n.child_by_field_name("operand")?;
            let field = n.child_by_field_name("field")?;
            Some((obj, Seg::Name(cx.text(field).to_string())))
        }
        "index_expression" => {
            let obj = n.child_by_field_name("operand")?;
            let index = n.child_by_field_name("index")?;
            let seg = if matches!(
                index.kind(),
                "int_literal" | "interpreted_string_literal" | "raw_string_literal"
            ) {
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
        "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
            Some(cx.text(n).to_string())
        }
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

/// `WithAPIKey` for a functional option callee like `option.WithAPIKey`.
fn option_name(callee: &str) -> Option<&str> {
    let name = last_segment(callee);
    let rest = name.strip_prefix("With")?;
    rest.chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        .then_some(name)
}

fn callee_base(cx: &mut Cx, b: Node) -> (String, Option<usize>) {
    match b.kind() {
        "call_expression" => {
            let i = call_index(cx, b);
            (cx.f.calls[i].callee.clone(), Some(i))
        }
        "composite_literal" => match composite(cx, b) {
            Value::Call(i) => (cx.f.calls[i].callee.clone(), Some(i)),
            _ => (cx.compact(b), None),
        },
        "parenthesized_expression" => match last_named(b, None) {
            Some(inner) => cx.callee(inner, step, callee_base),
            None => (String::new(), None),
        },
        "func_literal" => {
            func_literal(cx, b);
            ("func".into(), None)
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

fn call_index(cx: &mut Cx, n: Node) -> usize {
    let func = n.child_by_field_name("function");
    let (callee, recv) = match func {
        Some(f) => cx.callee(f, step, callee_base),
        None => (String::new(), None),
    };
    let mut args = arguments(cx, n.child_by_field_name("arguments"));
    let mut options = Vec::new();
    for a in &args {
        let Value::Call(i) = a.value else {
            continue;
        };
        let inner = &cx.f.calls[i];
        let Some(name) = option_name(&inner.callee) else {
            continue;
        };
        for (k, ia) in inner.args.iter().filter(|x| x.name.is_none()).enumerate() {
            let name = if k == 0 {
                name.to_string()
            } else {
                format!("{name}.{k}")
            };
            options.push(Arg {
                name: Some(name),
                value: ia.value.clone(),
                span: ia.span.clone(),
            });
        }
    }
    args.extend(options);
    cx.push_call(CallParts {
        callee,
        callee_span: func.map(|f| f.byte_range()).unwrap_or(n.byte_range()),
        is_new: false,
        args,
        span: n.byte_range(),
        receiver: recv,
        decorator: false,
    })
}

fn call(cx: &mut Cx, n: Node) -> Value {
    let i = call_index(cx, n);
    let c = &cx.f.calls[i];
    match c.callee.as_str() {
        "os.Getenv" | "os.LookupEnv" => {
            if let Some(v) = env_of(c.args.first(), None) {
                return v;
            }
        }
        "os.Setenv" => {
            let args = c.args.clone();
            cx.env_write(&args);
        }
        "fmt.Sprintf" => {
            if let Some(Value::Str(fmt)) = c.args.first().map(|a| &a.value) {
                let values: Vec<Value> = c.args[1..]
                    .iter()
                    .filter(|a| a.name.is_none())
                    .map(|a| a.value.clone())
                    .collect();
                return format_template(FmtStyle::Printf, fmt, &values);
            }
        }
        callee if callee.starts_with("viper.Get") => {
            if let Some(v) = env_of(c.args.first(), None) {
                return v;
            }
        }
        _ => {}
    }
    Value::Call(i)
}

/// The name of a named composite-literal type (`openai.ChatCompletionRequest`, `Config`,
/// `List[int]` → `List`), or None for slices, maps, arrays and struct types.
fn named_type(cx: &Cx, t: Node) -> Option<String> {
    match t.kind() {
        "type_identifier" => Some(cx.text(t).to_string()),
        "qualified_type" => {
            let pkg = t.child_by_field_name("package")?;
            let name = t.child_by_field_name("name")?;
            Some(format!("{}.{}", cx.text(pkg), cx.text(name)))
        }
        "generic_type" => named_type(cx, t.child_by_field_name("type")?),
        _ => None,
    }
}

/// The named type of the elements of a slice, array or map type (`[]*openai.Message` →
/// `openai.Message`), which elided inner literals (`{{Role: "user"}}`) construct.
fn element_type(cx: &Cx, t: Node) -> Option<String> {
    let elem = match t.kind() {
        "slice_type" | "array_type" | "implicit_length_array_type" => {
            t.child_by_field_name("element")?
        }
        "map_type" => t.child_by_field_name("value")?,
        _ => return None,
    };
    let elem = if elem.kind() == "pointer_type" {
        last_named(elem, None)?
    } else {
        elem
    };
    named_type(cx, elem)
}

/// An element's value; an elided `{...}` of a known named type is a construction of it.
fn element_value(cx: &mut Cx, el: Node, elem: Option<&str>) -> Value {
    let inner = if el.kind() == "literal_element" {
        last_named(el, None).unwrap_or(el)
    } else {
        el
    };
    match elem {
        Some(ty) if inner.kind() == "literal_value" => {
            if !cx.enter() {
                return Value::Other(Vec::new());
            }
            let args = literal_args(cx, inner, None).0;
            cx.leave();
            let i = cx.push_call(CallParts {
                callee: ty.to_string(),
                callee_span: inner.start_byte()..inner.start_byte() + 1,
                is_new: true,
                args,
                span: inner.byte_range(),
                receiver: None,
                decorator: false,
            });
            Value::Call(i)
        }
        _ => cx.visit(el, true),
    }
}

/// Keyed elements become named args (field names and string keys), others positional.
fn literal_args(cx: &mut Cx, body: Node, elem: Option<&str>) -> (Vec<Arg>, bool) {
    let mut args = Vec::new();
    let mut keyed = false;
    let mut cursor = body.walk();
    for el in body.named_children(&mut cursor) {
        if trivia(el) {
            continue;
        }
        if el.kind() == "keyed_element" {
            keyed = true;
            let key = el.child_by_field_name("key").or_else(|| el.named_child(0));
            let value = el
                .child_by_field_name("value")
                .or_else(|| last_named(el, None));
            let Some(value) = value else {
                continue;
            };
            let key_inner = key.map(|k| last_named(k, None).unwrap_or(k));
            let name = match key_inner {
                Some(k) if matches!(k.kind(), "identifier" | "field_identifier") => {
                    Some(cx.text(k).to_string())
                }
                Some(k)
                    if matches!(
                        k.kind(),
                        "interpreted_string_literal" | "raw_string_literal"
                    ) =>
                {
                    cx.string_value(k).as_str().map(str::to_string)
                }
                Some(k) => {
                    cx.visit(k, false);
                    None
                }
                None => None,
            };
            let v = element_value(cx, value, elem);
            let span = last_named(value, None).unwrap_or(value).byte_range();
            args.push(Arg {
                name,
                value: v,
                span,
            });
        } else {
            let v = element_value(cx, el, elem);
            let span = last_named(el, None).unwrap_or(el).byte_range();
            args.push(Arg {
                name: None,
                value: v,
                span,
            });
        }
    }
    (args, keyed)
}

/// A `{...}` whose type is elided (inside another composite literal).
fn literal(cx: &mut Cx, body: Node, elem: Option<&str>) -> Value {
    let (args, keyed) = literal_args(cx, body, elem);
    if keyed {
        Value::Object(args)
    } else {
        Value::Array(args.into_iter().map(|a| a.value).collect())
    }
}

fn composite(cx: &mut Cx, n: Node) -> Value {
    let ty = n.child_by_field_name("type");
    let body = n.child_by_field_name("body");
    let name = ty.and_then(|t| named_type(cx, t));
    let Some(name) = name else {
        let elem = ty.and_then(|t| element_type(cx, t));
        return match (body, ty.map(|t| t.kind())) {
            (Some(b), Some("map_type" | "struct_type")) => {
                let (args, _) = literal_args(cx, b, elem.as_deref());
                Value::Object(args)
            }
            (Some(b), _) => literal(cx, b, elem.as_deref()),
            (None, _) => Value::Null,
        };
    };
    let args = match body {
        Some(b) => literal_args(cx, b, None).0,
        None => Vec::new(),
    };
    let i = cx.push_call(CallParts {
        callee: name,
        callee_span: ty.map(|t| t.byte_range()).unwrap_or(n.byte_range()),
        is_new: true,
        args,
        span: n.byte_range(),
        receiver: None,
        decorator: false,
    });
    Value::Call(i)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::import_path;
    use crate::facts::{Lang, Part, Value};

    fn go(src: &str) -> crate::facts::Facts {
        let f = run(Lang::Go, src);
        check_strings(&f, src);
        f
    }

    #[test]
    fn import_paths_and_names() {
        assert_eq!(
            import_path("github.com/openai/openai-go/v2/option"),
            ("openai/openai-go/option".into(), "option".into())
        );
        assert_eq!(
            import_path("github.com/openai/openai-go/v2"),
            ("openai/openai-go".into(), "openai".into())
        );
        assert_eq!(
            import_path("github.com/sashabaranov/go-openai"),
            ("sashabaranov/go-openai".into(), "openai".into())
        );
        assert_eq!(
            import_path("github.com/getsentry/sentry-go"),
            ("getsentry/sentry-go".into(), "sentry".into())
        );
        assert_eq!(import_path("log/slog"), ("log/slog".into(), "slog".into()));
        assert_eq!(
            import_path("gopkg.in/yaml.v3"),
            ("yaml.v3".into(), "yaml".into())
        );
        assert_eq!(import_path("go.uber.org/zap"), ("zap".into(), "zap".into()));
        let f = go(r#"package main
import (
	"os"
	oai "github.com/openai/openai-go/v2"
	"github.com/openai/openai-go/v2/azure"
	_ "net/http/pprof"
	. "fmt"
)
"#);
        let got: Vec<(&str, &str)> = f
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("os", "os"),
                ("oai", "openai/openai-go"),
                ("azure", "openai/openai-go/azure"),
                ("", "fmt")
            ]
        );
    }

    #[test]
    fn openai_go_functional_options() {
        let src = r#"package main

import (
	"github.com/openai/openai-go/v2"
	"github.com/openai/openai-go/v2/azure"
	"github.com/openai/openai-go/v2/option"
)

func newClient(key, url string) openai.Client {
	client := openai.NewClient(option.WithAPIKey(key), option.WithBaseURL(url))
	az := openai.NewClient(azure.WithEndpoint(ep, "2024-10-21"), azure.WithAPIKey(os.Getenv("AZURE_OPENAI_API_KEY")))
	_ = az
	return client
}
"#;
        let f = go(src);
        let c = call(&f, "openai.NewClient");
        assert_eq!(c.qualified, "openai/openai-go.NewClient");
        assert!(matches!(pos(c, 0), Value::Call(_)));
        assert_eq!(arg(c, "WithAPIKey"), &id("key"));
        assert_eq!(arg(c, "WithBaseURL"), &id("url"));
        let k = call(&f, "option.WithAPIKey");
        assert_eq!(k.qualified, "openai/openai-go/option.WithAPIKey");
        let az = f
            .calls
            .iter()
            .filter(|c| c.callee == "openai.NewClient")
            .nth(1)
            .unwrap();
        assert_eq!(arg(az, "WithEndpoint"), &id("ep"));
        assert_eq!(arg(az, "WithEndpoint.1"), &s("2024-10-21"));
        assert_eq!(arg(az, "WithAPIKey"), &env("AZURE_OPENAI_API_KEY"));
        assert_eq!(f.scopes[1].name, "newClient");
        assert_eq!(f.scopes[1].params, vec!["key", "url"]);
        assert_eq!(c.scope, 1);
    }

    #[test]
    fn go_openai_config_and_composite_literals() {
        let src = r#"package main

import openai "github.com/sashabaranov/go-openai"

func (s *Server) Ask(ctx context.Context, note string) (string, error) {
	config := openai.DefaultAzureConfig(os.Getenv("AZURE_OPENAI_KEY"), "https://x.openai.azure.com")
	config.APIVersion = "2024-10-21"
	client := openai.NewClientWithConfig(config)
	req := openai.ChatCompletionRequest{
		Model: openai.GPT4o,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleUser, Content: fmt.Sprintf("Summarize %s for %s", note, s.name)},
		},
	}
	resp, err := client.CreateChatCompletion(ctx, req)
	s.last = resp.Choices[0].Message.Content
	return resp.Choices[0].Message.Content, err
}
"#;
        let f = go(src);
        let d = call(&f, "openai.DefaultAzureConfig");
        assert_eq!(pos(d, 0), &env("AZURE_OPENAI_KEY"));
        assert_eq!(pos(d, 1), &s("https://x.openai.azure.com"));
        assert_eq!(assigned(&f, "config.APIVersion").value, s("2024-10-21"));
        let r = call(&f, "openai.ChatCompletionRequest");
        assert!(r.is_new);
        assert_eq!(r.qualified, "sashabaranov/go-openai.ChatCompletionRequest");
        assert_eq!(arg(r, "Model"), &id("openai.GPT4o"));
        let Value::Array(msgs) = arg(r, "Messages") else {
            panic!("{r:?}")
        };
        let Value::Call(m) = &msgs[0] else { panic!() };
        let m = &f.calls[*m].args;
        assert_eq!(
            f.calls
                .iter()
                .filter(|c| c.callee == "openai.ChatCompletionMessage" && c.is_new)
                .count(),
            1
        );
        assert_eq!(m[0].name.as_deref(), Some("Role"));
        assert_eq!(
            m[1].value,
            Value::Template(vec![
                Part::Lit("Summarize ".into()),
                Part::Hole(id("note")),
                Part::Lit(" for ".into()),
                Part::Hole(id("s.name")),
            ])
        );
        let idx = f
            .calls
            .iter()
            .position(|c| c.callee == "client.CreateChatCompletion")
            .unwrap();
        assert_eq!(assigned(&f, "resp").value, Value::Call(idx));
        assert!(!f.assigns.iter().any(|a| a.target == "err"));
        assert_eq!(
            assigned(&f, "s.last").value,
            id("resp.Choices[0].Message.Content")
        );
        assert_eq!(f.scopes[1].name, "Ask");
        assert_eq!(f.scopes[1].params, vec!["ctx", "note"]);
    }

    #[test]
    fn azopenai_http_and_logging() {
        let src = r#"package main

func run() {
	client, err := azopenai.NewClientForOpenAI("https://api.openai.com/v1", azcore.NewKeyCredential(key), nil)
	req, _ := http.NewRequest("POST", "https://api.openai.com/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	log.Printf("prompt for %s: %s", patient.Name, prompt)
	slog.Info("sending prompt", "patient", patient.ID, "prompt", prompt)
	logger.Info("llm call", zap.String("prompt", prompt))
	logrus.WithFields(logrus.Fields{"patient": p.Name}).Info("sent")
	sentry.CaptureMessage("failed for " + patient.MRN)
	span.SetAttributes(attribute.String("gen_ai.prompt", prompt))
	key2, ok := os.LookupEnv("OPENAI_API_KEY")
	model := viper.GetString("openai.model")
	os.Setenv("OPENAI_BASE_URL", "https://proxy.local")
	_, _, _ = client, err, ok
}
"#;
        let f = go(src);
        let a = call(&f, "azopenai.NewClientForOpenAI");
        assert_eq!(pos(a, 0), &s("https://api.openai.com/v1"));
        assert_eq!(pos(a, 2), &Value::Null);
        let r = call(&f, "http.NewRequest");
        assert_eq!(pos(r, 1), &s("https://api.openai.com/v1/chat/completions"));
        let h = call(&f, "req.Header.Set");
        assert_eq!(
            pos(h, 1),
            &Value::Template(vec![Part::Lit("Bearer ".into()), Part::Hole(id("apiKey"))])
        );
        assert_eq!(pos(call(&f, "log.Printf"), 1), &id("patient.Name"));
        assert_eq!(pos(call(&f, "slog.Info"), 2), &id("patient.ID"));
        assert!(matches!(pos(call(&f, "logger.Info"), 1), Value::Call(_)));
        let lf = call(&f, "logrus.Fields");
        assert!(lf.is_new);
        assert_eq!(arg(lf, "patient"), &id("p.Name"));
        let outer = f
            .calls
            .iter()
            .position(|c| c.callee == "logrus.WithFields.Info")
            .unwrap();
        assert_eq!(call(&f, "logrus.WithFields").chained_into, Some(outer));
        assert!(matches!(
            pos(call(&f, "sentry.CaptureMessage"), 0),
            Value::Template(_)
        ));
        let attr = call(&f, "attribute.String");
        assert_eq!(pos(attr, 1), &id("prompt"));
        assert_eq!(assigned(&f, "key2").value, env("OPENAI_API_KEY"));
        assert_eq!(assigned(&f, "model").value, env("openai.model"));
        assert_eq!(f.config.len(), 1);
        assert_eq!(f.config[0].key, "OPENAI_BASE_URL");
        assert_eq!(f.config[0].value, s("https://proxy.local"));
    }

    #[test]
    fn declarations_closures_ranges_and_values() {
        let src = r#"package main

var apiKey = os.Getenv("OPENAI_API_KEY")

const (
	model, version = "gpt-4o", `2024-10-21`
)

func handle(msgs []Message, opts ...Option) {
	var n, m int = 1, 2
	n += len(msgs)
	f := func(q string) string { return redact(q) }
	for _, msg := range msgs {
		send(msg)
	}
	cfg := &Config{Key: apiKey}
	list := []string{"a", "b"}
	headers := map[string]string{"api-key": apiKey}
	ok := true
	var p *int = nil
	r := 'x'
	_ = f
}
"#;
        let f = go(src);
        assert_eq!(assigned(&f, "apiKey").value, env("OPENAI_API_KEY"));
        assert_eq!(assigned(&f, "model").value, s("gpt-4o"));
        assert_eq!(assigned(&f, "version").value, s("2024-10-21"));
        assert_eq!(assigned(&f, "m").value, Value::Number("2".into()));
        assert!(f.assigns.iter().any(|a| a.target == "n"
            && matches!(&a.value, Value::Other(r) if r.contains(&"msgs".to_string()))));
        let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["", "handle", "<func>"]);
        assert_eq!(f.scopes[1].params, vec!["msgs", "opts"]);
        assert_eq!(f.scopes[2].params, vec!["q"]);
        assert_eq!(call(&f, "redact").scope, 2);
        assert_eq!(assigned(&f, "msg").value, Value::Other(vec!["msgs".into()]));
        assert_eq!(call(&f, "send").scope, 1);
        let c = call(&f, "Config");
        assert!(c.is_new);
        assert_eq!(arg(c, "Key"), &id("apiKey"));
        let ci = f.calls.iter().position(|c| c.callee == "Config").unwrap();
        assert_eq!(assigned(&f, "cfg").value, Value::Call(ci));
        assert_eq!(
            assigned(&f, "list").value,
            Value::Array(vec![s("a"), s("b")])
        );
        let Value::Object(h) = &assigned(&f, "headers").value else {
            panic!()
        };
        assert_eq!(h[0].name.as_deref(), Some("api-key"));
        assert_eq!(assigned(&f, "ok").value, Value::Bool(true));
        assert_eq!(assigned(&f, "p").value, Value::Null);
        assert_eq!(assigned(&f, "r").value, s("x"));
    }

    #[test]
    fn elided_literals_take_the_element_type() {
        let src = r#"package main
var msgs = []*openai.ChatCompletionMessage{{Role: "user", Content: note}}
var byName = map[string]Config{"a": {Key: k}}
var plain = [][]int{{1, 2}}
"#;
        let f = go(src);
        let m = call(&f, "openai.ChatCompletionMessage");
        assert!(m.is_new);
        assert_eq!(arg(m, "Content"), &id("note"));
        assert_eq!(arg(call(&f, "Config"), "Key"), &id("k"));
        assert_eq!(
            assigned(&f, "plain").value,
            Value::Array(vec![Value::Array(vec![
                Value::Number("1".into()),
                Value::Number("2".into())
            ])])
        );
    }

    #[test]
    fn strings_and_comments() {
        let src = "package main\n// line\n/* block */\nvar a = \"x\\ty\"\nvar b = `raw\\n`\nvar c = \"\"\n";
        let f = go(src);
        let v: Vec<(&str, bool)> = f
            .strings
            .iter()
            .map(|s| (s.value.as_str(), s.raw_is_value))
            .collect();
        assert_eq!(v, vec![("x\ty", false), ("raw\\n", true), ("", true)]);
        assert_eq!(f.comments.len(), 2);
        assert_eq!(f.comments[1].text, "/* block */");
    }

    #[test]
    fn broken_and_deep_input() {
        let f = go("package main\nfunc f() { x := g(\"a\", ; h() }");
        assert!(f.parse_errors);
        assert!(f.calls.iter().any(|c| c.callee == "h"));
        for src in [
            format!("package main\nvar x = {}", nest("f(", "1", ")", 10_000)),
            format!("package main\nvar x = {}", nest("(", "1", ")", 10_000)),
            format!(
                "package main\nfunc f() {{ {} }}",
                nest("{ ", "g()", " }", 10_000)
            ),
            format!("package main\nvar x = a{}", ".b".repeat(10_000)),
            format!("package main\nvar x = {}1", "\"s\" + ".repeat(10_000)),
            format!("package main\nvar x = {}", nest("T{", "1", "}", 10_000)),
            format!(
                "package main\nvar x = {}",
                nest("func() { ", "g()", " }", 5_000)
            ),
        ] {
            let f = go(&src);
            assert!(!f.scopes.is_empty());
        }
    }
}
