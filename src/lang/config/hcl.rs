//! HCL / Terraform (tree-sitter-hcl): `.tf` and `.tfvars`. `resource "type" "name" {}`
//! becomes a [`Block`] (`data` blocks with `existing: true`) whose attributes, nested
//! blocks (`network_acls { default_action }` → `network_acls.default_action`), `dynamic`
//! blocks and object values are entries keyed relative to the block. `variable "x"
//! { default }` assigns `var.x`, `locals {}` assigns `local.x`, and top-level attributes
//! (`.tfvars`) assign `var.x`. References (`var.location`, `azurerm_x.y.id`) are
//! [`Value::Ident`], interpolated strings [`Value::Template`], anything computed
//! [`Value::Other`] with the names it reads. Modules are not followed and nothing is
//! evaluated.

use tree_sitter::Node;

use super::{collect_comments, join, note_depth, push_str, MAX_DEPTH};
use crate::facts::{Arg, Assign, Block, ConfigEntry, Facts, Part, Span, Value};
use crate::lang::treesitter::{parse, text as node_text};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let Some(tree) = parse(&tree_sitter_hcl::LANGUAGE.into(), text) else {
        f.notes.push("HCL parse abandoned (time budget)".into());
        f.parse_errors = true;
        return;
    };
    let root = tree.root_node();
    f.parse_errors = root.has_error();
    collect_comments(f, root, text);
    strings(root, text, f);
    let mut c = root.walk();
    for body in root.named_children(&mut c).filter(|n| n.kind() == "body") {
        let mut bc = body.walk();
        for item in body.named_children(&mut bc) {
            match item.kind() {
                "attribute" => {
                    let Some((name, key_span, expr)) = attribute(item, text) else {
                        continue;
                    };
                    let value = value_of(expr, text, 0);
                    f.assigns.push(Assign {
                        target: format!("var.{name}"),
                        value,
                        span: value_span(expr),
                        scope: 0,
                    });
                    entries(f, expr, text, &name, key_span, None, 0);
                }
                "block" => top_block(item, text, f),
                _ => {}
            }
        }
    }
}

/// A block's type identifier, its labels, the span of its header and its body.
fn parts<'a>(block: Node<'a>, src: &str) -> (String, Vec<String>, Span, Option<Node<'a>>) {
    let mut c = block.walk();
    let mut ty = String::new();
    let mut labels = Vec::new();
    let mut header_end = block.start_byte();
    let mut body = None;
    for ch in block.named_children(&mut c) {
        match ch.kind() {
            "identifier" if ty.is_empty() => {
                ty = node_text(ch, src).to_string();
                header_end = ch.end_byte();
            }
            "identifier" => {
                labels.push(node_text(ch, src).to_string());
                header_end = ch.end_byte();
            }
            "string_lit" => {
                labels.push(template(ch, src, 0).1);
                header_end = ch.end_byte();
            }
            "body" => body = Some(ch),
            _ => {}
        }
    }
    (ty, labels, block.start_byte()..header_end, body)
}

fn top_block(block: Node, src: &str, f: &mut Facts) {
    let (ty, labels, header, body) = parts(block, src);
    let resource = matches!(ty.as_str(), "resource" | "data") && labels.len() >= 2;
    let (prefix, idx) = if resource {
        let idx = f.blocks.len();
        f.blocks.push(Block {
            kind: labels[0].clone(),
            name: labels[1].clone(),
            span: header,
            existing: ty == "data",
        });
        (String::new(), Some(idx))
    } else {
        (
            std::iter::once(ty.clone())
                .chain(labels.iter().cloned())
                .collect::<Vec<_>>()
                .join("."),
            None,
        )
    };
    let Some(body) = body else { return };
    body_entries(f, body, src, &prefix, idx, 0);
    let assign_prefix = match ty.as_str() {
        "variable" if labels.len() == 1 => Some(format!("var.{}", labels[0])),
        "locals" => Some("local".to_string()),
        _ => None,
    };
    let Some(ap) = assign_prefix else { return };
    let mut c = body.walk();
    for item in body
        .named_children(&mut c)
        .filter(|n| n.kind() == "attribute")
    {
        let Some((name, _, expr)) = attribute(item, src) else {
            continue;
        };
        let target = if ty == "variable" {
            if name != "default" {
                continue;
            }
            ap.clone()
        } else {
            format!("{ap}.{name}")
        };
        f.assigns.push(Assign {
            target,
            value: value_of(expr, src, 0),
            span: value_span(expr),
            scope: 0,
        });
    }
}

