//! JSON and JSONC (tree-sitter-json, which accepts `//` and `/* */` comments):
//! `appsettings.json`, `package.json`, ECS task definitions, ARM templates and ARM parameter
//! files. Ordinary files become dotted-key entries over a [`Tree`]. An ARM template (a
//! `deploymentTemplate` schema, or a `resources` array of objects with `type`) also gets a
//! [`Block`] per resource with entries keyed relative to it, `[parameters('x')]`
//! expressions as [`Value::Ident`]`("parameters.x")`, and parameter defaults as
//! [`Assign`]s; parameter files assign `parameters.x` their `value`. Nested deployment
//! templates are not opened.
//!
//! Most files are read by the hand-written parser in [`json_fast`], which gives up on
//! anything it is not sure tree-sitter-json would parse cleanly; those files come here to
//! tree-sitter and its error recovery. Both paths build the [`Tree`] through the same
//! [`string_scalar`] and [`literal`], so they agree to the byte.

use std::ops::Range;

use tree_sitter::Node;

use super::{collect_comments, emit_pair, emit_tree, json_fast, note_depth, push_str, str_value};
use super::{Pair, Scalar, Tree, MAX_DEPTH};
use crate::facts::{Assign, Block, Facts, Value};
use crate::lang::treesitter::{parse, text as node_text};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    if let Some(t) = json_fast::parse(text, f).or_else(|| parse_tree_sitter(text, f)) {
        lower(f, t);
    }
}

/// The slow path, with tree-sitter's error recovery, for whatever the fast parser declines:
/// the document's first value as a [`Tree`], comments and parse errors recorded in `f`.
pub(super) fn parse_tree_sitter(text: &str, f: &mut Facts) -> Option<Tree> {
    let Some(tree) = parse(&tree_sitter_json::LANGUAGE.into(), text) else {
        f.notes.push("JSON parse abandoned (time budget)".into());
        f.parse_errors = true;
        return None;
    };
    let root = tree.root_node();
    f.parse_errors = root.has_error();
    collect_comments(f, root, text);
    let mut c = root.walk();
    let top = root
        .named_children(&mut c)
        .find(|n| n.kind() != "comment")?;
    Some(convert(top, text, f, 0))
}

/// Entries, ARM blocks and assignments for a parsed document.
pub(super) fn lower(f: &mut Facts, mut t: Tree) {
    let schema = t
        .get("$schema")
        .and_then(Tree::str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_template =
        schema.contains("deploymenttemplate") || has_typed_resources(t.get("resources"));
    let is_params = schema.contains("deploymentparameters");
    if is_template || is_params {
        arm_values(&mut t, 0);
    }
    if is_template {
        arm_template(f, t);
    } else {
        if is_params {
            if let Some(Tree::Map(params)) = t.get("parameters") {
                for p in params {
                    if let Some(v) = p.value.get("value") {
                        assign(f, format!("parameters.{}", p.key), v);
                    }
                }
            }
        }
        emit_tree(f, t, "", &(0..0), None, 0);
    }
}

fn has_typed_resources(r: Option<&Tree>) -> bool {
    match r {
        Some(Tree::Seq(items)) => items
            .iter()
            .any(|i| i.get("type").and_then(Tree::str).is_some()),
        Some(Tree::Map(pairs)) => pairs
            .iter()
            .any(|p| p.value.get("type").and_then(Tree::str).is_some()),
        _ => false,
    }
}

fn assign(f: &mut Facts, target: String, v: &Tree) {
    f.assigns.push(Assign {
        target,
        value: v.to_value(0),
        span: v.span().unwrap_or(0..0),
        scope: 0,
    });
}

fn arm_template(f: &mut Facts, t: Tree) {
    let Tree::Map(pairs) = t else { return };
    for p in pairs {
        if p.key == "resources" {
            arm_resources(f, p.value, None, 0);
            continue;
        }
        if p.key == "parameters" || p.key == "variables" {
            if let Tree::Map(items) = &p.value {
                for item in items {
                    let value = if p.key == "parameters" {
                        item.value.get("defaultValue")
                    } else {
                        Some(&item.value)
                    };
                    if let Some(v) = value {
                        assign(f, format!("{}.{}", p.key, item.key), v);
                    }
                }
            }
        }
        emit_pair(f, p, "", None, 0);
    }
}

/// A block per resource object; child `resources` get their parent's type prefixed when
/// written in the short nested form (`deployments`).
fn arm_resources(f: &mut Facts, list: Tree, parent: Option<&str>, depth: usize) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    let items: Vec<Tree> = match list {
        Tree::Seq(items) => items,
        Tree::Map(pairs) => pairs.into_iter().map(|p| p.value).collect(),
        _ => return,
    };
    for item in items {
        let Some(ty) = item.pair("type") else {
            continue;
        };
        let Some(ty_text) = ty.value.str() else {
            continue;
        };
        let kind = match parent {
            Some(pk) if !ty_text.contains('/') => format!("{pk}/{ty_text}"),
            _ => ty_text.to_string(),
        };
        let name = item
            .get("name")
            .and_then(Tree::str)
            .unwrap_or("")
            .to_string();
        let existing = matches!(
            item.get("existing").and_then(Tree::scalar),
            Some(Scalar {
                value: Value::Bool(true),
                ..
            })
        );
        let idx = f.blocks.len();
        f.blocks.push(Block {
            kind: kind.clone(),
            name,
            span: ty.span.clone(),
            existing,
        });
        let Tree::Map(pairs) = item else {
            continue;
        };
        for p in pairs {
            if p.key == "resources" {
                arm_resources(f, p.value, Some(&kind), depth + 1);
            } else {
                emit_pair(f, p, "", Some(idx), 0);
            }
        }
    }
}

