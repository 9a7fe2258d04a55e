//! Bicep (tree-sitter-bicep): `.bicep` templates and `.bicepparam` parameter files.
//! `resource sym 'Type@version' = {...}` becomes a [`Block`] (kind without the API version,
//! `existing` resources flagged, nested child resources as their own blocks with the
//! parent type prefixed) whose properties are entries keyed relative to it
//! (`properties.publicNetworkAccess`, `sku.name`); `if` and `for` resource bodies are
//! read as the plain body. `param x T = v` and `var x = v` become [`Assign`]s,
//! `.bicepparam` `param x = v` an [`Assign`] and a [`ConfigEntry`]. References are
//! [`Value::Ident`] (`location`, `acct.properties.endpoint`), interpolated strings
//! [`Value::Template`], calls and operators [`Value::Other`]. Modules are not followed.

use tree_sitter::Node;

use super::{collect_comments, join, note_depth, push_str, MAX_DEPTH};
use crate::facts::{Arg, Assign, Block, ConfigEntry, Facts, Part, Span, Value};
use crate::lang::treesitter::{parse, text as node_text};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let Some(tree) = parse(&tree_sitter_bicep::LANGUAGE.into(), text) else {
        f.notes.push("Bicep parse abandoned (time budget)".into());
        f.parse_errors = true;
        return;
    };
    let root = tree.root_node();
    collect_comments(f, root, text);
    strings(root, text, f);
    let mut c = root.walk();
    let items: Vec<Node> = root.named_children(&mut c).collect();
    let param_file = items.iter().any(|n| n.kind() == "using_statement");
    f.parse_errors = real_errors(root);
    for item in items {
        match item.kind() {
            "parameter_declaration" | "variable_declaration" => {
                let Some(name) = item
                    .named_children(&mut item.walk())
                    .find(|n| n.kind() == "identifier")
                else {
                    continue;
                };
                let Some(v) = assigned(item) else { continue };
                let name_text = node_text(name, text).to_string();
                let value = value_of(v, text, 0);
                let span = value_span(v);
                if param_file && item.kind() == "parameter_declaration" {
                    f.config.push(ConfigEntry {
                        key: name_text.clone(),
                        value: value.clone(),
                        key_span: name.byte_range(),
                        value_span: span.clone(),
                        block: None,
                    });
                }
                f.assigns.push(Assign {
                    target: name_text,
                    value,
                    span,
                    scope: 0,
                });
            }
            "resource_declaration" => resource(item, text, f, None, 0),
            "module_declaration" => {
                let Some(name) = item
                    .named_children(&mut item.walk())
                    .find(|n| n.kind() == "identifier")
                else {
                    continue;
                };
                let prefix = format!("module.{}", node_text(name, text));
                // The module's file (`module x 'core/ai/account.bicep' = {...}`), so a project
                // pre-pass can bind the parameters it passes to that file.
                let mut cur = item.walk();
                if let Some(src) = item.named_children(&mut cur).find(|n| n.kind() == "string") {
                    let raw = node_text(src, text);
                    let value = raw.trim_matches('\'').to_string();
                    f.config.push(ConfigEntry {
                        key: format!("{prefix}.source"),
                        value: Value::Str(value),
                        key_span: src.byte_range(),
                        value_span: src.byte_range(),
                        block: None,
                    });
                }
                if let Some(body) = body_object(item) {
                    object_entries(f, body, text, &prefix, None, None, 0);
                }
            }
            _ => {}
        }
    }
}

