//! `.env` files: `KEY=value`, `export KEY=value`, single, double and backtick quotes
//! (double-quoted values may span lines and hold escapes), inline `# comments` after
//! unquoted values. Each assignment is one flat [`ConfigEntry`]; `${VAR}` / `$VAR`
//! references become [`Value::Env`]. Not a shell: command substitution is kept as text.

use super::{push_comment, push_str, str_value};
use crate::facts::{ConfigEntry, Facts, Value};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let line_end = text[i..].find('\n').map_or(b.len(), |k| i + k);
        let start = i + leading_ws(&text[i..line_end]);
        i = line_end + 1;
        if start >= line_end {
            continue;
        }
        let line = &text[start..line_end];
        if line.starts_with('#') {
            push_comment(
                f,
                line.trim_end_matches('\r'),
                start..start + line.trim_end_matches('\r').len(),
            );
            continue;
        }
        let mut key_start = start;
        if let Some(rest) = line.strip_prefix("export") {
            if rest.starts_with([' ', '\t']) {
                key_start = start + 6 + leading_ws(rest);
            }
        }
        let Some(eq) = text[key_start..line_end].find('=') else {
            continue;
        };
        let key_raw = &text[key_start..key_start + eq];
        let key = key_raw.trim_end();
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        let key_span = key_start..key_start + key.len();
        let after_eq = key_start + eq + 1;
        let vstart = after_eq + leading_ws(&text[after_eq..line_end]);
        let (value, span, comment_from, next) = match b.get(vstart) {
            Some(&q @ (b'"' | b'\'' | b'`')) if vstart < line_end => {
                match quoted(text, vstart, q) {
                    Some((decoded, content_end, raw)) => {
                        let close = content_end + 1;
                        let val = if q == b'"' {
                            str_value(&decoded, true)
                        } else {
                            Value::Str(decoded.clone())
                        };
                        push_str(f, &decoded, vstart..close, vstart + 1, raw);
                        // The rest of the closing quote's line may hold a comment.
                        let end = text[close..].find('\n').map_or(b.len(), |k| close + k);
                        (Some(val), vstart..close, Some((close, end)), end + 1)
                    }
                    None => (None, vstart..line_end, None, line_end + 1),
                }
            }
            _ => {
                let rest = &text[vstart..line_end];
                let cut = inline_comment(rest).unwrap_or(rest.len());
                let val = rest[..cut].trim_end();
                let val = val.trim_end_matches('\r');
                if !val.is_empty() {
                    push_str(f, val, vstart..vstart + val.len(), vstart, true);
                }
                let comment = (cut < rest.len()).then_some((vstart + cut, line_end));
                (
                    Some(str_value(val, true)),
                    vstart..vstart + val.len(),
                    comment,
                    line_end + 1,
                )
            }
        };
        if let Some((from, to)) = comment_from {
            if let Some(h) = text[from..to].find('#') {
                let c = text[from + h..to].trim_end();
                push_comment(f, c, from + h..from + h + c.len());
            }
        }
        if let Some(value) = value {
            f.config.push(ConfigEntry {
                key: key.to_string(),
                value,
                key_span,
                value_span: span,
                block: None,
            });
        }
        i = i.max(next);
    }
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t']).len()
}

/// Where an unquoted value's inline comment starts: a `#` after whitespace.
pub(crate) fn inline_comment(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    (1..b.len()).find(|&k| b[k] == b'#' && (b[k - 1] == b' ' || b[k - 1] == b'\t'))
}

/// Decodes a quoted value opening at `open`: (text, offset of the closing quote, no escapes).
fn quoted(text: &str, open: usize, q: u8) -> Option<(String, usize, bool)> {
    let mut out = String::new();
    let mut raw = true;
    let mut chars = text[open + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        let at = open + 1 + k;
        if c as u32 == q as u32 {
            return Some((out, at, raw));
        }
        if c == '\\' && q == b'"' {
            raw = false;
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, e)) => out.push(e),
                None => return None,
            }
            continue;
        }
        out.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Part, Value};

    const DOTENV: &str = r#"# Azure OpenAI (BAA-covered)
OPENAI_BASE_URL=https://api.openai.com/v1   # consumer endpoint!
export AZURE_OPENAI_ENDPOINT="https://contoso.openai.azure.com/"
OPENAI_API_KEY='sk-proj-abc123'
GREETING="hello \"world\""
MULTI="line one
line two"
DERIVED=${AZURE_OPENAI_ENDPOINT}openai/deployments
FALLBACK=${OPENAI_MODEL:-gpt-4o}
EMPTY=
  INDENTED = spaced
not a line
"#;

    #[test]
    fn dotenv_entries() {
        let t = DOTENV;
        let f = crate::lang::config::facts(t, Lang::Env);
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
            "AZURE_OPENAI_ENDPOINT",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "OPENAI_API_KEY",
            s("sk-proj-abc123"),
            "sk-proj-abc123",
        );
        assert_eq!(entry(&f, "GREETING").value, s("hello \"world\""));
        assert_eq!(entry(&f, "MULTI").value, s("line one\nline two"));
        assert_eq!(
            entry(&f, "DERIVED").value,
            Value::Template(vec![
                Part::Hole(env("AZURE_OPENAI_ENDPOINT")),
                Part::Lit("openai/deployments".into())
            ])
        );
        assert_eq!(
            entry(&f, "FALLBACK").value,
            Value::Env {
                name: "OPENAI_MODEL".into(),
                fallback: Some(Box::new(s("gpt-4o")))
            }
        );
        check(&f, t, "EMPTY", s(""), "");
        check(&f, t, "INDENTED", s("spaced"), "spaced");
        assert_eq!(
            &t[entry(&f, "OPENAI_BASE_URL").key_span.clone()],
            "OPENAI_BASE_URL"
        );
        assert_eq!(
            &t[entry(&f, "AZURE_OPENAI_ENDPOINT").key_span.clone()],
            "AZURE_OPENAI_ENDPOINT"
        );
        assert_eq!(f.config.len(), 9);
    }

    #[test]
    fn dotenv_strings_and_comments() {
        let t = DOTENV;
        let f = crate::lang::config::facts(t, Lang::Env);
        let texts: Vec<_> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["# Azure OpenAI (BAA-covered)", "# consumer endpoint!"]
        );
        for c in &f.comments {
            assert_eq!(&t[c.span.clone()], c.text);
        }
        let key = f
            .strings
            .iter()
            .find(|s| s.value == "sk-proj-abc123")
            .unwrap();
        assert!(key.raw_is_value);
        assert_eq!(
            &t[key.content_start..key.content_start + 14],
            "sk-proj-abc123"
        );
        assert_eq!(&t[key.span.clone()], "'sk-proj-abc123'");
        assert!(
            !f.strings
                .iter()
                .find(|s| s.value.starts_with("hello"))
                .unwrap()
                .raw_is_value
        );
    }

    #[test]
    fn dotenv_garbage_does_not_panic() {
        for t in [
            "=",
            "A=\"unterminated",
            "export",
            "A='x",
            "\u{feff}K=v",
            "K=é # c",
            "K=\"\\",
        ] {
            let _ = crate::lang::config::facts(t, Lang::Env);
        }
    }
}