/// Rewrites ARM expression strings (`[parameters('x')]`) in place.
fn arm_values(t: &mut Tree, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match t {
        Tree::Map(pairs) => pairs
            .iter_mut()
            .for_each(|p| arm_values(&mut p.value, depth + 1)),
        Tree::Seq(items) => items.iter_mut().for_each(|i| arm_values(i, depth + 1)),
        Tree::Scalar(s) => {
            if let Value::Str(text) = &s.value {
                if let Some(v) = arm_expression(text) {
                    s.set_value(v);
                }
            }
        }
        Tree::Other => {}
    }
}

fn arm_expression(text: &str) -> Option<Value> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.starts_with('[') {
        return None;
    }
    let inner = inner.trim();
    let mut refs = Vec::new();
    for func in ["parameters", "variables"] {
        let mut rest = inner;
        while let Some(k) = rest.find(func) {
            let after = rest[k + func.len()..].trim_start();
            rest = &rest[k + func.len()..];
            let Some(arg) = after.strip_prefix('(') else {
                continue;
            };
            let arg = arg.trim_start();
            let Some(q) = arg.strip_prefix('\'') else {
                continue;
            };
            let Some(end) = q.find('\'') else { continue };
            let r = format!("{func}.{}", &q[..end]);
            let whole = arg[end + 2..]
                .trim_start()
                .strip_prefix(')')
                .is_some_and(|tail| tail.trim().is_empty())
                && inner[..inner.len() - after.len() - func.len()]
                    .trim()
                    .is_empty();
            if whole {
                return Some(Value::Ident(r));
            }
            refs.push(r);
        }
    }
    Some(Value::Other(refs))
}

fn convert(n: Node, src: &str, f: &mut Facts, depth: usize) -> Tree {
    if depth > MAX_DEPTH {
        note_depth(f);
        return Tree::Other;
    }
    match n.kind() {
        "object" => {
            let mut pairs = Vec::new();
            let mut c = n.walk();
            for p in n.named_children(&mut c) {
                if p.kind() != "pair" {
                    continue;
                }
                let (Some(k), Some(v)) =
                    (p.child_by_field_name("key"), p.child_by_field_name("value"))
                else {
                    continue;
                };
                let (key, key_span) = match k.kind() {
                    "string" => (string(k.byte_range(), src).0, k.byte_range()),
                    _ => (node_text(k, src).to_string(), k.byte_range()),
                };
                let value = convert(v, src, f, depth + 1);
                pairs.push(Pair {
                    key,
                    key_span,
                    value,
                    span: p.byte_range(),
                });
            }
            Tree::Map(pairs)
        }
        "array" => {
            let mut c = n.walk();
            let items: Vec<Node> = n
                .named_children(&mut c)
                .filter(|x| x.kind() != "comment")
                .collect();
            Tree::Seq(
                items
                    .into_iter()
                    .map(|x| convert(x, src, f, depth + 1))
                    .collect(),
            )
        }
        "string" => string_scalar(n.byte_range(), src, f),
        kind @ ("number" | "true" | "false" | "null") => literal(kind, n.byte_range(), src),
        _ => Tree::Other,
    }
}

/// A string value as a scalar, also recorded as a string literal.
pub(super) fn string_scalar(r: Range<usize>, src: &str, f: &mut Facts) -> Tree {
    let (text, content, raw) = string(r.clone(), src);
    push_str(f, &text, r.clone(), content.start, raw);
    Tree::Scalar(Scalar::new(
        str_value(&text, false),
        r,
        content.start,
        text,
        raw,
    ))
}

/// A `number`, `true`, `false` or `null` token (named by its node kind) as a scalar.
pub(super) fn literal(kind: &str, r: Range<usize>, src: &str) -> Tree {
    let text = src.get(r.clone()).unwrap_or("").to_string();
    let value = match kind {
        "number" => Value::Number(text.clone()),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::Null,
    };
    let start = r.start;
    Tree::Scalar(Scalar::new(value, r, start, text, true))
}