/// `.bicepparam` assignments (`param x = v`) parse with an ERROR around `=`; those are
/// expected, anything else is a real error.
fn real_errors(root: Node) -> bool {
    if !root.has_error() {
        return false;
    }
    let mut cursor = root.walk();
    loop {
        let n = cursor.node();
        if n.is_missing() {
            return true;
        }
        if n.is_error() {
            let benign = n
                .parent()
                .is_some_and(|p| p.kind() == "parameter_declaration")
                && n.child_count() == 1
                && n.child(0).is_some_and(|c| c.kind() == "=");
            if !benign {
                return true;
            }
        } else if n.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}

/// The value after `=` in a declaration (`.bicepparam` puts it inside a `type` node).
fn assigned(decl: Node) -> Option<Node> {
    let mut c = decl.walk();
    let kids: Vec<Node> = decl.children(&mut c).collect();
    let eq = kids.iter().position(|k| {
        k.kind() == "=" || (k.is_error() && k.child(0).is_some_and(|c| c.kind() == "="))
    })?;
    let v = kids[eq + 1..].iter().find(|k| k.is_named())?;
    if v.kind() == "type" {
        return v.named_child(0);
    }
    Some(*v)
}

/// The object a resource or module is declared with, through `if (...)` and `[for ...]`.
fn body_object(decl: Node) -> Option<Node> {
    let mut c = decl.walk();
    let kids: Vec<Node> = decl.named_children(&mut c).collect();
    for k in kids.iter().rev() {
        match k.kind() {
            "object" => return Some(*k),
            "if_statement" | "for_statement" => {
                let mut kc = k.walk();
                let found = k
                    .named_children(&mut kc)
                    .filter(|x| x.kind() == "object")
                    .last();
                if found.is_some() {
                    return found;
                }
            }
            _ => {}
        }
    }
    None
}

fn resource(decl: Node, src: &str, f: &mut Facts, parent: Option<&str>, depth: usize) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    let mut c = decl.walk();
    let kids: Vec<Node> = decl.children(&mut c).collect();
    let Some(name) = kids.iter().find(|n| n.kind() == "identifier") else {
        return;
    };
    let Some(ty) = kids.iter().find(|n| n.kind() == "string") else {
        return;
    };
    let existing = kids.iter().find(|n| n.kind() == "existing");
    let ty_text = string_text(*ty, src).1;
    let short = ty_text.split('@').next().unwrap_or("").to_string();
    let kind = match parent {
        Some(p) if !short.contains('/') => format!("{p}/{short}"),
        _ => short,
    };
    let header_end = existing.map_or(ty.end_byte(), |e| e.end_byte());
    let idx = f.blocks.len();
    f.blocks.push(Block {
        kind: kind.clone(),
        name: node_text(*name, src).to_string(),
        span: decl.start_byte()..header_end,
        existing: existing.is_some(),
    });
    if let Some(body) = body_object(decl) {
        object_entries(f, body, src, "", Some(idx), Some(&kind), depth + 1);
    }
}

/// Entries for an object's properties; nested `resource` declarations become blocks.
fn object_entries(
    f: &mut Facts,
    obj: Node,
    src: &str,
    prefix: &str,
    block: Option<usize>,
    kind: Option<&str>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    let mut c = obj.walk();
    for prop in obj
        .named_children(&mut c)
        .filter(|n| n.kind() == "object_property")
    {
        let mut pc = prop.walk();
        let kids: Vec<Node> = prop
            .named_children(&mut pc)
            .filter(|n| n.kind() != "comment")
            .collect();
        if let Some(res) = kids.iter().find(|k| k.kind() == "resource_declaration") {
            resource(*res, src, f, kind, depth + 1);
            continue;
        }
        let (Some(k), Some(v)) = (kids.first(), kids.get(1)) else {
            continue;
        };
        let (key, key_span) = match k.kind() {
            "string" => {
                let (_, text, _) = string_text(*k, src);
                (text, k.byte_range())
            }
            _ => (node_text(*k, src).to_string(), k.byte_range()),
        };
        value_entries(
            f,
            *v,
            src,
            &join(prefix, &key),
            key_span,
            block,
            kind,
            depth + 1,
        );
    }
}

fn value_entries(
    f: &mut Facts,
    v: Node,
    src: &str,
    key: &str,
    key_span: Span,
    block: Option<usize>,
    kind: Option<&str>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    match v.kind() {
        "object" => object_entries(f, v, src, key, block, kind, depth + 1),
        "array" => {
            let mut c = v.walk();
            for el in v.named_children(&mut c).filter(|n| n.kind() != "comment") {
                value_entries(f, el, src, key, key_span.clone(), block, kind, depth + 1);
            }
        }
        _ => f.config.push(ConfigEntry {
            key: key.to_string(),
            value: value_of(v, src, depth),
            key_span,
            value_span: value_span(v),
            block,
        }),
    }
}

fn value_span(v: Node) -> Span {
    v.byte_range()
}

fn is_chain(n: Node) -> bool {
    match n.kind() {
        "identifier" => true,
        "member_expression" => n.child_by_field_name("object").is_some_and(is_chain),
        _ => false,
    }
}

