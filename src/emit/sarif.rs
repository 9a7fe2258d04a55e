//! The `sarif` format: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run; `tool.driver.rules` describes every rule active in the run (with the rule docs
//! as `help.markdown`); every finding, suppressed or not, is a result (suppressed ones carry
//! `suppressions`, as SARIF consumers expect to see the audit trail). Paths are relative
//! URIs against `%SRCROOT%` (the report root), columns are `unicodeCodePoints`, and
//! `partialFingerprints["phiLint/v1"]` carries the line-independent fingerprint so code
//! scanning can track alerts across edits. Notes become `toolExecutionNotifications`.
//! This module is not a general SARIF library: it writes exactly what phi-lint needs, and
//! its output is checked against the SARIF 2.1.0 schema and Microsoft's SARIF validator
//! by the tests (see `sarif_validation.rs`).

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

use super::EmitOptions;
use crate::diagnostic::{Finding, Note, Report, RuleInfo, Severity, Suppressed};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/phi-lint/phi-lint";
/// The `partialFingerprints` key; bump the version if the fingerprint's recipe changes.
pub const FINGERPRINT_KEY: &str = "phiLint/v1";
const SRCROOT: &str = "%SRCROOT%";

pub fn emit(report: &Report, opts: &EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let log = to_value(report, opts);
    serde_json::to_writer_pretty(&mut *out, &Ordered(&log))?;
    out.write_all(b"\n")
}

/// Object keys in the order SARIF documents usually show them; other keys follow, sorted.
/// This keeps the output readable and independent of whether serde_json preserves
/// insertion order (a feature another crate may switch on).
const KEY_ORDER: &[&str] = &[
    "$schema",
    "id",
    "ruleId",
    "ruleIndex",
    "name",
    "version",
    "semanticVersion",
    "informationUri",
    "tool",
    "driver",
    "kind",
    "level",
    "status",
    "justification",
    "message",
    "text",
    "markdown",
    "shortDescription",
    "fullDescription",
    "help",
    "helpUri",
    "defaultConfiguration",
    "locations",
    "location",
    "physicalLocation",
    "artifactLocation",
    "uri",
    "uriBaseId",
    "description",
    "region",
    "contextRegion",
    "startLine",
    "startColumn",
    "endLine",
    "endColumn",
    "snippet",
    "partialFingerprints",
    "suppressions",
    "rules",
    "invocations",
    "executionSuccessful",
    "toolExecutionNotifications",
    "originalUriBaseIds",
    "automationDetails",
    "columnKind",
    "results",
    "runs",
    "tags",
    "properties",
];