/// The decoded text of the string token at `r` (quotes included), its content span and
/// whether the text is the raw content.
pub(super) fn string(r: Range<usize>, src: &str) -> (String, Range<usize>, bool) {
    let raw = src.get(r.clone()).unwrap_or("");
    if raw.len() < 2 || !raw.ends_with('"') {
        let inner = raw.strip_prefix('"').unwrap_or(raw);
        return (inner.to_string(), r.end - inner.len()..r.end, true);
    }
    let inner = &raw[1..raw.len() - 1];
    let span = r.start + 1..r.end - 1;
    if !inner.contains('\\') {
        return (inner.to_string(), span, true);
    }
    (unescape(inner), span, false)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let h: String = chars.by_ref().take(4).collect();
                let Ok(code) = u32::from_str_radix(&h, 16) else {
                    out.push('\u{fffd}');
                    continue;
                };
                if (0xD800..0xDC00).contains(&code) {
                    pending_high = Some(code);
                    continue;
                }
                let ch = match pending_high.take() {
                    Some(hi) if (0xDC00..0xE000).contains(&code) => {
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (code - 0xDC00))
                    }
                    _ => char::from_u32(code),
                };
                out.push(ch.unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Value};

    fn json(t: &str) -> crate::facts::Facts {
        crate::lang::config::facts(t, Lang::Json)
    }

    #[test]
    fn appsettings_with_comments() {
        let t = r#"{
  // Azure OpenAI under the Microsoft BAA
  "AzureOpenAI": {
    "Endpoint": "https://contoso.openai.azure.com/",
    "Deployment": "gpt-4o", /* prod */
    "ApiKey": "${AZURE_OPENAI_KEY}"
  },
  "OpenAI": { "BaseUrl": "https://api.openai.com/v1", "Escaped": "a\"b\u00e9" },
  "Logging": { "LogLevel": { "Default": "Information", "Microsoft.SemanticKernel": "Trace" } },
  "Retries": 3,
  "Enabled": true,
  "Hosts": ["api.openai.com", {"Name": "x"}]
}"#;
        let f = json(t);
        assert!(!f.parse_errors);
        check(
            &f,
            t,
            "AzureOpenAI.Endpoint",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "AzureOpenAI.ApiKey",
            env("AZURE_OPENAI_KEY"),
            "${AZURE_OPENAI_KEY}",
        );
        check(
            &f,
            t,
            "OpenAI.BaseUrl",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        check(&f, t, "OpenAI.Escaped", s("a\"bé"), "a\\\"b\\u00e9");
        check(
            &f,
            t,
            "Logging.LogLevel.Microsoft.SemanticKernel",
            s("Trace"),
            "Trace",
        );
        check(&f, t, "Retries", Value::Number("3".into()), "3");
        check(&f, t, "Enabled", Value::Bool(true), "true");
        check(&f, t, "Hosts", s("api.openai.com"), "api.openai.com");
        check(&f, t, "Hosts.Name", s("x"), "x");
        assert_eq!(
            &t[entry(&f, "AzureOpenAI.Endpoint").key_span.clone()],
            "\"Endpoint\""
        );
        let c: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(c, ["// Azure OpenAI under the Microsoft BAA", "/* prod */"]);
        let lit = f
            .strings
            .iter()
            .find(|s| s.value == "https://api.openai.com/v1")
            .unwrap();
        assert!(lit.raw_is_value);
        assert_eq!(
            &t[lit.content_start..lit.content_start + lit.value.len()],
            lit.value
        );
        assert!(
            !f.strings
                .iter()
                .find(|s| s.value == "a\"bé")
                .unwrap()
                .raw_is_value
        );
    }

    #[test]
    fn ecs_task_definition_environment() {
        let t = r#"{"containerDefinitions": [{"name": "api", "environment": [
            {"name": "OPENAI_BASE_URL", "value": "https://api.openai.com/v1"}]}]}"#;
        let f = json(t);
        check(
            &f,
            t,
            "OPENAI_BASE_URL",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        check(
            &f,
            t,
            "containerDefinitions.environment.name",
            s("OPENAI_BASE_URL"),
            "OPENAI_BASE_URL",
        );
    }

    const ARM: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "location": { "type": "string", "defaultValue": "eastus" },
    "accountName": { "type": "string" }
  },
  "variables": { "skuName": "S0" },
  "resources": [
    {
      "type": "Microsoft.CognitiveServices/accounts",
      "apiVersion": "2024-10-01",
      "name": "[parameters('accountName')]",
      "location": "[parameters('location')]",
      "kind": "OpenAI",
      "sku": { "name": "[variables('skuName')]" },
      "properties": {
        "publicNetworkAccess": "Enabled",
        "customSubDomainName": "[toLower(parameters('accountName'))]",
        "networkAcls": { "defaultAction": "Allow" }
      },
      "resources": [
        {
          "type": "deployments",
          "apiVersion": "2024-10-01",
          "name": "gpt-4o",
          "sku": { "name": "GlobalStandard", "capacity": 10 },
          "properties": { "model": { "format": "OpenAI", "name": "gpt-4o" } }
        }
      ]
    },
    {
      "type": "Microsoft.CognitiveServices/accounts/deployments",
      "apiVersion": "2024-10-01",
      "name": "[concat(parameters('accountName'), '/embeddings')]",
      "properties": { "model": { "name": "text-embedding-3-small" } }
    }
  ]
}"#;

    #[test]
    fn arm_template_blocks() {
        let t = ARM;
        let f = json(t);
        assert_eq!(f.blocks.len(), 3);
        let b = &f.blocks[0];
        assert_eq!(b.kind, "Microsoft.CognitiveServices/accounts");
        assert_eq!(b.name, "[parameters('accountName')]");
        assert_eq!(
            &t[b.span.clone()],
            "\"type\": \"Microsoft.CognitiveServices/accounts\""
        );
        assert!(!b.existing);
        assert_eq!(
            f.blocks[1].kind,
            "Microsoft.CognitiveServices/accounts/deployments"
        );
        assert_eq!(f.blocks[1].name, "gpt-4o");
        assert_eq!(
            f.blocks[2].kind,
            "Microsoft.CognitiveServices/accounts/deployments"
        );
        let in_block = |key: &str, idx: usize| {
            f.config
                .iter()
                .find(|e| e.key == key && e.block == Some(idx))
                .unwrap_or_else(|| panic!("{key} in block {idx}"))
        };
        assert_eq!(
            in_block("properties.publicNetworkAccess", 0).value,
            s("Enabled")
        );
        assert_eq!(
            &t[in_block("properties.publicNetworkAccess", 0)
                .value_span
                .clone()],
            "\"Enabled\""
        );
        assert_eq!(
            in_block("properties.networkAcls.defaultAction", 0).value,
            s("Allow")
        );
        assert_eq!(
            in_block("location", 0).value,
            Value::Ident("parameters.location".into())
        );
        assert_eq!(
            in_block("sku.name", 0).value,
            Value::Ident("variables.skuName".into())
        );
        assert_eq!(in_block("kind", 0).value, s("OpenAI"));
        assert_eq!(
            in_block("properties.customSubDomainName", 0).value,
            Value::Other(vec!["parameters.accountName".into()])
        );
        assert_eq!(in_block("sku.name", 1).value, s("GlobalStandard"));
        assert_eq!(
            in_block("properties.model.name", 2).value,
            s("text-embedding-3-small")
        );
        assert!(f.config.iter().all(|e| !e.key.starts_with("resources")));
        let loc = f
            .assigns
            .iter()
            .find(|a| a.target == "parameters.location")
            .unwrap();
        assert_eq!(loc.value, s("eastus"));
        assert_eq!(&t[loc.span.clone()], "\"eastus\"");
        assert!(f
            .assigns
            .iter()
            .any(|a| a.target == "variables.skuName" && a.value == s("S0")));
        check(
            &f,
            t,
            "parameters.location.defaultValue",
            s("eastus"),
            "eastus",
        );
    }

    #[test]
    fn arm_parameter_file() {
        let t = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "location": { "value": "westeurope" },
    "publicNetworkAccess": { "value": "Enabled" },
    "tags": { "value": { "env": "prod" } }
  }
}"#;
        let f = json(t);
        let a = f
            .assigns
            .iter()
            .find(|a| a.target == "parameters.location")
            .unwrap();
        assert_eq!(a.value, s("westeurope"));
        assert!(f
            .assigns
            .iter()
            .any(|a| a.target == "parameters.publicNetworkAccess"));
        assert!(matches!(
            f.assigns
                .iter()
                .find(|a| a.target == "parameters.tags")
                .unwrap()
                .value,
            Value::Object(_)
        ));
        check(
            &f,
            t,
            "parameters.location.value",
            s("westeurope"),
            "westeurope",
        );
        assert!(f.blocks.is_empty());
    }

    #[test]
    fn broken_and_deep_json() {
        let f = json("{\"a\": [1, 2,, }");
        assert!(f.parse_errors);
        let deep = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
        let f = json(&deep);
        assert!(f.notes.iter().any(|n| n.contains("nesting")));
        for t in [
            "",
            "\"",
            "{\"a\":\"\\u",
            "{\"a\":\"\\ud800\"}",
            "// only comment",
            "[[[[[",
        ] {
            let _ = json(t);
        }
    }
}