fn value_of(v: Node, src: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Other(vec![]);
    }
    match v.kind() {
        "string" => {
            let mut parts = string_parts(v, src, depth).1;
            if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
                return Value::Str(
                    parts
                        .into_iter()
                        .map(|p| {
                            if let Part::Lit(s) = p {
                                s
                            } else {
                                String::new()
                            }
                        })
                        .collect(),
                );
            }
            if parts.len() == 1 {
                if let Some(Part::Hole(h)) = parts.pop() {
                    return h;
                }
            }
            Value::Template(parts)
        }
        "identifier" | "member_expression" if is_chain(v) => Value::Ident(
            node_text(v, src)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        ),
        "boolean" => Value::Bool(node_text(v, src) == "true"),
        "number" => Value::Number(node_text(v, src).to_string()),
        "null" => Value::Null,
        "parenthesized_expression" if v.named_child_count() == 1 => v
            .named_child(0)
            .map_or(Value::Other(vec![]), |i| value_of(i, src, depth + 1)),
        "object" => {
            let mut c = v.walk();
            let args = v
                .named_children(&mut c)
                .filter(|n| n.kind() == "object_property")
                .filter_map(|p| {
                    let k = p.named_child(0)?;
                    let val = p.named_child(1)?;
                    let name = if k.kind() == "string" {
                        string_text(k, src).1
                    } else {
                        node_text(k, src).to_string()
                    };
                    Some(Arg {
                        name: Some(name),
                        value: value_of(val, src, depth + 1),
                        span: value_span(val),
                    })
                })
                .collect();
            Value::Object(args)
        }
        "array" => {
            let mut c = v.walk();
            Value::Array(
                v.named_children(&mut c)
                    .filter(|n| n.kind() != "comment")
                    .map(|e| value_of(e, src, depth + 1))
                    .collect(),
            )
        }
        _ => Value::Other(refs(v, src)),
    }
}