struct Ordered<'a>(&'a Value);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|k| {
                    let rank = KEY_ORDER.iter().position(|o| o == k);
                    (rank.unwrap_or(usize::MAX), k.as_str())
                });
                let mut m = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    m.serialize_entry(k, &Ordered(&map[k]))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Ordered(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The whole SARIF log as a JSON value.
pub fn to_value(report: &Report, opts: &EmitOptions) -> Value {
    let rules: Vec<Value> = report.rules.iter().map(rule).collect();
    let results: Vec<Value> = report.findings.iter().map(|f| result(report, f)).collect();
    let notifications: Vec<Value> = report.notes.iter().map(notification).collect();
    let successful = !report.notes.iter().any(|n| n.internal);
    let mut invocation = Map::new();
    invocation.insert("executionSuccessful".into(), json!(successful));
    if !notifications.is_empty() {
        invocation.insert(
            "toolExecutionNotifications".into(),
            Value::Array(notifications),
        );
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "phi-lint",
                    "version": opts.version,
                    "semanticVersion": opts.version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [Value::Object(invocation)],
            "originalUriBaseIds": {
                SRCROOT: {
                    "uri": root_uri(&report.root),
                    "description": { "text": "The directory phi-lint scanned; result paths are relative to it." },
                }
            },
            "automationDetails": { "id": "phi-lint/" },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub's `security-severity`: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "8.0",
        Severity::Warning => "5.0",
        Severity::Note => "2.0",
    }
}

/// SARIF wants plain-text messages to be sentences.
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.is_empty() || t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn rule(r: &RuleInfo) -> Value {
    let d = &r.docs;
    let mut text = vec![format!("What it does: {}", d.what)];
    let mut md = vec![format!("## What it does\n\n{}", d.what)];
    if !d.why.is_empty() {
        text.push(format!("Why it matters: {}", d.why));
        md.push(format!("## Why it matters\n\n{}", d.why));
    }
    if !d.safeguard.is_empty() {
        text.push(format!("HIPAA safeguard: {}", d.safeguard));
        md.push(format!("## HIPAA safeguard\n\n{}", d.safeguard));
    }
    if !d.bad.is_empty() {
        text.push(format!("Bad:\n{}", d.bad));
        md.push(format!("## Bad\n\n{}", fenced(&d.bad)));
    }
    if !d.good.is_empty() {
        text.push(format!("Good:\n{}", d.good));
        md.push(format!("## Good\n\n{}", fenced(&d.good)));
    }
    if !d.options.is_empty() {
        text.push(format!("Options: {}", d.options));
        md.push(format!("## Options\n\n{}", d.options));
    }
    if !d.references.is_empty() {
        text.push(format!("References:\n{}", d.references.join("\n")));
        let list: Vec<String> = d.references.iter().map(|r| format!("- {r}")).collect();
        md.push(format!("## References\n\n{}", list.join("\n")));
    }
    if !r.help.is_empty() {
        text.insert(0, r.help.clone());
        md.insert(0, r.help.clone());
    }

    let mut tags = vec!["security".to_string(), "hipaa".to_string()];
    if !d.safeguard.is_empty() {
        tags.push(d.safeguard.clone());
    }
    tags.extend(r.languages.iter().cloned());
    if r.custom {
        tags.push("custom".to_string());
    }

    let mut v = json!({
        "id": r.id,
        "name": pascal_case(&r.name),
        "shortDescription": { "text": sentence(&r.summary) },
        "fullDescription": { "text": sentence(if d.what.is_empty() { &r.summary } else { &d.what }) },
        "help": { "text": text.join("\n\n"), "markdown": md.join("\n\n") },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(r.severity),
            "precision": "high",
            "problem.severity": problem_severity(r.severity),
        },
    });
    if !r.url.is_empty() {
        v["helpUri"] = json!(r.url);
    }
    v
}

/// CodeQL's `problem.severity`, which GitHub shows for non-security queries.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "recommendation",
    }
}

/// SARIF recommends (SARIF2012) a PascalCase `name`, distinct from the id:
/// `phi-to-llm-plaintext` becomes `PhiToLlmPlaintext`.
fn pascal_case(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs.next().map(|c| c.to_uppercase().collect::<String>());
            first.unwrap_or_default() + cs.as_str()
        })
        .collect()
}

/// A code block that survives backticks in the code.
fn fenced(code: &str) -> String {
    let mut fence = "```".to_string();
    while code.contains(&fence) {
        fence.push('`');
    }
    format!("{fence}\n{}\n{fence}", code.trim_end_matches('\n'))
}

