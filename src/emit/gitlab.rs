//! The `gitlab` format: a GitLab Code Quality report (a JSON array of issues).
//!
//! Each active finding is one issue: `description` (`RULE: message`), `check_name` (the
//! rule id), `fingerprint`, `severity`, `location.path` and `location.lines.begin/end`.
//! Suppressed findings and notes are left out (Code Quality has no place for them).
//!
//! Severity mapping (GitLab knows `info`, `minor`, `major`, `critical`, `blocker`):
//! error → `critical`, warning → `major`, note → `info`. `blocker` is not used: whether an
//! error blocks the merge is the pipeline's exit-code decision, not the widget's.
//!
//! `fingerprint` is the hex SHA-256 of the finding's fingerprint. GitLab drops issues with
//! duplicate fingerprints, and ours is line-independent (the same text twice in one file
//! has one fingerprint), so the n-th repeat (n ≥ 2, in report order) hashes
//! `fingerprint + "#n"` instead. This is not a GitLab SAST report (a different schema).

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::one_line;
use crate::diagnostic::{Report, Severity};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}

fn hex_sha256(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let issues: Vec<Value> = report
        .active()
        .map(|f| {
            let n = seen.entry(f.fingerprint.as_str()).or_insert(0);
            *n += 1;
            let key = if *n == 1 {
                f.fingerprint.clone()
            } else {
                format!("{}#{n}", f.fingerprint)
            };
            json!({
                "description": format!("{}: {}", f.rule, one_line(&f.message)),
                "check_name": f.rule,
                "fingerprint": hex_sha256(&key),
                "severity": severity(f.severity),
                "location": {
                    "path": f.path,
                    "lines": { "begin": f.line, "end": f.end_line.max(f.line) },
                },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::testdata;

    fn render(report: &Report) -> Value {
        let mut out = Vec::new();
        emit(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn issues() {
        let v = render(&testdata::report());
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), 4, "suppressed finding left out");
        assert_eq!(
            a[0],
            json!({
                "description": "PHI201: PHI sent to api.openai.com: 100% of fields, incl. ssn\\nkey sk-a****** in header;\\nsee [docs]",
                "check_name": "PHI201",
                "fingerprint": hex_sha256("PHI201:src/app.py:70"),
                "severity": "critical",
                "location": {"path": "src/app.py", "lines": {"begin": 3, "end": 3}}
            })
        );
        let sev: Vec<&str> = a.iter().map(|i| i["severity"].as_str().unwrap()).collect();
        assert_eq!(sev, ["critical", "major", "info", "critical"]);
        assert_eq!(a[2]["location"]["path"], "src/données/patiënt.py");
        assert_eq!(a[2]["location"]["lines"], json!({"begin": 12, "end": 13}));
    }

    #[test]
    fn fingerprints_are_sha256_hex_and_unique() {
        assert_eq!(
            hex_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut r = testdata::clean();
        let f = testdata::report().findings[0].clone();
        let mut g = f.clone();
        g.line = 40;
        r.findings = vec![f, g];
        let v = render(&r);
        assert_ne!(v[0]["fingerprint"], v[1]["fingerprint"]);
        assert_eq!(v[1]["fingerprint"], hex_sha256("PHI201:src/app.py:70#2"));
    }

    #[test]
    fn empty_is_an_empty_array() {
        let mut out = Vec::new();
        emit(&testdata::clean(), &mut out).unwrap();
        assert_eq!(out, b"[]\n");
    }
}