fn attribute<'a>(item: Node<'a>, src: &str) -> Option<(String, Span, Node<'a>)> {
    let mut c = item.walk();
    let kids: Vec<Node> = item.named_children(&mut c).collect();
    let name = kids.iter().find(|k| k.kind() == "identifier")?;
    let expr = kids.iter().find(|k| k.kind() == "expression")?;
    Some((node_text(*name, src).to_string(), name.byte_range(), *expr))
}

fn body_entries(
    f: &mut Facts,
    body: Node,
    src: &str,
    prefix: &str,
    block: Option<usize>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    let mut c = body.walk();
    for item in body.named_children(&mut c) {
        match item.kind() {
            "attribute" => {
                let Some((name, key_span, expr)) = attribute(item, src) else {
                    continue;
                };
                entries(
                    f,
                    expr,
                    src,
                    &join(prefix, &name),
                    key_span,
                    block,
                    depth + 1,
                );
            }
            "block" => {
                let (ty, labels, _, inner) = parts(item, src);
                let Some(inner) = inner else { continue };
                // `dynamic "x" { content { ... } }` generates `x` blocks.
                let seg = match ty.as_str() {
                    "dynamic" if !labels.is_empty() => labels[0].clone(),
                    "content" => String::new(),
                    _ => std::iter::once(ty)
                        .chain(labels)
                        .collect::<Vec<_>>()
                        .join("."),
                };
                body_entries(f, inner, src, &join(prefix, &seg), block, depth + 1);
            }
            _ => {}
        }
    }
}

/// Entries for an attribute value: objects nest, tuples repeat the key, everything else
/// is one entry.
fn entries(
    f: &mut Facts,
    expr: Node,
    src: &str,
    key: &str,
    key_span: Span,
    block: Option<usize>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    let inner = unwrap(expr);
    if let Some(coll) = inner
        .filter(|n| n.kind() == "collection_value")
        .and_then(|n| n.named_child(0))
    {
        let mut c = coll.walk();
        match coll.kind() {
            "object" => {
                for el in coll
                    .named_children(&mut c)
                    .filter(|n| n.kind() == "object_elem")
                {
                    let (Some(k), Some(v)) =
                        (el.child_by_field_name("key"), el.child_by_field_name("val"))
                    else {
                        continue;
                    };
                    let (name, span) = object_key(k, src);
                    entries(f, v, src, &join(key, &name), span, block, depth + 1);
                }
            }
            _ => {
                for el in coll
                    .named_children(&mut c)
                    .filter(|n| n.kind() == "expression")
                {
                    entries(f, el, src, key, key_span.clone(), block, depth + 1);
                }
            }
        }
        return;
    }
    f.config.push(ConfigEntry {
        key: key.to_string(),
        value: value_of(expr, src, depth),
        key_span,
        value_span: value_span(expr),
        block,
    });
}

fn object_key(k: Node, src: &str) -> (String, Span) {
    match k.named_child(0).and_then(|n| n.named_child(0)) {
        Some(s) if s.kind() == "string_lit" => {
            let (_, text, _) = template(s, src, 0);
            (text, s.byte_range())
        }
        _ => (node_text(k, src).trim().to_string(), k.byte_range()),
    }
}

