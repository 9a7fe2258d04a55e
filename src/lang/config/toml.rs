//! TOML (tree-sitter-toml-ng): `pyproject.toml`, `Cargo.toml`, `fly.toml`, `netlify.toml`,
//! app configs. Tables and dotted keys become key prefixes (`openai` under
//! `[tool.poetry.dependencies]` → `tool.poetry.dependencies.openai`), arrays of tables
//! drop their index, inline tables nest. Strings (all four forms) are decoded with exact content spans;
//! integers and floats are numbers, booleans booleans, dates strings. An `[env]` table
//! also yields flat entries per variable. Not a TOML validator.

use tree_sitter::Node;

use super::{collect_comments, emit_tree, note_depth, push_str, str_value};
use super::{Pair, Scalar, Tree, MAX_DEPTH};
use crate::facts::{Facts, Value};
use crate::lang::treesitter::{parse, text as node_text};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let Some(tree) = parse(&tree_sitter_toml_ng::LANGUAGE.into(), text) else {
        f.notes.push("TOML parse abandoned (time budget)".into());
        f.parse_errors = true;
        return;
    };
    let root = tree.root_node();
    f.parse_errors = root.has_error();
    collect_comments(f, root, text);
    let mut top = Vec::new();
    let mut c = root.walk();
    for n in root.named_children(&mut c) {
        match n.kind() {
            "pair" => {
                if let Some(p) = pair(n, text, f, 0) {
                    top.push(p);
                }
            }
            "table" | "table_array_element" => {
                let mut tc = n.walk();
                let kids: Vec<Node> = n.named_children(&mut tc).collect();
                let Some(k) = kids.iter().find(|k| is_key(k.kind())) else {
                    continue;
                };
                let (key, key_span) = key(*k, text);
                let pairs = kids
                    .iter()
                    .filter(|x| x.kind() == "pair")
                    .filter_map(|p| pair(*p, text, f, 0))
                    .collect();
                top.push(Pair {
                    key,
                    key_span,
                    value: Tree::Map(pairs),
                    span: n.byte_range(),
                });
            }
            _ => {}
        }
    }
    emit_tree(f, Tree::Map(top), "", &(0..0), None, 0);
}

fn is_key(kind: &str) -> bool {
    matches!(kind, "bare_key" | "quoted_key" | "dotted_key")
}

fn pair(n: Node, src: &str, f: &mut Facts, depth: usize) -> Option<Pair> {
    let mut c = n.walk();
    let kids: Vec<Node> = n
        .named_children(&mut c)
        .filter(|k| k.kind() != "comment")
        .collect();
    let k = kids.first().filter(|k| is_key(k.kind()))?;
    let v = kids.get(1)?;
    let (key, key_span) = key(*k, src);
    Some(Pair {
        key,
        key_span,
        value: convert(*v, src, f, depth + 1),
        span: n.byte_range(),
    })
}

/// A key's dotted text and the span of its last segment's text.
fn key(k: Node, src: &str) -> (String, std::ops::Range<usize>) {
    match k.kind() {
        "quoted_key" => {
            let raw = node_text(k, src);
            let r = k.byte_range();
            if raw.len() >= 2 {
                let inner = &raw[1..raw.len() - 1];
                let text = if raw.starts_with('"') {
                    unescape(inner)
                } else {
                    inner.to_string()
                };
                (text, r)
            } else {
                (raw.to_string(), r)
            }
        }
        "dotted_key" => {
            let mut c = k.walk();
            let parts: Vec<(String, std::ops::Range<usize>)> = k
                .named_children(&mut c)
                .filter(|x| is_key(x.kind()))
                .map(|x| key(x, src))
                .collect();
            let span = parts.last().map_or(k.byte_range(), |p| p.1.clone());
            (
                parts.into_iter().map(|p| p.0).collect::<Vec<_>>().join("."),
                span,
            )
        }
        _ => (node_text(k, src).to_string(), k.byte_range()),
    }
}

