//! Config and infrastructure frontends: .env, YAML, JSON/JSONC, TOML, INI/properties,
//! Dockerfile, HCL/Terraform and Bicep, behind one entry point, [`facts`].
//!
//! Every format ends up as [`ConfigEntry`]s (a dotted key path and a value with exact byte
//! spans), [`StrLit`]s for string values, [`Comment`]s, and for IaC formats [`Block`]s and
//! [`Assign`]s. The structured formats (YAML, JSON, TOML) are first lowered to a small
//! format-neutral [`Tree`], so key joining and the environment-variable conventions
//! (Kubernetes `env`, compose `environment`, CI `env`/`variables`) are written once here.
//! This module does not match rules and never evaluates expressions; it only records what
//! is written.

use crate::facts::{ConfigEntry, Facts, Lang, Part, Span, StrLit, Value};

mod bicep;
mod dockerfile;
mod env;
mod hcl;
mod ini;
mod json;
mod json_fast;
mod toml;
mod yaml;

/// How deep the structural walkers descend before giving up on a subtree. Config files
/// nest a handful of levels; anything near this is generated or hostile.
pub(crate) const MAX_DEPTH: usize = 400;

/// Facts for one config or infrastructure file. Code languages get an empty [`Facts`].
pub fn facts(text: &str, lang: Lang) -> Facts {
    let mut f = Facts::new();
    match lang {
        Lang::Env => env::extract(text, &mut f),
        Lang::Yaml => yaml::extract(text, &mut f),
        Lang::Json => json::extract(text, &mut f),
        Lang::Toml => toml::extract(text, &mut f),
        Lang::Ini => ini::extract(text, &mut f),
        Lang::Dockerfile => dockerfile::extract(text, &mut f),
        Lang::Hcl => hcl::extract(text, &mut f),
        Lang::Bicep => bicep::extract(text, &mut f),
        _ => {}
    }
    f
}

/// A format-neutral view of a structured document (YAML, JSON, TOML).
#[derive(Clone, Debug)]
pub(crate) enum Tree {
    Map(Vec<Pair>),
    Seq(Vec<Tree>),
    Scalar(Scalar),
    /// Something with no scalar value (an alias, an error node, an empty value).
    Other,
}

#[derive(Clone, Debug)]
pub(crate) struct Pair {
    /// One key, or several already joined with `.` (TOML dotted keys and table headers).
    pub key: String,
    pub key_span: Span,
    pub value: Tree,
    /// The whole `key: value` pair.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) struct Scalar {
    /// Replaced with [`Scalar::set_value`], which keeps the text.
    pub value: Value,
    /// The value token, quotes included (like an argument's span in code).
    pub span: Span,
    /// Where the value's text starts (after an opening quote).
    pub content_start: usize,
    /// The text ([`Scalar::text`]) when it is not the value's own string: a large document
    /// holds each string once.
    text: Option<String>,
    /// The text maps byte for byte onto the file from `span.start`.
    pub raw_is_value: bool,
}

impl Scalar {
    /// `text` is the decoded text (for strings) or the literal text (numbers, booleans).
    pub fn new(
        value: Value,
        span: Span,
        content_start: usize,
        text: String,
        raw_is_value: bool,
    ) -> Scalar {
        let text = match &value {
            Value::Str(s) | Value::Number(s) if *s == text => None,
            _ => Some(text),
        };
        Scalar {
            value,
            span,
            content_start,
            text,
            raw_is_value,
        }
    }

    /// Replaces the value, keeping the text.
    pub fn set_value(&mut self, value: Value) {
        let old = std::mem::replace(&mut self.value, value);
        if self.text.is_none() {
            if let Value::Str(t) | Value::Number(t) = old {
                self.text = Some(t);
            }
        }
    }

    /// The decoded text (for strings) or the literal text (numbers, booleans).
    pub fn text(&self) -> &str {
        match (&self.text, &self.value) {
            (Some(t), _) => t,
            (None, Value::Str(s) | Value::Number(s)) => s,
            (None, _) => "",
        }
    }
}

