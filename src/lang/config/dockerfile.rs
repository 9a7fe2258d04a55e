//! Dockerfiles: `ENV K=V ...`, `ENV K V`, `ARG K=V ...` become flat [`ConfigEntry`]s (the
//! environment a container or build sees), with line continuations (and the `# escape=`
//! directive), quotes and `$VAR` / `${VAR:-x}` references as [`Value::Env`]. Comment lines
//! become comments; quoted strings in other instructions become string literals. Not a
//! shell parser: `RUN` bodies are not interpreted.

use super::{push_comment, push_str, str_value};
use crate::facts::{ConfigEntry, Facts, Value};

/// One instruction with its continuation lines joined; `map[k]` is the file offset of
/// byte `k` of `text`.
struct Logical {
    text: String,
    map: Vec<usize>,
}

impl Logical {
    fn span(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let start = self.map.get(from).copied().unwrap_or(0);
        let end = if to == 0 {
            start
        } else {
            self.map.get(to - 1).map_or(start, |e| e + 1)
        };
        start..end.max(start)
    }

    /// Whether bytes `from..to` are contiguous in the file (no continuation inside).
    fn contiguous(&self, from: usize, to: usize) -> bool {
        to <= from || self.map[to - 1] - self.map[from] == to - 1 - from
    }
}

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let mut escape = '\\';
    let mut directives = true;
    let mut cur: Option<Logical> = None;
    for (start, line) in super::lines(text) {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        if let Some(directive) = trimmed.strip_prefix('#') {
            if directives && cur.is_none() {
                let d = directive.trim().to_ascii_lowercase();
                if let Some(v) = d.strip_prefix("escape") {
                    if let Some(c) = v
                        .trim_start()
                        .strip_prefix('=')
                        .and_then(|v| v.trim().chars().next())
                    {
                        escape = c;
                    }
                }
            }
            push_comment(
                f,
                trimmed.trim_end(),
                start + lead..start + lead + trimmed.trim_end().len(),
            );
            continue;
        }
        directives = false;
        if trimmed.is_empty() && cur.is_none() {
            continue;
        }
        let logical = cur.get_or_insert_with(|| Logical {
            text: String::new(),
            map: Vec::new(),
        });
        let body = line.trim_end();
        let continues = body.ends_with(escape) && !body.ends_with(&format!("{escape}{escape}")[..]);
        let body = if continues {
            &body[..body.len() - escape.len_utf8()]
        } else {
            body
        };
        for (k, ch) in body.char_indices() {
            logical.text.push(ch);
            for b in 0..ch.len_utf8() {
                logical.map.push(start + k + b);
            }
        }
        if !continues {
            if let Some(l) = cur.take() {
                instruction(&l, escape, f);
            }
        }
    }
    if let Some(l) = cur.take() {
        instruction(&l, escape, f);
    }
}

fn instruction(l: &Logical, escape: char, f: &mut Facts) {
    let t = &l.text;
    let start = t.len() - t.trim_start().len();
    let word_end = t[start..]
        .find(char::is_whitespace)
        .map_or(t.len(), |k| start + k);
    let word = t[start..word_end].to_ascii_uppercase();
    let args = word_end + (t[word_end..].len() - t[word_end..].trim_start().len());
    match word.as_str() {
        "ENV" | "ARG" => {
            let first_end = token_end(t, args, escape);
            let first = &t[args..first_end];
            if word == "ENV" && !first.contains('=') {
                // Legacy form `ENV NAME the rest of the line`.
                let vstart = first_end + (t[first_end..].len() - t[first_end..].trim_start().len());
                let value = t[vstart..].trim_end();
                if first.is_empty() || value.is_empty() {
                    return;
                }
                let span = l.span(vstart, vstart + value.len());
                let raw = l.contiguous(vstart, vstart + value.len());
                push_str(f, value, span.clone(), span.start, raw);
                f.config.push(ConfigEntry {
                    key: first.to_string(),
                    value: str_value(value, true),
                    key_span: l.span(args, first_end),
                    value_span: span,
                    block: None,
                });
                return;
            }
            let mut pos = args;
            while pos < t.len() {
                let end = token_end(t, pos, escape);
                if end == pos {
                    break;
                }
                pair(l, pos, end, escape, f);
                pos = end + (t[end..].len() - t[end..].trim_start().len());
            }
        }
        _ => strings_in(l, args, f),
    }
}

/// The end of a whitespace-separated token that may hold quotes.
fn token_end(t: &str, from: usize, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut chars = t[from..].char_indices();
    while let Some((k, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                chars.next();
            }
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == escape => {
                chars.next();
            }
            None if c.is_whitespace() => return from + k,
            None => {}
        }
    }
    t.len()
}