/// The names an expression reads: identifier and member chains, not function names or
/// object keys.
fn refs(n: Node, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = n.walk();
    loop {
        let node = cursor.node();
        let field = cursor.field_name();
        let mut descend = true;
        if field != Some("function") && is_chain(node) {
            let first_of_property = node.parent().is_some_and(|p| p.kind() == "object_property")
                && node.prev_named_sibling().is_none();
            if !first_of_property {
                out.push(
                    node_text(node, src)
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect(),
                );
            }
            descend = false;
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == n {
                return out;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

/// (content span, text with `{}` for holes, no escapes or holes).
fn string_text(n: Node, src: &str) -> (Span, String, bool) {
    let (span, parts, raw) = string_parts(n, src, MAX_DEPTH);
    let text = parts
        .iter()
        .map(|p| match p {
            Part::Lit(s) => s.clone(),
            Part::Hole(_) => "{}".to_string(),
        })
        .collect();
    (span, text, raw)
}

fn string_parts(n: Node, src: &str, depth: usize) -> (Span, Vec<Part>, bool) {
    let r = n.byte_range();
    let raw = node_text(n, src);
    let delim = if raw.starts_with("'''") && raw.len() >= 6 {
        3
    } else {
        1
    };
    let mut start = r.start + delim.min(raw.len());
    let end = if raw.len() >= 2 * delim && raw.ends_with('\'') {
        r.end - delim
    } else {
        r.end
    };
    if delim == 3 {
        // A newline right after `'''` is not part of the value.
        if src.get(start..end).is_some_and(|s| s.starts_with("\r\n")) {
            start += 2;
        } else if src.get(start..end).is_some_and(|s| s.starts_with('\n')) {
            start += 1;
        }
    }
    let end = end.max(start);
    let mut parts: Vec<Part> = Vec::new();
    let mut clean = true;
    let mut lit = String::new();
    let mut pos = start;
    let mut c = n.walk();
    for ch in n.named_children(&mut c) {
        if ch.end_byte() <= start || ch.start_byte() >= end {
            continue;
        }
        match ch.kind() {
            "escape_sequence" => {
                lit.push_str(src.get(pos..ch.start_byte()).unwrap_or(""));
                lit.push_str(&unescape(node_text(ch, src)));
                clean = false;
                pos = ch.end_byte();
            }
            "interpolation" => {
                lit.push_str(src.get(pos..ch.start_byte()).unwrap_or(""));
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                let inner = ch.named_child(0);
                parts.push(Part::Hole(inner.map_or(Value::Other(vec![]), |i| {
                    if depth >= MAX_DEPTH {
                        Value::Other(refs(i, src))
                    } else {
                        value_of(i, src, depth + 1)
                    }
                })));
                clean = false;
                pos = ch.end_byte();
            }
            _ => {}
        }
    }
    lit.push_str(src.get(pos.min(end)..end).unwrap_or(""));
    if !lit.is_empty() || parts.is_empty() {
        parts.push(Part::Lit(lit));
    }
    (start..end, parts, clean)
}

fn unescape(e: &str) -> String {
    match e {
        "\\n" => "\n".into(),
        "\\r" => "\r".into(),
        "\\t" => "\t".into(),
        _ => {
            if let Some(hex) = e.strip_prefix("\\u{").and_then(|h| h.strip_suffix('}')) {
                return u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
                    .unwrap_or_default();
            }
            e.get(1..).unwrap_or("").to_string()
        }
    }
}

/// A string literal for every Bicep string.
fn strings(root: Node, src: &str, f: &mut Facts) {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.kind() == "string" {
            let (span, text, raw) = string_text(node, src);
            push_str(f, &text, node.byte_range(), span.start, raw);
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Part, Value};

    const MAIN_BICEP: &str = r#"// Azure OpenAI account for intake
@description('Region for all resources')
param location string = 'eastus'
param accountName string
@secure()
param adminKey string

var deploymentName = 'gpt-4o-${uniqueString(resourceGroup().id)}'

resource acct 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: accountName
  location: location
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: toLower(accountName)
    publicNetworkAccess: 'Disabled'
    disableLocalAuth: true
    networkAcls: {
      defaultAction: 'Deny'
      ipRules: [
        { value: '203.0.113.0/24' }
      ]
    }
  }

  resource gpt 'deployments@2024-10-01' = {
    name: deploymentName
    sku: { name: 'GlobalStandard', capacity: 10 }
    properties: {
      model: { format: 'OpenAI', name: 'gpt-4o', version: '2024-08-06' }
    }
  }
}

resource shared 'Microsoft.CognitiveServices/accounts@2023-05-01' existing = {
  name: 'shared-oai'
}

resource embed 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = if (deployEmbeddings) {
  parent: acct
  name: 'text-embedding-3-small'
  properties: { model: { name: 'text-embedding-3-small' } }
}

/* outputs */
output endpoint string = acct.properties.endpoint
"#;

    fn in_block<'a>(
        f: &'a crate::facts::Facts,
        key: &str,
        idx: usize,
    ) -> &'a crate::facts::ConfigEntry {
        f.config
            .iter()
            .find(|e| e.key == key && e.block == Some(idx))
            .unwrap_or_else(|| {
                panic!(
                    "{key} in block {idx}: {:?}",
                    f.config
                        .iter()
                        .map(|e| (&e.key, e.block))
                        .collect::<Vec<_>>()
                )
            })
    }

    #[test]
    fn bicep_blocks() {
        let t = MAIN_BICEP;
        let f = crate::lang::config::facts(t, Lang::Bicep);
        assert!(!f.parse_errors);
        let kinds: Vec<_> = f
            .blocks
            .iter()
            .map(|b| (b.kind.as_str(), b.name.as_str(), b.existing))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Microsoft.CognitiveServices/accounts", "acct", false),
                (
                    "Microsoft.CognitiveServices/accounts/deployments",
                    "gpt",
                    false
                ),
                ("Microsoft.CognitiveServices/accounts", "shared", true),
                (
                    "Microsoft.CognitiveServices/accounts/deployments",
                    "embed",
                    false
                ),
            ]
        );
        assert_eq!(
            &t[f.blocks[0].span.clone()],
            "resource acct 'Microsoft.CognitiveServices/accounts@2024-10-01'"
        );
        assert!(t[f.blocks[2].span.clone()].ends_with("existing"));
        let e = in_block(&f, "properties.publicNetworkAccess", 0);
        assert_eq!(e.value, s("Disabled"));
        assert_eq!(&t[e.value_span.clone()], "'Disabled'");
        assert_eq!(&t[e.key_span.clone()], "publicNetworkAccess");
        let e = in_block(&f, "properties.disableLocalAuth", 0);
        assert_eq!(e.value, Value::Bool(true));
        assert_eq!(&t[e.value_span.clone()], "true");
        assert_eq!(
            in_block(&f, "location", 0).value,
            Value::Ident("location".into())
        );
        assert_eq!(in_block(&f, "kind", 0).value, s("OpenAI"));
        assert_eq!(in_block(&f, "sku.name", 0).value, s("S0"));
        assert_eq!(
            in_block(&f, "properties.networkAcls.defaultAction", 0).value,
            s("Deny")
        );
        assert_eq!(
            in_block(&f, "properties.networkAcls.ipRules.value", 0).value,
            s("203.0.113.0/24")
        );
        assert_eq!(
            in_block(&f, "properties.customSubDomainName", 0).value,
            Value::Other(vec!["accountName".into()])
        );
        assert_eq!(in_block(&f, "sku.name", 1).value, s("GlobalStandard"));
        assert_eq!(
            in_block(&f, "name", 1).value,
            Value::Ident("deploymentName".into())
        );
        assert_eq!(
            in_block(&f, "properties.model.name", 3).value,
            s("text-embedding-3-small")
        );
        assert_eq!(in_block(&f, "parent", 3).value, Value::Ident("acct".into()));
        assert!(f.config.iter().all(|e| e.block.is_some()));
    }

    #[test]
    fn bicep_assigns_strings_comments() {
        let t = MAIN_BICEP;
        let f = crate::lang::config::facts(t, Lang::Bicep);
        let loc = f.assigns.iter().find(|a| a.target == "location").unwrap();
        assert_eq!(loc.value, s("eastus"));
        assert_eq!(&t[loc.span.clone()], "'eastus'");
        assert!(!f.assigns.iter().any(|a| a.target == "accountName"));
        let dep = f
            .assigns
            .iter()
            .find(|a| a.target == "deploymentName")
            .unwrap();
        assert!(matches!(&dep.value, Value::Template(p) if p[0] == Part::Lit("gpt-4o-".into())));
        let c: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(c, ["// Azure OpenAI account for intake", "/* outputs */"]);
        let lit = f.strings.iter().find(|s| s.value == "Disabled").unwrap();
        assert!(lit.raw_is_value);
        assert_eq!(&t[lit.content_start..lit.content_start + 8], "Disabled");
        assert!(f
            .strings
            .iter()
            .any(|s| s.value == "gpt-4o-{}" && !s.raw_is_value));
    }

    #[test]
    fn bicepparam_file() {
        let t = "using './main.bicep'\n\nparam location = 'westus'\nparam capacity = 10\nparam endpoint = 'https://api.openai.com/v1'\n";
        let f = crate::lang::config::facts(t, Lang::Bicep);
        assert!(!f.parse_errors);
        let a = f.assigns.iter().find(|a| a.target == "location").unwrap();
        assert_eq!(a.value, s("westus"));
        check(&f, t, "location", s("westus"), "westus");
        check(&f, t, "capacity", Value::Number("10".into()), "10");
        check(
            &f,
            t,
            "endpoint",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
    }

    #[test]
    fn bicep_string_forms_and_errors() {
        let t =
            "var a = 'it\\'s \\u{41}'\nvar b = '''\nmulti ${x}\n'''\nvar c = cond ? 'x' : other\n";
        let f = crate::lang::config::facts(t, Lang::Bicep);
        assert_eq!(f.assigns[0].value, s("it's A"));
        assert_eq!(f.assigns[1].value, s("multi ${x}\n"));
        assert_eq!(
            f.assigns[2].value,
            Value::Other(vec!["cond".into(), "other".into()])
        );
        let f = crate::lang::config::facts("resource x 'T@1' = {\n  name: \n", Lang::Bicep);
        assert!(f.parse_errors);
        let deep = format!("var x = {}1{}\n", "[".repeat(3000), "]".repeat(3000));
        let _ = crate::lang::config::facts(&deep, Lang::Bicep);
        for t in [
            "",
            "'",
            "resource",
            "param x =",
            "var a = '${",
            "resource a 'b' existing",
        ] {
            let _ = crate::lang::config::facts(t, Lang::Bicep);
        }
    }
}