/// The single meaningful child of an `expression` wrapper, when it has only one.
fn unwrap(expr: Node) -> Option<Node> {
    if expr.kind() != "expression" {
        return Some(expr);
    }
    if expr.named_child_count() == 1 {
        expr.named_child(0)
    } else {
        None
    }
}

/// The span an entry's value points at: the whole expression, quotes included.
fn value_span(expr: Node) -> Span {
    expr.byte_range()
}

fn string_node(expr: Node) -> Option<Node> {
    let mut n = expr;
    for _ in 0..4 {
        match n.kind() {
            "string_lit" | "quoted_template" | "heredoc_template" => return Some(n),
            "expression" | "literal_value" | "template_expr" if n.named_child_count() == 1 => {
                n = n.named_child(0)?
            }
            _ => return None,
        }
    }
    None
}

fn value_of(expr: Node, src: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Other(vec![]);
    }
    if let Some(s) = string_node(expr) {
        return template_value(s, src, depth);
    }
    if expr.kind() == "expression" {
        let mut c = expr.walk();
        let kids: Vec<Node> = expr.named_children(&mut c).collect();
        if kids.first().is_some_and(|k| k.kind() == "variable_expr")
            && kids[1..]
                .iter()
                .all(|k| matches!(k.kind(), "get_attr" | "index"))
            && kids[1..]
                .iter()
                .all(|k| k.kind() != "index" || is_literal_index(*k))
        {
            return Value::Ident(compact(node_text(expr, src)));
        }
        if kids.len() == 1 {
            return value_of(kids[0], src, depth + 1);
        }
        return Value::Other(refs(expr, src));
    }
    match expr.kind() {
        "literal_value" => match expr.named_child(0) {
            Some(l) => match l.kind() {
                "numeric_lit" => Value::Number(node_text(l, src).to_string()),
                "bool_lit" => Value::Bool(node_text(l, src) == "true"),
                "null_lit" => Value::Null,
                _ => Value::Other(vec![]),
            },
            None => Value::Other(vec![]),
        },
        "collection_value" => {
            let Some(coll) = expr.named_child(0) else {
                return Value::Other(vec![]);
            };
            let mut c = coll.walk();
            if coll.kind() == "object" {
                Value::Object(
                    coll.named_children(&mut c)
                        .filter(|n| n.kind() == "object_elem")
                        .filter_map(|el| {
                            let (k, v) = (
                                el.child_by_field_name("key")?,
                                el.child_by_field_name("val")?,
                            );
                            Some(Arg {
                                name: Some(object_key(k, src).0),
                                value: value_of(v, src, depth + 1),
                                span: value_span(v),
                            })
                        })
                        .collect(),
                )
            } else {
                Value::Array(
                    coll.named_children(&mut c)
                        .filter(|n| n.kind() == "expression")
                        .map(|e| value_of(e, src, depth + 1))
                        .collect(),
                )
            }
        }
        _ => Value::Other(refs(expr, src)),
    }
}