/// One `NAME=value` token of `ENV` / `ARG`.
fn pair(l: &Logical, from: usize, to: usize, escape: char, f: &mut Facts) {
    let t = &l.text[from..to];
    let Some(eq) = t.find('=') else { return };
    let key = &t[..eq];
    if key.is_empty() {
        return;
    }
    let vfrom = from + eq + 1;
    let raw_text = &l.text[vfrom..to];
    let (decoded, single, quoted_whole) = unquote(raw_text, escape);
    let (cstart, cend) = if quoted_whole {
        (vfrom + 1, to - 1)
    } else {
        (vfrom, to)
    };
    let raw = decoded == l.text[cstart..cend] && l.contiguous(cstart, cend);
    let span = l.span(vfrom, to);
    push_str(f, &decoded, span.clone(), l.span(cstart, cend).start, raw);
    let value = if single {
        Value::Str(decoded)
    } else {
        str_value(&decoded, true)
    };
    f.config.push(ConfigEntry {
        key: key.to_string(),
        value,
        key_span: l.span(from, from + eq),
        value_span: span,
        block: None,
    });
}

/// Removes quotes and escapes: (text, single-quoted, one quote pair around everything).
fn unquote(raw: &str, escape: char) -> (String, bool, bool) {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut single = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            Some(_) => out.push(c),
            None if c == '"' || c == '\'' => {
                single |= c == '\'';
                quote = Some(c);
            }
            None if c == escape => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            None => out.push(c),
        }
    }
    let whole = raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
        && !raw[1..raw.len() - 1].contains(&raw[..1]);
    (out, single, whole)
}

/// String literals in other instructions (`RUN curl "https://..."`, exec-form arrays).
fn strings_in(l: &Logical, from: usize, f: &mut Facts) {
    let t = &l.text;
    let mut i = from;
    while let Some(k) = t[i..].find(['"', '\'']) {
        let open = i + k;
        let q = &t[open..open + 1];
        let Some(len) = t[open + 1..].find(q) else {
            break;
        };
        let close = open + 1 + len;
        let content = &t[open + 1..close];
        if !content.is_empty() {
            let raw = !content.contains('\\') && l.contiguous(open + 1, close);
            push_str(
                f,
                &content.replace("\\\"", "\""),
                l.span(open, close + 1),
                l.span(open + 1, close).start,
                raw,
            );
        }
        i = close + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::facts::{Lang, Part, Value};

    const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1
FROM python:3.12-slim
ARG OPENAI_MODEL=gpt-4o-mini
ARG BUILD_ONLY
ENV OPENAI_BASE_URL=https://api.openai.com/v1 \
    AZURE_OPENAI_API_VERSION="2024-10-21" \
    # comment inside a continuation
    LOG_LEVEL=info
ENV LEGACY_HOST api.openai.com
ENV MODEL=${OPENAI_MODEL} GREETING='hi $USER' PATH=/app/bin:$PATH
RUN curl -s "https://api.openai.com/v1/models"
CMD ["python", "app.py"]
"#;

    #[test]
    fn env_and_arg() {
        let t = DOCKERFILE;
        let f = crate::lang::config::facts(t, Lang::Dockerfile);
        check(&f, t, "OPENAI_MODEL", s("gpt-4o-mini"), "gpt-4o-mini");
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
            "AZURE_OPENAI_API_VERSION",
            s("2024-10-21"),
            "2024-10-21",
        );
        check(&f, t, "LOG_LEVEL", s("info"), "info");
        check(&f, t, "LEGACY_HOST", s("api.openai.com"), "api.openai.com");
        check(&f, t, "MODEL", env("OPENAI_MODEL"), "${OPENAI_MODEL}");
        check(&f, t, "GREETING", s("hi $USER"), "hi $USER");
        assert_eq!(
            entry(&f, "PATH").value,
            Value::Template(vec![Part::Lit("/app/bin:".into()), Part::Hole(env("PATH"))])
        );
        assert!(entries(&f, "BUILD_ONLY").is_empty());
        assert_eq!(&t[entry(&f, "LOG_LEVEL").key_span.clone()], "LOG_LEVEL");
    }

    #[test]
    fn comments_and_strings() {
        let t = DOCKERFILE;
        let f = crate::lang::config::facts(t, Lang::Dockerfile);
        assert_eq!(f.comments.len(), 2);
        assert_eq!(
            &t[f.comments[1].span.clone()],
            "# comment inside a continuation"
        );
        let url = f
            .strings
            .iter()
            .find(|s| s.value == "https://api.openai.com/v1/models")
            .unwrap();
        assert!(url.raw_is_value);
        assert_eq!(
            &t[url.content_start..url.content_start + url.value.len()],
            url.value
        );
        assert!(f.strings.iter().any(|s| s.value == "app.py"));
    }

    #[test]
    fn escape_directive() {
        let t = "# escape=`\nFROM mcr.microsoft.com/windows\nENV A=1 `\n    B=C:\\x\n";
        let f = crate::lang::config::facts(t, Lang::Dockerfile);
        check(&f, t, "B", s("C:\\x"), "C:\\x");
        check(&f, t, "A", s("1"), "1");
    }

    #[test]
    fn garbage_does_not_panic() {
        for t in [
            "ENV",
            "ENV =",
            "ENV A=\"x",
            "ARG \\",
            "ENV A=é\\",
            "RUN \"",
            "ENV A B\\\n",
        ] {
            let _ = crate::lang::config::facts(t, Lang::Dockerfile);
        }
    }
}