impl Tree {
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(pairs) => pairs.iter().find(|p| p.key == key).map(|p| &p.value),
            _ => None,
        }
    }

    pub fn pair(&self, key: &str) -> Option<&Pair> {
        match self {
            Tree::Map(pairs) => pairs.iter().find(|p| p.key == key),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match self {
            Tree::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        self.scalar().map(Scalar::text)
    }

    /// The value as a [`Value`] for assignments: scalars as they are, maps as objects.
    pub fn to_value(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Other(vec![]);
        }
        match self {
            Tree::Scalar(s) => s.value.clone(),
            Tree::Map(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|p| crate::facts::Arg {
                        name: Some(p.key.clone()),
                        value: p.value.to_value(depth + 1),
                        span: p.value.span().unwrap_or(p.span.clone()),
                    })
                    .collect(),
            ),
            Tree::Seq(items) => Value::Array(items.iter().map(|t| t.to_value(depth + 1)).collect()),
            Tree::Other => Value::Other(vec![]),
        }
    }

    /// How many scalars the tree holds (the entries [`emit_tree`] makes, before the
    /// environment conventions' flat ones), counted to [`MAX_DEPTH`].
    fn scalars(&self, depth: usize) -> usize {
        if depth > MAX_DEPTH {
            return 0;
        }
        match self {
            Tree::Scalar(_) => 1,
            Tree::Map(pairs) => pairs.iter().map(|p| p.value.scalars(depth + 1)).sum(),
            Tree::Seq(items) => items.iter().map(|t| t.scalars(depth + 1)).sum(),
            Tree::Other => 0,
        }
    }

    /// The span of a scalar, or of the first scalar inside, for pointing at a value.
    pub fn span(&self) -> Option<Span> {
        match self {
            Tree::Scalar(s) => Some(s.span.clone()),
            Tree::Map(pairs) => pairs
                .first()
                .map(|p| p.span.start..pairs.last().map_or(p.span.end, |l| l.span.end)),
            Tree::Seq(items) => items.iter().find_map(|t| t.span()),
            Tree::Other => None,
        }
    }
}

pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else if key.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Keys whose map or list value holds environment variables (or app settings, which
/// platforms expose as environment variables), so each variable also gets a flat entry.
fn is_env_key(last: &str) -> bool {
    let l = last.to_ascii_lowercase();
    matches!(
        l.as_str(),
        "env"
            | "envs"
            | "environment"
            | "environment_variables"
            | "environmentvariables"
            | "envvars"
            | "env_vars"
            | "extraenv"
            | "extraenvvars"
            | "variables"
            | "appsettings"
            | "app_settings"
    )
}

/// Emits a config entry per scalar under `tree`, keys joined onto `prefix`, plus the flat
/// entries of the environment conventions.
///
/// The tree is consumed: each scalar's value moves into its entry, and each map or list is
/// freed once emitted, so a large document (a 3 MB recorded HTTP session has some 65,000
/// scalars) is not held twice, as a tree and as entries.
pub(crate) fn emit_tree(
    f: &mut Facts,
    tree: Tree,
    prefix: &str,
    key_span: &Span,
    block: Option<usize>,
    depth: usize,
) {
    if depth == 0 {
        f.config.reserve(tree.scalars(0));
    }
    if depth > MAX_DEPTH {
        note_depth(f);
        return;
    }
    match tree {
        Tree::Map(pairs) => {
            for p in pairs {
                emit_pair(f, p, prefix, block, depth + 1);
            }
        }
        Tree::Seq(items) => {
            for t in items {
                emit_tree(f, t, prefix, key_span, block, depth + 1);
            }
        }
        Tree::Scalar(s) => f.config.push(ConfigEntry {
            key: prefix.to_string(),
            value: s.value,
            key_span: key_span.clone(),
            value_span: s.span,
            block,
        }),
        Tree::Other => {}
    }
}

/// Emits one `key: value` pair of a map whose own key path is `prefix` (see [`emit_tree`]).
pub(crate) fn emit_pair(f: &mut Facts, p: Pair, prefix: &str, block: Option<usize>, depth: usize) {
    let key = join(prefix, &p.key);
    let last = p.key.rsplit('.').next().unwrap_or("");
    if is_env_key(last) {
        emit_env_convention(f, &p.value, block);
    }
    emit_tree(f, p.value, &key, &p.key_span, block, depth);
}

pub(crate) fn note_depth(f: &mut Facts) {
    let msg = format!("nesting deeper than {MAX_DEPTH} levels; the deepest parts were skipped");
    if !f.notes.contains(&msg) {
        f.notes.push(msg);
    }
}

/// Flat entries for `env:`-like values: a map of names to scalars, a Kubernetes-style list
/// of `{name, value}` objects, or a compose-style list of `NAME=value` strings.
pub(crate) fn emit_env_convention(f: &mut Facts, value: &Tree, block: Option<usize>) {
    match value {
        Tree::Map(pairs) => {
            for p in pairs {
                if let Tree::Scalar(s) = &p.value {
                    flat(
                        f,
                        &p.key,
                        p.key_span.clone(),
                        s.value.clone(),
                        s.span.clone(),
                        block,
                    );
                }
            }
        }
        Tree::Seq(items) => {
            for item in items {
                match item {
                    Tree::Map(_) => {
                        let name = item.get("name").and_then(Tree::scalar);
                        let val = item.get("value").and_then(Tree::scalar);
                        if let (Some(n), Some(v)) = (name, val) {
                            flat(
                                f,
                                n.text(),
                                n.span.clone(),
                                v.value.clone(),
                                v.span.clone(),
                                block,
                            );
                        }
                    }
                    Tree::Scalar(s)
                        if matches!(
                            s.value,
                            Value::Str(_) | Value::Template(_) | Value::Env { .. }
                        ) =>
                    {
                        let text = s.text();
                        let Some(eq) = text.find('=') else { continue };
                        let name = &text[..eq];
                        if name.is_empty() || name.contains(char::is_whitespace) {
                            continue;
                        }
                        let val = &text[eq + 1..];
                        let (key_span, value_span) = if s.raw_is_value {
                            let c = s.content_start;
                            (c..c + eq, c + eq + 1..c + text.len())
                        } else {
                            (s.span.clone(), s.span.clone())
                        };
                        flat(f, name, key_span, str_value(val, false), value_span, block);
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn flat(
    f: &mut Facts,
    key: &str,
    key_span: Span,
    value: Value,
    value_span: Span,
    block: Option<usize>,
) {
    f.config.push(ConfigEntry {
        key: key.to_string(),
        value,
        key_span,
        value_span,
        block,
    });
}

pub(crate) fn push_str(
    f: &mut Facts,
    value: &str,
    span: Span,
    content_start: usize,
    raw_is_value: bool,
) {
    f.strings.push(StrLit {
        value: value.to_string(),
        span,
        content_start,
        raw_is_value,
    });
}

pub(crate) fn push_comment(f: &mut Facts, text: &str, span: Span) {
    f.comments.push(crate::facts::Comment {
        text: text.to_string(),
        span,
    });
}

/// Collects every node of kind `comment` without recursion.
pub(crate) fn collect_comments(f: &mut Facts, root: tree_sitter::Node, src: &str) {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.kind() == "comment" || node.kind() == "diagnostic_comment" {
            push_comment(
                f,
                crate::lang::treesitter::text(node, src),
                node.byte_range(),
            );
        } else if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// A decoded string value, with environment substitutions recognised: a value that is
/// only `${VAR}` becomes [`Value::Env`], one that mixes text and substitutions a
/// [`Value::Template`]. `bare` also accepts shell-style `$VAR` (dotenv, Dockerfile).
pub(crate) fn str_value(text: &str, bare: bool) -> Value {
    substitution(text, bare).unwrap_or_else(|| Value::Str(text.to_string()))
}

fn substitution(text: &str, bare: bool) -> Option<Value> {
    if let Some(name) = text.strip_prefix("os.environ/") {
        if is_var_name(name, true) {
            return Some(Value::Env {
                name: name.to_string(),
                fallback: None,
            });
        }
    }
    if !text.contains('$') {
        return None;
    }
    let mut parts: Vec<Part> = Vec::new();
    let mut lit = String::new();
    let mut holes = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            if let Some((hole, len)) = hole_at(&text[i..], bare) {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Hole(hole));
                holes += 1;
                i += len;
                continue;
            }
            if b.get(i + 1) == Some(&b'$') {
                lit.push('$');
                i += 2;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
        lit.push(ch);
        i += ch.len_utf8().max(1);
    }
    if holes == 0 {
        return None;
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    if parts.len() == 1 {
        if let Some(Part::Hole(v)) = parts.pop() {
            return Some(v);
        }
    }
    Some(Value::Template(parts))
}

fn is_var_name(s: &str, dots: bool) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (dots && (c == '.' || c == '-')))
}

/// A substitution starting at the `$` that opens `s`, with its length in bytes.
fn hole_at(s: &str, bare: bool) -> Option<(Value, usize)> {
    let env = |name: &str, fallback: Option<&str>| Value::Env {
        name: name.to_string(),
        fallback: fallback.map(|fb| Box::new(str_value(fb, false))),
    };
    if let Some(rest) = s.strip_prefix("${{") {
        let end = rest.find("}}")?;
        let expr = rest[..end].trim();
        return Some((env(expr, None), 3 + end + 2));
    }
    if let Some(rest) = s.strip_prefix("${") {
        // Find the matching brace so `${A:-${B}}` stays one substitution.
        let mut depth = 1;
        let mut end = None;
        for (j, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        let inner = &rest[..end];
        let name_end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(inner.len());
        let (name, tail) = inner.split_at(name_end);
        // `-` belongs to the name in Spring keys (`base-url`) but is the shell default
        // operator after a conventional upper-case variable name (`${VAR-default}`).
        let (name, tail) = match name.find('-') {
            Some(k) if is_upper_var(&name[..k]) => (&name[..k], &inner[k..]),
            _ => (name, tail),
        };
        if !is_var_name(name, true) {
            return None;
        }
        let fallback = if tail.is_empty() {
            None
        } else if let Some(fb) = tail
            .strip_prefix(":-")
            .or_else(|| tail.strip_prefix(":="))
            .or_else(|| tail.strip_prefix('-'))
            .or_else(|| tail.strip_prefix('='))
        {
            Some(fb)
        } else if tail.starts_with(":?") || tail.starts_with('?') || tail.starts_with(":+") {
            None
        } else if let Some(fb) = tail.strip_prefix(':') {
            Some(fb)
        } else {
            return None;
        };
        return Some((env(name, fallback), 2 + end + 1));
    }
    if let Some(rest) = s.strip_prefix("$(") {
        let end = rest.find(')')?;
        let name = &rest[..end];
        if is_var_name(name, true) {
            return Some((env(name, None), 2 + end + 1));
        }
        return None;
    }
    if bare {
        let rest = &s[1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 && is_var_name(&rest[..end], false) {
            return Some((env(&rest[..end], None), 1 + end));
        }
    }
    None
}

fn is_upper_var(s: &str) -> bool {
    is_var_name(s, false) && !s.chars().any(|c| c.is_ascii_lowercase())
}

/// Where a line-based format's lines start, as (start, line without its newline).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |l| {
        let s = start;
        start += l.len();
        let l = l.strip_suffix('\n').unwrap_or(l);
        (s, l.strip_suffix('\r').unwrap_or(l))
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::facts::{ConfigEntry, Facts, Value};

    /// The entries with this key.
    pub fn entries<'a>(f: &'a Facts, key: &str) -> Vec<&'a ConfigEntry> {
        f.config.iter().filter(|e| e.key == key).collect()
    }

    /// The single entry with this key; panics with the keys present when absent.
    pub fn entry<'a>(f: &'a Facts, key: &str) -> &'a ConfigEntry {
        let found = entries(f, key);
        assert!(
            !found.is_empty(),
            "no entry {key}; keys: {:?}",
            f.config.iter().map(|e| &e.key).collect::<Vec<_>>()
        );
        found[0]
    }

    /// Asserts the entry's value and that its value span covers `raw` in `text`, give or
    /// take the quotes around a quoted value (value spans include them).
    pub fn check(f: &Facts, text: &str, key: &str, value: Value, raw: &str) {
        let e = entry(f, key);
        assert_eq!(e.value, value, "value of {key}");
        let token = &text[e.value_span.clone()];
        let inner = ["\"", "'"]
            .iter()
            .find_map(|q| token.strip_prefix(q).and_then(|t| t.strip_suffix(q)))
            .filter(|_| token.len() >= 2)
            .unwrap_or(token);
        assert_eq!(inner, raw, "value span of {key}");
    }

    pub fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    pub fn env(name: &str) -> Value {
        Value::Env {
            name: name.to_string(),
            fallback: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions() {
        assert_eq!(
            str_value("${OPENAI_API_KEY}", false),
            Value::Env {
                name: "OPENAI_API_KEY".into(),
                fallback: None
            }
        );
        assert_eq!(
            str_value("${BASE:-https://api.openai.com}", false),
            Value::Env {
                name: "BASE".into(),
                fallback: Some(Box::new(Value::Str("https://api.openai.com".into())))
            }
        );
        assert_eq!(
            str_value("${spring.ai.key:none}", false),
            Value::Env {
                name: "spring.ai.key".into(),
                fallback: Some(Box::new(Value::Str("none".into())))
            }
        );
        assert_eq!(
            str_value("${AZURE_OPENAI_ENDPOINT-x}", false),
            Value::Env {
                name: "AZURE_OPENAI_ENDPOINT".into(),
                fallback: Some(Box::new(Value::Str("x".into())))
            }
        );
        assert_eq!(
            str_value("os.environ/AZURE_API_KEY", false),
            Value::Env {
                name: "AZURE_API_KEY".into(),
                fallback: None
            }
        );
        assert_eq!(
            str_value("${{ secrets.OPENAI_KEY }}", false),
            Value::Env {
                name: "secrets.OPENAI_KEY".into(),
                fallback: None
            }
        );
        assert_eq!(
            str_value("$(openaiKey)", false),
            Value::Env {
                name: "openaiKey".into(),
                fallback: None
            }
        );
        assert_eq!(
            str_value("https://${HOST}/v1", false),
            Value::Template(vec![
                Part::Lit("https://".into()),
                Part::Hole(Value::Env {
                    name: "HOST".into(),
                    fallback: None
                }),
                Part::Lit("/v1".into())
            ])
        );
        assert_eq!(str_value("$HOME/x", false), Value::Str("$HOME/x".into()));
        assert!(matches!(str_value("$HOME/x", true), Value::Template(_)));
        assert_eq!(str_value("price $5", true), Value::Str("price $5".into()));
        assert_eq!(str_value("a$$b", true), Value::Str("a$$b".into()));
    }

    /// Every prefix of a mixed sample, cut at every character boundary, in every format:
    /// no slicing or decoding path may panic on truncated input.
    #[test]
    fn truncated_inputs_never_panic() {
        let sample = "# é ünïcode\n[s]\nK=\"v\\n\" # c\nexport A='b' \\\n  x: \"${Y:-é}\"\n\
resource \"t\" \"n\" {\n  a = \"${var.x}é\"\n  b { c = <<EOT\nz\nEOT\n }\n}\n\
resource r 'T/x@1' existing = { p: { q: '\\u{41}${r}' } }\n\
{\"$schema\": \"deploymentTemplate\", \"resources\": [{\"type\": \"[parameters('a')]\"}]}\n\
- env:\n    - name: N\n      value: |\n        t\nENV A=1 B=\"2\" \\\n  C 3\n";
        let langs = [
            Lang::Env,
            Lang::Yaml,
            Lang::Json,
            Lang::Toml,
            Lang::Ini,
            Lang::Dockerfile,
            Lang::Hcl,
            Lang::Bicep,
        ];
        for (i, _) in sample.char_indices() {
            for lang in langs {
                let _ = facts(&sample[..i], lang);
            }
        }
    }

    #[test]
    fn code_languages_yield_nothing() {
        let f = facts("x = 1", Lang::Python);
        assert!(f.config.is_empty());
    }
}