fn is_literal_index(idx: Node) -> bool {
    let mut n = idx;
    while let Some(ch) = n.named_child(0) {
        if ch.kind() == "numeric_lit" || ch.kind() == "string_lit" {
            return true;
        }
        n = ch;
    }
    false
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every reference chain read inside `n` (`var.x`, `azurerm_resource_group.rg.location`).
fn refs(n: Node, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = n.walk();
    loop {
        let node = cursor.node();
        let mut descend = true;
        if node.kind() == "variable_expr" {
            let mut end = node.end_byte();
            let mut sib = node.next_named_sibling();
            while let Some(s) = sib.filter(|s| s.kind() == "get_attr") {
                end = s.end_byte();
                sib = s.next_named_sibling();
            }
            out.push(compact(src.get(node.start_byte()..end).unwrap_or("")));
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

/// A string-like node's (content span, text for a string literal with `{}` for holes,
/// has no escapes or holes).
fn template(n: Node, src: &str, depth: usize) -> (Span, String, bool) {
    let (span, parts, raw) = template_parts(n, src, depth);
    let text = parts
        .iter()
        .map(|p| match p {
            Part::Lit(s) => s.clone(),
            Part::Hole(_) => "{}".to_string(),
        })
        .collect();
    (span, text, raw)
}

fn template_value(n: Node, src: &str, depth: usize) -> Value {
    let (_, mut parts, _) = template_parts(n, src, depth);
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
        if let Some(Part::Hole(v)) = parts.pop() {
            return v;
        }
    }
    Value::Template(parts)
}

fn template_parts(n: Node, src: &str, depth: usize) -> (Span, Vec<Part>, bool) {
    let r = n.byte_range();
    let raw = node_text(n, src);
    let heredoc = n.kind() == "heredoc_template";
    let (start, end) = if heredoc {
        let start = raw.find('\n').map_or(raw.len(), |k| k + 1);
        let end = raw
            .rfind('\n')
            .filter(|&e| e + 1 >= start)
            .map_or(raw.len(), |e| e + 1);
        (r.start + start, r.start + end.max(start))
    } else if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        (r.start + 1, r.end - 1)
    } else {
        (r.start + raw.starts_with('"') as usize, r.end)
    };
    let mut parts = Vec::new();
    let mut pos = start;
    let mut clean = true;
    let mut c = n.walk();
    for ch in n.named_children(&mut c) {
        if !matches!(ch.kind(), "template_interpolation" | "template_directive")
            || ch.start_byte() < start
        {
            continue;
        }
        lit(
            &mut parts,
            src.get(pos..ch.start_byte()).unwrap_or(""),
            heredoc,
            &mut clean,
        );
        let v = match ch
            .named_children(&mut ch.walk())
            .find(|k| k.kind() == "expression")
        {
            Some(e) if ch.kind() == "template_interpolation" => value_of(e, src, depth + 1),
            _ => Value::Other(refs(ch, src)),
        };
        parts.push(Part::Hole(v));
        clean = false;
        pos = ch.end_byte();
    }
    lit(
        &mut parts,
        src.get(pos..end.max(pos)).unwrap_or(""),
        heredoc,
        &mut clean,
    );
    if heredoc && raw.starts_with("<<-") {
        clean = false;
        dedent(&mut parts);
    }
    (start..end, parts, clean)
}

fn lit(parts: &mut Vec<Part>, raw: &str, heredoc: bool, clean: &mut bool) {
    if raw.is_empty() {
        return;
    }
    let text = if heredoc {
        raw.replace("$${", "${").replace("%%{", "%{")
    } else {
        unescape(raw)
    };
    if text != raw {
        *clean = false;
    }
    parts.push(Part::Lit(text));
}

/// `<<-` heredocs drop the indentation common to all lines.
fn dedent(parts: &mut [Part]) {
    let min = parts
        .iter()
        .filter_map(|p| if let Part::Lit(s) = p { Some(s) } else { None })
        .flat_map(|s| s.split('\n'))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    for p in parts.iter_mut() {
        if let Part::Lit(s) = p {
            *s = s
                .split('\n')
                .map(|l| {
                    l.get(min.min(l.len() - l.trim_start().len())..)
                        .unwrap_or(l)
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') && !s.contains("$${") && !s.contains("%%{") {
        return s.to_string();
    }
    let s = s.replace("$${", "${").replace("%%{", "%{");
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(u @ ('u' | 'U')) => {
                let h: String = chars.by_ref().take(if u == 'u' { 4 } else { 8 }).collect();
                out.push(
                    u32::from_str_radix(&h, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}'),
                );
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// A string literal for every string, template and heredoc in the file.
fn strings(root: Node, src: &str, f: &mut Facts) {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if matches!(
            node.kind(),
            "string_lit" | "quoted_template" | "heredoc_template"
        ) {
            let (span, text, raw) = template(node, src, MAX_DEPTH);
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

    const MAIN_TF: &str = r#"# Azure OpenAI for the intake service
variable "location" {
  type    = string
  default = "eastus"
}

locals {
  account_name = "oai-intake-${var.location}"
  tags         = { owner = "platform" }
}

resource "azurerm_cognitive_account" "openai" {
  name                          = local.account_name
  location                      = var.location
  resource_group_name           = azurerm_resource_group.rg.name
  kind                          = "OpenAI"
  sku_name                      = "S0"
  public_network_access_enabled = true // TODO lock down
  local_auth_enabled            = false
  custom_subdomain_name         = lower(local.account_name)

  network_acls {
    default_action = "Deny"
    ip_rules       = ["10.0.0.0/24"]
  }

  dynamic "virtual_network_rules" {
    for_each = var.subnet_ids
    content {
      subnet_id = virtual_network_rules.value
    }
  }

  tags = merge(local.tags, { "data-class" = "phi" })
}

resource "azurerm_cognitive_deployment" "gpt4o" {
  name                 = "gpt-4o"
  cognitive_account_id = azurerm_cognitive_account.openai.id
  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }
  sku {
    name     = "GlobalStandard"
    capacity = 10
  }
}

data "azurerm_cognitive_account" "shared" {
  name                = "shared-oai"
  resource_group_name = "shared"
}

provider "azurerm" {
  features {}
}

/* outputs */
output "endpoint" {
  value = azurerm_cognitive_account.openai.endpoint
}
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
    fn terraform_blocks_and_entries() {
        let t = MAIN_TF;
        let f = crate::lang::config::facts(t, Lang::Hcl);
        assert!(!f.parse_errors);
        assert_eq!(f.blocks.len(), 3);
        let b = &f.blocks[0];
        assert_eq!(
            (b.kind.as_str(), b.name.as_str(), b.existing),
            ("azurerm_cognitive_account", "openai", false)
        );
        assert_eq!(
            &t[b.span.clone()],
            "resource \"azurerm_cognitive_account\" \"openai\""
        );
        assert_eq!(f.blocks[1].kind, "azurerm_cognitive_deployment");
        assert!(f.blocks[2].existing);
        assert_eq!(f.blocks[2].kind, "azurerm_cognitive_account");

        let e = in_block(&f, "kind", 0);
        assert_eq!(e.value, s("OpenAI"));
        assert_eq!(&t[e.value_span.clone()], "\"OpenAI\"");
        assert_eq!(&t[e.key_span.clone()], "kind");
        let e = in_block(&f, "public_network_access_enabled", 0);
        assert_eq!(e.value, Value::Bool(true));
        assert_eq!(&t[e.value_span.clone()], "true");
        assert_eq!(
            in_block(&f, "location", 0).value,
            Value::Ident("var.location".into())
        );
        assert_eq!(
            in_block(&f, "name", 0).value,
            Value::Ident("local.account_name".into())
        );
        assert_eq!(
            in_block(&f, "resource_group_name", 0).value,
            Value::Ident("azurerm_resource_group.rg.name".into())
        );
        assert_eq!(
            in_block(&f, "custom_subdomain_name", 0).value,
            Value::Other(vec!["local.account_name".into()])
        );
        assert_eq!(
            in_block(&f, "network_acls.default_action", 0).value,
            s("Deny")
        );
        assert_eq!(
            in_block(&f, "network_acls.ip_rules", 0).value,
            s("10.0.0.0/24")
        );
        assert_eq!(
            in_block(&f, "virtual_network_rules.subnet_id", 0).value,
            Value::Ident("virtual_network_rules.value".into())
        );
        assert_eq!(in_block(&f, "sku.name", 1).value, s("GlobalStandard"));
        assert_eq!(
            in_block(&f, "sku.capacity", 1).value,
            Value::Number("10".into())
        );
        assert_eq!(in_block(&f, "model.name", 1).value, s("gpt-4o"));
        assert_eq!(
            in_block(&f, "cognitive_account_id", 1).value,
            Value::Ident("azurerm_cognitive_account.openai.id".into())
        );
        assert_eq!(in_block(&f, "name", 2).value, s("shared-oai"));
        check(&f, t, "variable.location.default", s("eastus"), "eastus");
        check(&f, t, "locals.tags.owner", s("platform"), "platform");
        check(
            &f,
            t,
            "output.endpoint.value",
            Value::Ident("azurerm_cognitive_account.openai.endpoint".into()),
            "azurerm_cognitive_account.openai.endpoint",
        );
    }

    #[test]
    fn terraform_assigns_strings_comments() {
        let t = MAIN_TF;
        let f = crate::lang::config::facts(t, Lang::Hcl);
        let loc = f
            .assigns
            .iter()
            .find(|a| a.target == "var.location")
            .unwrap();
        assert_eq!(loc.value, s("eastus"));
        assert_eq!(&t[loc.span.clone()], "\"eastus\"");
        let name = f
            .assigns
            .iter()
            .find(|a| a.target == "local.account_name")
            .unwrap();
        assert_eq!(
            name.value,
            Value::Template(vec![
                Part::Lit("oai-intake-".into()),
                Part::Hole(Value::Ident("var.location".into()))
            ])
        );
        assert!(matches!(
            f.assigns
                .iter()
                .find(|a| a.target == "local.tags")
                .unwrap()
                .value,
            Value::Object(_)
        ));
        assert_eq!(f.assigns.len(), 3);
        let c: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            c,
            [
                "# Azure OpenAI for the intake service",
                "// TODO lock down",
                "/* outputs */"
            ]
        );
        let tpl = f
            .strings
            .iter()
            .find(|s| s.value == "oai-intake-{}")
            .unwrap();
        assert!(!tpl.raw_is_value);
        let lit = f
            .strings
            .iter()
            .find(|s| s.value == "azurerm_cognitive_account")
            .unwrap();
        assert!(lit.raw_is_value);
        assert_eq!(
            &t[lit.content_start..lit.content_start + lit.value.len()],
            lit.value
        );
        assert!(f.strings.iter().any(|s| s.value == "data-class"));
    }

    #[test]
    fn tfvars_and_string_forms() {
        let t = "location = \"westeurope\"\nprompt = <<-EOT\n    Summarise ${var.kind}\n    notes\n  EOT\nesc = \"a\\\"b $${lit}\"\nlist = [var.a, \"x\"]\n";
        let f = crate::lang::config::facts(t, Lang::Hcl);
        let a = f
            .assigns
            .iter()
            .find(|a| a.target == "var.location")
            .unwrap();
        assert_eq!(a.value, s("westeurope"));
        check(&f, t, "location", s("westeurope"), "westeurope");
        assert_eq!(
            entry(&f, "prompt").value,
            Value::Template(vec![
                Part::Lit("Summarise ".into()),
                Part::Hole(Value::Ident("var.kind".into())),
                Part::Lit("\nnotes\n".into())
            ])
        );
        assert_eq!(entry(&f, "esc").value, s("a\"b ${lit}"));
        assert_eq!(entries(&f, "list").len(), 2);
        assert_eq!(
            f.assigns
                .iter()
                .find(|a| a.target == "var.list")
                .unwrap()
                .value,
            Value::Array(vec![Value::Ident("var.a".into()), s("x")])
        );
    }

    #[test]
    fn broken_hcl() {
        let f = crate::lang::config::facts("resource \"a\" \"b\" {\n  x = \n", Lang::Hcl);
        assert!(f.parse_errors);
        let deep = format!("x = {}1{}\n", "[".repeat(3000), "]".repeat(3000));
        let _ = crate::lang::config::facts(&deep, Lang::Hcl);
        for t in [
            "",
            "{",
            "\"",
            "a = <<EOT",
            "resource {}",
            "x = \"${\"",
            "a = \"\\u12\"",
        ] {
            let _ = crate::lang::config::facts(t, Lang::Hcl);
        }
    }
}