fn result(report: &Report, f: &Finding) -> Value {
    // SARIF positions are 1-based and a region may not end before it starts (SARIF1007);
    // the engine guarantees both, but a bad region would make the whole upload fail.
    let (line, column) = (f.line.max(1), f.column.max(1));
    let end_line = f.end_line.max(line);
    let end_column = if end_line == line {
        f.end_column.max(column)
    } else {
        f.end_column.max(1)
    };
    let mut region = json!({
        "startLine": line,
        "startColumn": column,
        "endLine": end_line,
        "endColumn": end_column,
    });
    let mut physical = json!({ "artifactLocation": artifact_location(&f.path) });
    let ex = &f.excerpt;
    let mut context = None;
    if !ex.text.is_empty() && ex.first_line > 0 {
        if let Some(snippet) = ex.text.get(ex.span.clone()) {
            region["snippet"] = json!({ "text": snippet });
        }
        let lines = line_count(&ex.text);
        context = Some(json!({
            "startLine": ex.first_line,
            "endLine": ex.first_line + lines - 1,
            "snippet": { "text": ex.text },
        }));
    }
    physical["region"] = region;
    if let Some(context) = context {
        physical["contextRegion"] = context;
    }

    let mut v = json!({ "ruleId": f.rule });
    if let Some(i) = report.rules.iter().position(|r| r.id == f.rule) {
        v["ruleIndex"] = json!(i);
    }
    v["level"] = json!(level(f.severity));
    v["message"] = json!({ "text": sentence(&f.message) });
    v["locations"] = json!([{ "physicalLocation": physical }]);
    v["partialFingerprints"] = json!({ FINGERPRINT_KEY: f.fingerprint });
    if let Some(s) = &f.suppressed {
        v["suppressions"] = json!([suppression(s)]);
    }
    v
}

/// Lines in an excerpt, breaking at `\n`, `\r\n` and a lone `\r` like the engine does.
fn line_count(text: &str) -> usize {
    1 + text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count()
}

/// `inline`, `file` and `block` suppressions are comments in the source; `baseline` and
/// `per-file-ignores` live outside it.
fn suppression_kind(kind: &str) -> &'static str {
    match kind {
        "inline" | "file" | "block" => "inSource",
        _ => "external",
    }
}

fn suppression(s: &Suppressed) -> Value {
    let mut v = json!({
        "kind": suppression_kind(&s.kind),
        "status": "accepted",
    });
    let justification = if s.reason.trim().is_empty() {
        format!("suppressed by {}", s.kind)
    } else {
        s.reason.clone()
    };
    v["justification"] = json!(justification);
    if let Some((path, line)) = s.location.rsplit_once(':') {
        if let Ok(line) = line.parse::<usize>() {
            if line > 0 && !path.is_empty() {
                v["location"] = json!({
                    "physicalLocation": {
                        "artifactLocation": artifact_location(path),
                        "region": { "startLine": line },
                    }
                });
            }
        }
    }
    v["properties"] = json!({ "phiLintKind": s.kind });
    v
}

fn notification(n: &Note) -> Value {
    let mut v = json!({
        "level": if n.internal { "error" } else { "note" },
        "message": { "text": sentence(&n.message) },
    });
    if !n.path.is_empty() {
        v["locations"] = json!([{
            "physicalLocation": { "artifactLocation": artifact_location(&n.path) }
        }]);
    }
    v
}

