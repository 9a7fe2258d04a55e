//! INI and Java `.properties` files: `[section]` headers prefix the keys (`[newrelic]` +
//! `ai_monitoring.enabled` → `newrelic.ai_monitoring.enabled`; git-style `[a "b"]` → `a.b`),
//! `key=value` and `key: value` pairs, `#` / `;` / `!` comment lines, inline ` ;` / ` #`
//! comments, backslash line continuations and escapes (properties) and indented
//! continuation lines (Python configparser). Values are strings; `${VAR}` becomes
//! [`Value::Env`]. Not a TOML parser: TOML has its own frontend.

use super::{join, lines, push_comment, push_str, str_value};
use crate::facts::{ConfigEntry, Facts};

pub(crate) fn extract(text: &str, f: &mut Facts) {
    let mut section = String::new();
    let all: Vec<(usize, &str)> = lines(text).collect();
    let mut i = 0;
    while i < all.len() {
        let (start, line) = all[i];
        i += 1;
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if body.is_empty() {
            continue;
        }
        let bstart = start + indent;
        if body.starts_with(['#', ';', '!']) {
            push_comment(f, body, bstart..bstart + body.len());
            continue;
        }
        if body.starts_with('[') {
            if let Some(close) = body.find(']') {
                section = section_name(&body[1..close]);
                if let Some(h) = body[close..].find(['#', ';']) {
                    let c = &body[close + h..];
                    push_comment(f, c, bstart + close + h..bstart + body.len());
                }
                continue;
            }
        }
        let Some(sep) = body.find(['=', ':']) else {
            continue;
        };
        let key = body[..sep].trim_end();
        if key.is_empty() {
            continue;
        }
        let key_span = bstart..bstart + key.len();
        let after = sep + 1;
        let vrel = after + (body[after..].len() - body[after..].trim_start().len());
        let vstart = bstart + vrel;
        let mut raw_val = &body[vrel..];
        let mut comment = None;
        if let Some(c) = inline_comment(raw_val) {
            comment = Some((vstart + c, raw_val[c..].to_string()));
            raw_val = raw_val[..c].trim_end();
        }
        let mut value = raw_val.to_string();
        let mut raw = true;
        let mut vend = vstart + raw_val.len();
        // Properties continue a value with a trailing backslash; configparser with
        // lines indented deeper than the key.
        while value.ends_with('\\') && !value.ends_with("\\\\") && i < all.len() {
            value.pop();
            let (ns, nl) = all[i];
            i += 1;
            let t = nl.trim_start();
            value.push_str(t);
            vend = ns + nl.len();
            raw = false;
        }
        while i < all.len() {
            let (ns, nl) = all[i];
            let t = nl.trim();
            let nindent = nl.len() - nl.trim_start().len();
            if t.is_empty() || nindent <= indent || t.starts_with(['#', ';']) {
                break;
            }
            value.push('\n');
            value.push_str(t);
            vend = ns + nl.len();
            raw = false;
            i += 1;
        }
        let vspan = vstart..vend;
        let mut content = vstart;
        if raw
            && value.len() >= 2
            && (value.starts_with('"') && value.ends_with('"')
                || value.starts_with('\'') && value.ends_with('\''))
        {
            value = value[1..value.len() - 1].to_string();
            content = vstart + 1;
        }
        if value.contains('\\') {
            value = unescape(&value);
            raw = false;
        }
        if !value.is_empty() {
            push_str(f, &value, vspan.clone(), content, raw);
        }
        if let Some((at, c)) = comment {
            push_comment(f, &c, at..at + c.len());
        }
        f.config.push(ConfigEntry {
            key: join(&section, key),
            value: str_value(&value, false),
            key_span,
            value_span: vspan,
            block: None,
        });
    }
}

fn section_name(inner: &str) -> String {
    let inner = inner.trim();
    match inner.split_once(char::is_whitespace) {
        Some((a, b)) if b.trim().starts_with('"') => format!("{a}.{}", b.trim().trim_matches('"')),
        _ => inner.to_string(),
    }
}

fn inline_comment(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    (1..b.len())
        .find(|&k| (b[k] == b'#' || b[k] == b';') && (b[k - 1] == b' ' || b[k - 1] == b'\t'))
}

fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
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

    #[test]
    fn spring_application_properties() {
        let t = "# Spring AI\nspring.ai.openai.base-url=https://api.openai.com\n\
spring.ai.openai.api-key=${OPENAI_API_KEY}\n\
spring.ai.azure.openai.endpoint: https://contoso.openai.azure.com/\n\
! bang comment\n\
logging.level.org.springframework.ai=DEBUG\n\
long.value=first \\\n    second\n\
path=C\\:\\\\temp\n";
        let f = crate::lang::config::facts(t, Lang::Ini);
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
            "spring.ai.azure.openai.endpoint",
            s("https://contoso.openai.azure.com/"),
            "https://contoso.openai.azure.com/",
        );
        check(
            &f,
            t,
            "logging.level.org.springframework.ai",
            s("DEBUG"),
            "DEBUG",
        );
        assert_eq!(entry(&f, "long.value").value, s("first second"));
        assert_eq!(entry(&f, "path").value, s("C:\\temp"));
        assert_eq!(f.comments.len(), 2);
        let lit = f
            .strings
            .iter()
            .find(|s| s.value == "https://api.openai.com")
            .unwrap();
        assert!(lit.raw_is_value);
        assert_eq!(&t[lit.span.clone()], "https://api.openai.com");
    }

    #[test]
    fn newrelic_ini_sections() {
        let t = "# ---------------------------------------------------------------------------\n\
[newrelic]\n\
license_key = 0123456789abcdef0123456789abcdef01234567\n\
app_name = Patient Intake Assistant\n\
ai_monitoring.enabled = true\n\
ai_monitoring.record_content.enabled = false  ; never record prompts\n\
\n\
[newrelic:production]\n\
monitor_mode = true\n\
[remote \"origin\"]\n\
url = \"git@example.com:x.git\"\n";
        let f = crate::lang::config::facts(t, Lang::Ini);
        check(&f, t, "newrelic.ai_monitoring.enabled", s("true"), "true");
        check(
            &f,
            t,
            "newrelic.ai_monitoring.record_content.enabled",
            s("false"),
            "false",
        );
        check(
            &f,
            t,
            "newrelic.app_name",
            s("Patient Intake Assistant"),
            "Patient Intake Assistant",
        );
        check(&f, t, "newrelic:production.monitor_mode", s("true"), "true");
        check(
            &f,
            t,
            "remote.origin.url",
            s("git@example.com:x.git"),
            "git@example.com:x.git",
        );
        assert!(f
            .comments
            .iter()
            .any(|c| c.text == "; never record prompts"));
        assert!(matches!(
            entry(&f, "newrelic.license_key").value,
            Value::Str(_)
        ));
    }

    #[test]
    fn configparser_continuations() {
        let t = "[options]\ninstall_requires =\n    openai>=1.0\n    langchain\n";
        let f = crate::lang::config::facts(t, Lang::Ini);
        assert_eq!(
            entry(&f, "options.install_requires").value,
            s("\nopenai>=1.0\nlangchain")
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        for t in ["[", "=", "a=\\", "[x]#", "k=\\u12", "k = \"", "é=é ;é"] {
            let _ = crate::lang::config::facts(t, Lang::Ini);
        }
    }
}
