//! YAML (tree-sitter-yaml): Kubernetes manifests, docker-compose files, GitHub Actions and
//! Azure Pipelines workflows, Spring `application.yml`, `newrelic.yml`, LiteLLM configs.
//! Every document is lowered to a [`Tree`] whose scalars become dotted-key entries; the
//! environment conventions (`env:` lists and maps, compose `environment:`, ConfigMap
//! `data:`) add flat entries. Anchors, aliases and merge keys are not expanded.
//!
//! The grammar's external scanner aborts the process when its indentation stack outgrows
//! its serialisation buffer (about 250 open levels) and miscounts past 32k lines, so such
//! files never reach it: they get a line scan of `key: value` pairs and a note instead.

use tree_sitter::Node;

use super::{
    collect_comments, emit_env_convention, emit_tree, join, note_depth, push_comment, push_str,
    str_value,
};
use super::{Pair, Scalar, Tree, MAX_DEPTH};
use crate::facts::{ConfigEntry, Facts, Value};
use crate::lang::treesitter::{parse, text as node_text};

/// Open indentation levels beyond which the grammar is not trusted (it aborts near 250).
const MAX_INDENT_LEVELS: usize = 100;
const MAX_FLOW_DEPTH: usize = 1000;
const MAX_LINES: usize = 30_000;
const MAX_INDENT_WIDTH: usize = 4_000;

pub(crate) fn extract(text: &str, f: &mut Facts) {
    if let Some(reason) = too_risky(text) {
        f.notes.push(format!(
            "YAML {reason}; read with a line scan instead of the parser"
        ));
        line_scan(text, f);
        return;
    }
    let Some(tree) = parse(&tree_sitter_yaml::LANGUAGE.into(), text) else {
        f.notes
            .push("YAML parse abandoned (time budget); read with a line scan".into());
        f.parse_errors = true;
        line_scan(text, f);
        return;
    };
    let root = tree.root_node();
    f.parse_errors = root.has_error();
    collect_comments(f, root, text);
    let mut c = root.walk();
    for doc in root.named_children(&mut c) {
        if doc.kind() != "document" {
            continue;
        }
        let mut dc = doc.walk();
        let Some(body) = doc
            .named_children(&mut dc)
            .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
        else {
            continue;
        };
        let t = convert(body, text, f, 0);
        // A Kubernetes ConfigMap's or Secret's data also gets flat entries, after the tree's.
        let data: Vec<Tree> = if t.str().is_none()
            && matches!(
                t.get("kind").and_then(Tree::str),
                Some("ConfigMap" | "Secret")
            ) {
            ["data", "stringData"]
                .into_iter()
                .filter_map(|key| t.get(key).cloned())
                .collect()
        } else {
            Vec::new()
        };
        emit_tree(f, t, "", &(0..0), None, 0);
        for d in &data {
            emit_env_convention(f, d, None);
        }
    }
}