/// A relative path is a URI reference against `%SRCROOT%`; an absolute one (a file outside
/// the working directory) becomes a `file:` URI.
fn artifact_location(path: &str) -> Value {
    if is_absolute(path) {
        json!({ "uri": file_uri(path, false) })
    } else {
        json!({ "uri": encode_path(path), "uriBaseId": SRCROOT })
    }
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Percent-encodes a `/`-separated path as a URI path: everything but RFC 3986 unreserved
/// characters and `/` is encoded (so `:` in a first segment can't read as a scheme).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.replace('\\', "/").as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/path` (with a trailing `/` for directories), Windows drives as
/// `file:///C:/...`.
fn file_uri(path: &str, dir: bool) -> String {
    let p = path.replace('\\', "/");
    let drive = p.len() >= 2 && p.as_bytes()[1] == b':';
    let mut uri = String::from("file://");
    if drive {
        uri.push('/');
        uri.push_str(&p[..2]);
        uri.push_str(&encode_path(&p[2..]));
    } else {
        uri.push_str(&encode_path(&p));
    }
    if dir && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The report root as an absolute directory URI (relative roots are resolved against the
/// working directory, and `.`/`..` are folded).
fn root_uri(root: &Path) -> String {
    let abs: PathBuf = if root.is_absolute() || is_absolute(&root.to_string_lossy()) {
        root.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(root)
    };
    let mut parts: Vec<String> = Vec::new();
    let mut prefix = String::new();
    for c in abs.components() {
        match c {
            Component::Prefix(p) => prefix = p.as_os_str().to_string_lossy().into_owned(),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = format!("{prefix}/{}", parts.join("/"));
    file_uri(&joined, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn log() -> Value {
        to_value(
            &testdata::report(),
            &EmitOptions {
                version: "1.2.3",
                ..EmitOptions::default()
            },
        )
    }

    #[test]
    fn run_level_fields() {
        let v = log();
        assert_eq!(v["$schema"], SCHEMA_URI);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let d = &run["tool"]["driver"];
        assert_eq!(d["name"], "phi-lint");
        assert_eq!(d["version"], "1.2.3");
        assert_eq!(d["semanticVersion"], "1.2.3");
        assert_eq!(d["informationUri"], INFORMATION_URI);
        assert_eq!(d["rules"].as_array().unwrap().len(), 4);
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///home/dev/my%20project/"
        );
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["automationDetails"]["id"], "phi-lint/");
        let inv = &run["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false); // an internal-error note
        let n = &inv["toolExecutionNotifications"];
        assert_eq!(n[0]["level"], "error");
        assert_eq!(
            n[0]["message"]["text"],
            "panic while checking: index out of bounds."
        );
        assert_eq!(
            n[0]["locations"][0]["physicalLocation"]["artifactLocation"],
            json!({"uri": "src/broken.py", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(n[1]["level"], "note");
    }

    #[test]
    fn rule_descriptor() {
        let v = log();
        let r = &v["runs"][0]["tool"]["driver"]["rules"][1];
        assert_eq!(r["id"], "PHI201");
        assert_eq!(r["name"], "PhiToLlmPlaintext");
        assert_eq!(
            r["shortDescription"]["text"],
            "PHI sent to an LLM endpoint without TLS."
        );
        assert_eq!(
            r["fullDescription"]["text"],
            "PHI sent to an LLM endpoint without TLS."
        );
        assert_eq!(r["helpUri"], "https://phi-lint.dev/rules/PHI201");
        assert_eq!(r["defaultConfiguration"]["level"], "error");
        assert_eq!(
            r["properties"]["tags"],
            json!([
                "security",
                "hipaa",
                "45 CFR 164.312(e)(1) — transmission security",
                "python",
                "typescript"
            ])
        );
        assert_eq!(r["properties"]["security-severity"], "8.0");
        assert_eq!(r["properties"]["precision"], "high");
        let md = r["help"]["markdown"].as_str().unwrap();
        for h in [
            "## What it does",
            "## Why it matters",
            "## HIPAA safeguard",
            "## Bad\n\n```\nrequests.post(url, json=patient)\n```",
            "## Good",
            "## References\n\n- https://www.hhs.gov/",
        ] {
            assert!(md.contains(h), "{h} in {md}");
        }
        assert!(r["help"]["text"]
            .as_str()
            .unwrap()
            .starts_with("help for PHI201\n\nWhat it does: "));
        let sev: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["properties"]["security-severity"].as_str().unwrap())
            .collect();
        assert_eq!(sev, ["5.0", "8.0", "5.0", "2.0"]);
    }

    #[test]
    fn results() {
        let v = log();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 5, "suppressed findings are results too");
        let r = &results[0];
        assert_eq!(r["ruleId"], "PHI201");
        assert_eq!(r["ruleIndex"], 1);
        assert_eq!(r["level"], "error");
        assert_eq!(r["message"]["text"], format!("{}.", testdata::TRICKY));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"],
            json!({"uri": "src/app.py", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(loc["region"]["startColumn"], 8);
        assert_eq!(loc["region"]["endLine"], 3);
        assert_eq!(loc["region"]["endColumn"], 78);
        assert_eq!(
            loc["region"]["snippet"]["text"],
            "requests.post(\"http://api.openai.com\", json=patient, key=\"sk-a******\")"
        );
        assert_eq!(loc["contextRegion"]["startLine"], 3);
        assert_eq!(loc["contextRegion"]["endLine"], 3);
        assert_eq!(
            r["partialFingerprints"]["phiLint/v1"],
            "PHI201:src/app.py:70"
        );
        assert!(r.get("suppressions").is_none());
        assert!(r.get("fixes").is_none());

        let sup = results.iter().find(|r| r["ruleId"] == "PHI105").unwrap();
        assert_eq!(
            sup["suppressions"],
            json!([{
                "kind": "inSource", "status": "accepted",
                "justification": "name is a test fixture",
                "location": {"physicalLocation": {
                    "artifactLocation": {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 8}
                }},
                "properties": {"phiLintKind": "inline"}
            }])
        );

        let note = results.iter().find(|r| r["ruleId"] == "PHI400").unwrap();
        assert_eq!(note["level"], "note");
        let loc = &note["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            "src/donn%C3%A9es/pati%C3%ABnt.py"
        );
        assert_eq!(loc["contextRegion"]["endLine"], 13);
    }

    #[test]
    fn suppression_kinds() {
        assert_eq!(suppression_kind("inline"), "inSource");
        assert_eq!(suppression_kind("file"), "inSource");
        assert_eq!(suppression_kind("block"), "inSource");
        assert_eq!(suppression_kind("baseline"), "external");
        assert_eq!(suppression_kind("per-file-ignores"), "external");
    }

    #[test]
    fn uris() {
        assert_eq!(
            encode_path("a b/c:d#e?f%g.py"),
            "a%20b/c%3Ad%23e%3Ff%25g.py"
        );
        assert_eq!(
            artifact_location("/etc/x y.py"),
            json!({"uri": "file:///etc/x%20y.py"})
        );
        assert_eq!(
            artifact_location("C:\\src\\a.py"),
            json!({"uri": "file:///C:/src/a.py"})
        );
        assert_eq!(root_uri(Path::new("/a/./b/../c")), "file:///a/c/");
        assert_eq!(root_uri(Path::new("/")), "file:///");
        assert!(root_uri(Path::new("")).starts_with("file:///"));
        assert!(root_uri(Path::new("")).ends_with('/'));
    }

    #[test]
    fn helpers() {
        assert_eq!(pascal_case("phi-to-llm_plaintext"), "PhiToLlmPlaintext");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("Done  "), "Done.");
        assert_eq!(fenced("a ``` b"), "````\na ``` b\n````");
    }

    #[test]
    fn inconsistent_positions_are_clamped() {
        let mut r = testdata::clean();
        let mut f = testdata::report().findings[0].clone();
        (f.line, f.column, f.end_line, f.end_column) = (0, 5, 0, 2);
        r.findings.push(f);
        let v = to_value(&r, &EmitOptions::default());
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 1, "startColumn": 5, "endLine": 1, "endColumn": 5,
                   "snippet": {"text": "requests.post(\"http://api.openai.com\", json=patient, key=\"sk-a******\")"}})
        );
    }

    #[test]
    fn key_order_is_fixed() {
        let mut out = Vec::new();
        emit(&testdata::report(), &EmitOptions::default(), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with(
            "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": {\n          \"name\": \"phi-lint\",\n"
        ), "{s}");
        let at = |k: &str| s.find(k).unwrap();
        assert!(at("\"ruleId\"") < at("\"ruleIndex\""));
        assert!(at("\"ruleIndex\": 1,\n          \"level\"") < at("\"partialFingerprints\""));
        assert!(s.ends_with("}\n"));
    }

    #[test]
    fn clean_run_is_successful() {
        let v = to_value(&testdata::clean(), &EmitOptions::default());
        let run = &v["runs"][0];
        assert_eq!(run["results"], json!([]));
        assert_eq!(run["invocations"], json!([{"executionSuccessful": true}]));
    }
}