fn convert(n: Node, src: &str, f: &mut Facts, depth: usize) -> Tree {
    if depth > MAX_DEPTH {
        note_depth(f);
        return Tree::Other;
    }
    match n.kind() {
        "string" => {
            let (text, span, raw) = string(n, src);
            push_str(f, &text, n.byte_range(), span.start, raw);
            let literal = node_text(n, src).starts_with('\'');
            let value = if literal {
                Value::Str(text.clone())
            } else {
                str_value(&text, false)
            };
            Tree::Scalar(Scalar::new(value, n.byte_range(), span.start, text, raw))
        }
        "integer" | "float" | "boolean" | "offset_date_time" | "local_date_time" | "local_date"
        | "local_time" => {
            let text = node_text(n, src).to_string();
            let value = match n.kind() {
                "integer" | "float" => Value::Number(text.clone()),
                "boolean" => Value::Bool(text == "true"),
                _ => Value::Str(text.clone()),
            };
            Tree::Scalar(Scalar::new(
                value,
                n.byte_range(),
                n.start_byte(),
                text,
                true,
            ))
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
        "inline_table" => {
            let mut c = n.walk();
            let kids: Vec<Node> = n
                .named_children(&mut c)
                .filter(|x| x.kind() == "pair")
                .collect();
            Tree::Map(
                kids.into_iter()
                    .filter_map(|p| pair(p, src, f, depth + 1))
                    .collect(),
            )
        }
        _ => Tree::Other,
    }
}

/// A string's decoded text, content span and whether the text is the raw content.
fn string(n: Node, src: &str) -> (String, std::ops::Range<usize>, bool) {
    let raw = node_text(n, src);
    let r = n.byte_range();
    let delim = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    if raw.len() < 2 * delim {
        return (String::new(), r.clone(), true);
    }
    let mut start = delim;
    let end = raw.len() - delim;
    // A newline right after a multi-line opener is not part of the value.
    if delim == 3 {
        if raw[start..end].starts_with("\r\n") {
            start += 2;
        } else if raw[start..end].starts_with('\n') {
            start += 1;
        }
    }
    let inner = &raw[start..end.max(start)];
    let span = r.start + start..r.start + end.max(start);
    if raw.starts_with('\'') || !inner.contains('\\') {
        return (inner.to_string(), span, true);
    }
    (unescape(inner), span, false)
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
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
            Some('e') => out.push('\u{1b}'),
            Some(u @ ('u' | 'U')) => {
                let h: String = chars.by_ref().take(if u == 'u' { 4 } else { 8 }).collect();
                out.push(
                    u32::from_str_radix(&h, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{fffd}'),
                );
            }
            // A line-ending backslash joins lines, dropping the whitespace between.
            Some(w) if w.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
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

    const PYPROJECT: &str = r#"# Patient intake service
[project]
name = "intake"
dependencies = ["openai>=1.40", 'langchain-openai']

[tool.poetry.dependencies]
python = "^3.11"
"azure-identity" = { version = "^1.17", optional = true }

[tool.intake.llm]
base_url = "https://api.openai.com/v1"  # consumer endpoint
api_key = "${OPENAI_API_KEY}"
timeout = 30.5
log_prompts = false
prompt = """
You are a triage assistant.\
   Keep it short."""
raw = 'C:\path'
raw_multi = '''
C:\x'''
llm.model = "gpt-4o"

[[tool.intake.endpoints]]
url = "https://contoso.openai.azure.com/"

[env]
AZURE_OPENAI_ENDPOINT = "https://contoso.openai.azure.com/"
"#;

    #[test]
    fn pyproject_entries() {
        let t = PYPROJECT;
        let f = crate::lang::config::facts(t, Lang::Toml);
        assert!(!f.parse_errors);
        check(&f, t, "project.name", s("intake"), "intake");
        check(
            &f,
            t,
            "project.dependencies",
            s("openai>=1.40"),
            "openai>=1.40",
        );
        assert_eq!(entries(&f, "project.dependencies").len(), 2);
        check(
            &f,
            t,
            "tool.poetry.dependencies.azure-identity.version",
            s("^1.17"),
            "^1.17",
        );
        check(
            &f,
            t,
            "tool.poetry.dependencies.azure-identity.optional",
            Value::Bool(true),
            "true",
        );
        check(
            &f,
            t,
            "tool.intake.llm.base_url",
            s("https://api.openai.com/v1"),
            "https://api.openai.com/v1",
        );
        check(
            &f,
            t,
            "tool.intake.llm.api_key",
            env("OPENAI_API_KEY"),
            "${OPENAI_API_KEY}",
        );
        check(
            &f,
            t,
            "tool.intake.llm.timeout",
            Value::Number("30.5".into()),
            "30.5",
        );
        check(
            &f,
            t,
            "tool.intake.llm.log_prompts",
            Value::Bool(false),
            "false",
        );
        assert_eq!(
            entry(&f, "tool.intake.llm.prompt").value,
            s("You are a triage assistant.Keep it short.")
        );
        check(&f, t, "tool.intake.llm.raw", s("C:\\path"), "C:\\path");
        assert_eq!(entry(&f, "tool.intake.llm.raw_multi").value, s("C:\\x"));
        let lit = f.strings.iter().find(|s| s.value == "C:\\x").unwrap();
        assert!(lit.raw_is_value);
        assert_eq!(&t[lit.content_start..lit.content_start + 4], "C:\\x");
        check(&f, t, "tool.intake.llm.llm.model", s("gpt-4o"), "gpt-4o");
        check(
            &f,
            t,
            "tool.intake.endpoints.url",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "AZURE_OPENAI_ENDPOINT",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        assert_eq!(
            &t[entry(&f, "tool.intake.llm.base_url").key_span.clone()],
            "base_url"
        );
        let c: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(c, ["# Patient intake service", "# consumer endpoint"]);
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
    }

    #[test]
    fn broken_toml() {
        let f = crate::lang::config::facts("[a\nb = = 1\n", Lang::Toml);
        assert!(f.parse_errors);
        let deep = format!("a = {}1{}", "[".repeat(3000), "]".repeat(3000));
        let f = crate::lang::config::facts(&deep, Lang::Toml);
        assert!(!f.notes.is_empty());
        for t in ["", "\"", "a = \"\\u", "a = '''", "[[", "a.b.c"] {
            let _ = crate::lang::config::facts(t, Lang::Toml);
        }
    }
}