/// Why the grammar should not see this text, if it should not.
fn too_risky(text: &str) -> Option<String> {
    let mut stack: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut lines = 0usize;
    for line in text.lines() {
        lines += 1;
        if lines > MAX_LINES {
            return Some(format!("file longer than {MAX_LINES} lines"));
        }
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if indent > MAX_INDENT_WIDTH {
            return Some(format!("indentation wider than {MAX_INDENT_WIDTH} columns"));
        }
        for b in body.bytes() {
            match b {
                b'[' | b'{' => flow += 1,
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        if flow > MAX_FLOW_DEPTH {
            return Some(format!(
                "flow collections nested deeper than {MAX_FLOW_DEPTH}"
            ));
        }
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        while stack.last().is_some_and(|&top| top > indent) {
            stack.pop();
        }
        if stack.last() != Some(&indent) {
            stack.push(indent);
        }
        // Compact nested sequences (`- - - x`) open a level per dash on one line.
        let mut col = indent;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            let r2 = r.trim_start_matches(' ');
            col += 2 + (r.len() - r2.len());
            stack.push(col);
            rest = r2;
        }
        if stack.len() > MAX_INDENT_LEVELS {
            return Some(format!(
                "indentation deeper than {MAX_INDENT_LEVELS} levels"
            ));
        }
    }
    None
}

/// Fallback reading: `key: value` lines with keys nested by indentation.
fn line_scan(text: &str, f: &mut Facts) {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (start, line) in super::lines(text) {
        let body = line.trim_start();
        let mut indent = line.len() - body.len();
        let mut body = body;
        while let Some(r) = body.strip_prefix("- ") {
            let r2 = r.trim_start();
            indent += 2 + (r.len() - r2.len());
            body = r2;
        }
        if body.is_empty() {
            continue;
        }
        let bstart = start + indent;
        if body.starts_with('#') {
            push_comment(f, body.trim_end(), bstart..bstart + body.trim_end().len());
            continue;
        }
        let Some(colon) = body
            .find(": ")
            .or_else(|| body.ends_with(':').then(|| body.len() - 1))
        else {
            continue;
        };
        let key = body[..colon].trim().trim_matches(['"', '\'']);
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let mut rest = &body[colon + 1..];
        let vrel = colon + 1 + (rest.len() - rest.trim_start().len());
        rest = rest.trim_start();
        if let Some(h) = rest.find(" #") {
            let c = rest[h + 1..].trim_end();
            push_comment(f, c, bstart + vrel + h + 1..bstart + vrel + h + 1 + c.len());
            rest = &rest[..h];
        }
        let mut value = rest.trim_end();
        let mut vstart = bstart + vrel;
        if value.is_empty() {
            stack.push((indent, key.to_string()));
            continue;
        }
        if value.len() >= 2
            && (value.starts_with('"') && value.ends_with('"')
                || value.starts_with('\'') && value.ends_with('\''))
        {
            value = &value[1..value.len() - 1];
            vstart += 1;
        }
        let prefix = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .collect::<Vec<_>>()
            .join(".");
        push_str(f, value, vstart..vstart + value.len(), vstart, true);
        f.config.push(ConfigEntry {
            key: join(&prefix, key),
            value: str_value(value, false),
            key_span: bstart..bstart + colon,
            value_span: vstart..vstart + value.len(),
            block: None,
        });
    }
}

/// The node that carries a `block_node` / `flow_node`'s content (skipping anchors and tags)
/// and the tag, if any.
fn content(node: Node) -> (Option<Node>, Option<Node>) {
    if !matches!(node.kind(), "block_node" | "flow_node") {
        return (Some(node), None);
    }
    let mut c = node.walk();
    let mut tag = None;
    for ch in node.named_children(&mut c) {
        match ch.kind() {
            "tag" => tag = Some(ch),
            "anchor" | "comment" => {}
            _ => return (Some(ch), tag),
        }
    }
    (None, tag)
}

fn convert(node: Node, src: &str, f: &mut Facts, depth: usize) -> Tree {
    if depth > MAX_DEPTH {
        note_depth(f);
        return Tree::Other;
    }
    let (Some(n), tag) = content(node) else {
        return Tree::Other;
    };
    match n.kind() {
        "block_mapping" | "flow_mapping" => {
            let mut pairs = Vec::new();
            let mut c = n.walk();
            for p in n.named_children(&mut c) {
                if !matches!(p.kind(), "block_mapping_pair" | "flow_pair") {
                    continue;
                }
                let Some(k) = p.child_by_field_name("key") else {
                    continue;
                };
                let (key, key_span) = key_text(k, src);
                let value = match p.child_by_field_name("value") {
                    Some(v) => convert(v, src, f, depth + 1),
                    None => Tree::Other,
                };
                pairs.push(Pair {
                    key,
                    key_span,
                    value,
                    span: p.byte_range(),
                });
            }
            Tree::Map(pairs)
        }
        "block_sequence" | "flow_sequence" => {
            let mut items = Vec::new();
            let mut c = n.walk();
            for it in n.named_children(&mut c) {
                let inner = if it.kind() == "block_sequence_item" {
                    let mut ic = it.walk();
                    let found = it.named_children(&mut ic).find(|x| x.kind() != "comment");
                    match found {
                        Some(x) => x,
                        None => continue,
                    }
                } else if it.kind() == "comment" {
                    continue;
                } else {
                    it
                };
                if inner.kind() == "flow_pair" {
                    // `[a: b]` is a sequence holding a one-pair map.
                    let wrapped = convert_pair_as_map(inner, src, f, depth + 1);
                    items.push(wrapped);
                } else {
                    items.push(convert(inner, src, f, depth + 1));
                }
            }
            Tree::Seq(items)
        }
        "plain_scalar" | "double_quote_scalar" | "single_quote_scalar" | "block_scalar" => {
            let s = scalar(n, src, tag.map(|t| node_text(t, src)));
            if matches!(
                s.value,
                Value::Str(_) | Value::Env { .. } | Value::Template(_)
            ) {
                let q = matches!(n.kind(), "double_quote_scalar" | "single_quote_scalar");
                push_str(
                    f,
                    s.text(),
                    n.byte_range(),
                    s.content_start,
                    s.raw_is_value && (q || n.kind() == "plain_scalar"),
                );
            }
            Tree::Scalar(s)
        }
        _ => Tree::Other,
    }
}

fn convert_pair_as_map(p: Node, src: &str, f: &mut Facts, depth: usize) -> Tree {
    let Some(k) = p.child_by_field_name("key") else {
        return Tree::Other;
    };
    let (key, key_span) = key_text(k, src);
    let value = match p.child_by_field_name("value") {
        Some(v) => convert(v, src, f, depth + 1),
        None => Tree::Other,
    };
    Tree::Map(vec![Pair {
        key,
        key_span,
        value,
        span: p.byte_range(),
    }])
}

fn key_text(k: Node, src: &str) -> (String, std::ops::Range<usize>) {
    match content(k) {
        (Some(n), _)
            if matches!(
                n.kind(),
                "plain_scalar" | "double_quote_scalar" | "single_quote_scalar"
            ) =>
        {
            let s = scalar(n, src, None);
            (s.text().to_string(), s.span)
        }
        _ => (node_text(k, src).trim().to_string(), k.byte_range()),
    }
}

fn scalar(n: Node, src: &str, tag: Option<&str>) -> Scalar {
    let raw = node_text(n, src);
    let r = n.byte_range();
    match n.kind() {
        "double_quote_scalar" | "single_quote_scalar" if raw.len() >= 2 => {
            let inner = &raw[1..raw.len() - 1];
            let text = if n.kind() == "double_quote_scalar" {
                unescape_double(inner)
            } else {
                fold(&inner.replace("''", "'"))
            };
            let raw_is_value = text == inner;
            Scalar::new(
                typed_str(&text, tag),
                r.clone(),
                r.start + 1,
                text,
                raw_is_value,
            )
        }
        "block_scalar" => {
            let text = block_scalar(raw);
            let body = raw.find('\n').map_or(raw.len(), |k| k + 1);
            Scalar::new(
                typed_str(&text, tag),
                r.clone(),
                r.start + body,
                text,
                false,
            )
        }
        _ => {
            let mut c = n.walk();
            let kind = n
                .named_children(&mut c)
                .next()
                .map(|x| x.kind())
                .unwrap_or("string_scalar");
            let text = if raw.contains('\n') {
                fold(raw)
            } else {
                raw.to_string()
            };
            let raw_is_value = text == raw;
            let value = match (kind, tag) {
                (_, Some(t))
                    if t != "!!bool" && t != "!!int" && t != "!!float" && t != "!!null" =>
                {
                    typed_str(&text, tag)
                }
                ("boolean_scalar", _) => Value::Bool(text.eq_ignore_ascii_case("true")),
                ("integer_scalar" | "float_scalar", _) => Value::Number(text.clone()),
                ("null_scalar", _) => Value::Null,
                _ => typed_str(&text, tag),
            };
            let start = r.start;
            Scalar::new(value, r, start, text, raw_is_value)
        }
    }
}

/// A string scalar's value: CloudFormation `!Ref X` is a reference, everything else a
/// string with substitutions recognised.
fn typed_str(text: &str, tag: Option<&str>) -> Value {
    match tag {
        Some("!Ref") => Value::Ident(text.to_string()),
        Some("!!str") => Value::Str(text.to_string()),
        _ => str_value(text, false),
    }
}

/// Line folding of flow scalars: a line break and the indentation around it become one
/// space; empty lines become newlines.
fn fold(s: &str) -> String {
    if !s.contains('\n') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut pending_empty = 0;
    for (i, line) in s.split('\n').enumerate() {
        let t = line.trim();
        if i > 0 && t.is_empty() {
            pending_empty += 1;
            continue;
        }
        if i > 0 {
            if pending_empty > 0 {
                out.push_str(&"\n".repeat(pending_empty));
            } else {
                out.push(' ');
            }
            pending_empty = 0;
        }
        out.push_str(if i == 0 { line.trim_end() } else { t });
    }
    out
}

fn unescape_double(s: &str) -> String {
    let folded = fold(s);
    if !folded.contains('\\') {
        return folded;
    }
    let mut out = String::new();
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else { break };
        let hex = |n: usize, chars: &mut std::iter::Peekable<std::str::Chars>| {
            let h: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&h, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}')
        };
        match e {
            'n' => out.push('\n'),
            't' | '\t' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'x' => out.push(hex(2, &mut chars)),
            'u' => out.push(hex(4, &mut chars)),
            'U' => out.push(hex(8, &mut chars)),
            ' ' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

/// The text of a `|` or `>` block scalar (clip chomping; `>` folds lines with spaces).
fn block_scalar(raw: &str) -> String {
    let Some(nl) = raw.find('\n') else {
        return String::new();
    };
    let header = &raw[..nl];
    let folded = header.trim_start().starts_with('>');
    let lines: Vec<&str> = raw[nl + 1..]
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .next()
        .unwrap_or(0);
    let body: Vec<&str> = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect();
    let mut out = if folded {
        let mut s = String::new();
        for (i, l) in body.iter().enumerate() {
            if i > 0 {
                s.push(if l.is_empty() || body[i - 1].is_empty() {
                    '\n'
                } else {
                    ' '
                });
            }
            s.push_str(l);
        }
        s
    } else {
        body.join("\n")
    };
    let keep = header.contains('+');
    let strip = header.contains('-');
    if !keep {
        let trimmed = out.trim_end_matches('\n').len();
        out.truncate(trimmed);
        if !strip {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Value};

    fn yaml(t: &str) -> crate::facts::Facts {
        crate::lang::config::facts(t, Lang::Yaml)
    }

    #[test]
    fn kubernetes_deployment_env() {
        let t = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: intake-api   # patient intake
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/intake:1.4
          env:
            - name: OPENAI_BASE_URL
              value: "https://api.openai.com/v1"
            - name: AZURE_OPENAI_API_KEY
              valueFrom:
                secretKeyRef: {name: openai, key: api-key}
            - {name: LOG_PROMPTS, value: "true"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: llm-config
data:
  LLM_PROVIDER: openai
"#;
        let f = yaml(t);
        assert!(!f.parse_errors);
        check(
            &f,
            t,
            "OPENAI_BASE_URL",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        check(&f, t, "LOG_PROMPTS", s("true"), "true");
        assert_eq!(
            &t[entry(&f, "OPENAI_BASE_URL").key_span.clone()],
            "OPENAI_BASE_URL"
        );
        assert!(entries(&f, "AZURE_OPENAI_API_KEY").is_empty());
        check(
            &f,
            t,
            "spec.template.spec.containers.env.value",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        check(
            &f,
            t,
            "spec.template.spec.containers.env.valueFrom.secretKeyRef.key",
            s("api-key"),
            "api-key",
        );
        check(&f, t, "metadata.name", s("intake-api"), "intake-api");
        check(&f, t, "LLM_PROVIDER", s("openai"), "openai");
        assert_eq!(entries(&f, "data.LLM_PROVIDER").len(), 1);
        assert_eq!(f.comments[0].text, "# patient intake");
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
        assert_eq!(&t[lit.span.clone()], "\"https://api.openai.com/v1\"");
    }

    #[test]
    fn compose_list_and_map_environment() {
        let t = r#"services:
  api:
    image: intake-api
    environment:
      - OPENAI_BASE_URL=https://api.openai.com/v1
      - "OPENAI_API_KEY=${OPENAI_API_KEY}"
      - PASSTHROUGH
  worker:
    environment:
      AZURE_OPENAI_ENDPOINT: https://contoso.openai.azure.com/
      MODEL: ${MODEL:-gpt-4o}
      DEBUG:
"#;
        let f = yaml(t);
        check(
            &f,
            t,
            "OPENAI_BASE_URL",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        assert_eq!(
            &t[entry(&f, "OPENAI_BASE_URL").key_span.clone()],
            "OPENAI_BASE_URL"
        );
        check(
            &f,
            t,
            "OPENAI_API_KEY",
            env("OPENAI_API_KEY"),
            "${OPENAI_API_KEY}",
        );
        check(
            &f,
            t,
            "AZURE_OPENAI_ENDPOINT",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "MODEL",
            Value::Env {
                name: "MODEL".into(),
                fallback: Some(Box::new(s("gpt-4o"))),
            },
            "${MODEL:-gpt-4o}",
        );
        assert!(entries(&f, "PASSTHROUGH").is_empty());
        assert!(entries(&f, "DEBUG").is_empty());
        assert_eq!(entries(&f, "services.api.environment").len(), 3);
        check(
            &f,
            t,
            "services.worker.environment.MODEL",
            entry(&f, "MODEL").value.clone(),
            "${MODEL:-gpt-4o}",
        );
    }

    #[test]
    fn spring_application_yml() {
        let t = "spring:\n  ai:\n    openai:\n      base-url: https://api.openai.com\n      api-key: ${OPENAI_API_KEY}\n      chat:\n        options:\n          model: gpt-4o\n          temperature: 0.2\n    azure:\n      openai:\n        endpoint: 'https://contoso.openai.azure.com/'\nlogging:\n  level:\n    org.springframework.ai.chat.client.advisor: DEBUG\n";
        let f = yaml(t);
        check(
            &f,
            t,
            "spring.ai.openai.base-url",
            s("https://api.openai.com"),
            "https://api.openai.com",
        );
        check(
            &f,
            t,
            "spring.ai.openai.api-key",
            env("OPENAI_API_KEY"),
            "${OPENAI_API_KEY}",
        );
        check(
            &f,
            t,
            "spring.ai.openai.chat.options.temperature",
            Value::Number("0.2".into()),
            "0.2",
        );
        check(
            &f,
            t,
            "spring.ai.azure.openai.endpoint",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "logging.level.org.springframework.ai.chat.client.advisor",
            s("DEBUG"),
            "DEBUG",
        );
    }

    #[test]
    fn newrelic_yml() {
        let t = "common: &default_settings\n  license_key: '<%= ENV[\"NEW_RELIC_LICENSE_KEY\"] %>'\n  app_name: Intake\n  ai_monitoring:\n    enabled: true\n    record_content:\n      enabled: false # PHI must not be recorded\n  distributed_tracing:\n    enabled: true\nproduction:\n  <<: *default_settings\n";
        let f = yaml(t);
        check(
            &f,
            t,
            "common.ai_monitoring.enabled",
            Value::Bool(true),
            "true",
        );
        check(
            &f,
            t,
            "common.ai_monitoring.record_content.enabled",
            Value::Bool(false),
            "false",
        );
        assert_eq!(f.comments.len(), 1);
        assert!(!f.parse_errors);
    }

    #[test]
    fn github_actions_and_azure_pipelines() {
        let t = "on: [push]\nenv:\n  OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n        env:\n          OPENAI_BASE_URL: https://api.openai.com/v1\nvariables:\n  - name: azureOpenAiEndpoint\n    value: https://contoso.openai.azure.com/\n  - group: llm-secrets\n";
        let f = yaml(t);
        check(
            &f,
            t,
            "OPENAI_API_KEY",
            env("secrets.OPENAI_API_KEY"),
            "${{ secrets.OPENAI_API_KEY }}",
        );
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
            "azureOpenAiEndpoint",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(&f, t, "jobs.test.steps.run", s("pytest"), "pytest");
        check(&f, t, "on", s("push"), "push");
    }

    #[test]
    fn scalars_and_block_text() {
        let t = "a: \"line\\nbreak\"\nb: 'it''s'\nc: |\n  system prompt\n  second line\nd: >-\n  folded\n  text\ne: ~\nf: !Ref OpenAIEndpoint\ng: [x, {h: 1}]\nlitellm:\n  api_key: os.environ/AZURE_API_KEY\n";
        let f = yaml(t);
        assert_eq!(entry(&f, "a").value, s("line\nbreak"));
        check(&f, t, "b", s("it's"), "it''s");
        assert_eq!(entry(&f, "c").value, s("system prompt\nsecond line\n"));
        assert_eq!(entry(&f, "d").value, s("folded text"));
        assert_eq!(entry(&f, "e").value, Value::Null);
        assert_eq!(entry(&f, "f").value, Value::Ident("OpenAIEndpoint".into()));
        check(&f, t, "g", s("x"), "x");
        check(&f, t, "g.h", Value::Number("1".into()), "1");
        check(
            &f,
            t,
            "litellm.api_key",
            env("AZURE_API_KEY"),
            "os.environ/AZURE_API_KEY",
        );
        assert!(
            !f.strings
                .iter()
                .find(|s| s.value == "line\nbreak")
                .unwrap()
                .raw_is_value
        );
    }

    #[test]
    fn broken_yaml_sets_parse_errors() {
        let t = "a: [1, 2\nb: : :\n  - c: d\n";
        let f = yaml(t);
        assert!(f.parse_errors);
    }

    #[test]
    fn deep_indentation_falls_back_to_line_scan() {
        let mut t = String::new();
        for i in 0..400 {
            t.push_str(&" ".repeat(i));
            t.push_str(&format!("k{i}:\n"));
        }
        t.push_str(&" ".repeat(400));
        t.push_str("url: https://api.openai.com # deep\n");
        let f = yaml(&t);
        assert!(f.notes.iter().any(|n| n.contains("line scan")));
        let e = f
            .config
            .iter()
            .find(|e| e.key.ends_with(".k399.url"))
            .unwrap();
        assert_eq!(&t[e.value_span.clone()], "https://api.openai.com");
        assert!(e.key.starts_with("k0.k1.k2."));
        assert_eq!(f.comments.len(), 1);

        let compact = "- ".repeat(300) + "x\n";
        let f = yaml(&compact);
        assert!(!f.notes.is_empty());
        let flow = format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        let f = yaml(&flow);
        assert!(!f.notes.is_empty());
    }

    #[test]
    fn moderately_deep_yaml_is_parsed() {
        let mut t = String::new();
        for i in 0..60 {
            t.push_str(&"  ".repeat(i));
            t.push_str(&format!("k{i}:\n"));
        }
        t.push_str(&"  ".repeat(60));
        t.push_str("leaf: 1\n");
        let f = yaml(&t);
        assert!(f.notes.is_empty());
        assert!(f.config.iter().any(|e| e.key.ends_with("k59.leaf")));
    }

    #[test]
    fn garbage_does_not_panic() {
        for t in [
            "",
            ":",
            "- - -",
            "{",
            "'",
            "\"\\",
            "a: |",
            "? x\n: y",
            "&a *a",
            "\u{feff}a: b",
            "a: \"\\u12\"",
        ] {
            let _ = yaml(t);
        }
    }
}
