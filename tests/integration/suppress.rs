//! Suppression comments: every form in every comment syntax phi-lint scans, the PHI90x
//! findings, suppressed findings in the outputs, and the exception register.

use crate::support::{run_in, stderr, stdout, tree};

const U: &str = "https://api.openai.com/v1";

/// A comment syntax: file name, how to write a line holding the consumer URL (`n` keeps
/// keys unique), a clean line, the comment opener/closer, and a header/footer.
struct Syntax {
    file: &'static str,
    url: fn(usize) -> String,
    clean: fn(usize) -> String,
    open: &'static str,
    close: &'static str,
    head: &'static str,
    foot: &'static str,
    trailing: bool,
}

fn syntaxes() -> Vec<Syntax> {
    vec![
        Syntax {
            file: ".env",
            url: |n| format!("URL_{n}={U}"),
            clean: |n| format!("M_{n}=gpt-4o"),
            open: "#",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "values.yaml",
            url: |n| format!("url_{n}: {U}"),
            clean: |n| format!("m_{n}: gpt-4o"),
            open: "#",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "settings.toml",
            url: |n| format!("url_{n} = \"{U}\""),
            clean: |n| format!("m_{n} = 1"),
            open: "#",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "app.ini",
            url: |n| format!("url_{n} = {U}"),
            clean: |n| format!("m_{n} = 1"),
            open: "#",
            close: "",
            head: "[llm]\n",
            foot: "",
            trailing: false,
        },
        Syntax {
            file: "app.properties",
            url: |n| format!("url.{n} = {U}"),
            clean: |n| format!("m.{n} = 1"),
            open: ";",
            close: "",
            head: "",
            foot: "",
            trailing: false,
        },
        Syntax {
            file: "Dockerfile",
            url: |n| format!("ENV URL_{n}={U}"),
            clean: |n| format!("ENV M_{n}=1"),
            open: "#",
            close: "",
            head: "FROM python:3.12\n",
            foot: "",
            trailing: false,
        },
        Syntax {
            file: "main.tf",
            url: |n| format!("  url_{n} = \"{U}\""),
            clean: |n| format!("  m_{n} = 1"),
            open: "#",
            close: "",
            head: "locals {\n",
            foot: "}\n",
            trailing: true,
        },
        Syntax {
            file: "vars.tf",
            url: |n| format!("  url_{n} = \"{U}\""),
            clean: |n| format!("  m_{n} = 1"),
            open: "//",
            close: "",
            head: "locals {\n",
            foot: "}\n",
            trailing: true,
        },
        Syntax {
            file: "block.tf",
            url: |n| format!("  url_{n} = \"{U}\""),
            clean: |n| format!("  m_{n} = 1"),
            open: "/*",
            close: " */",
            head: "locals {\n",
            foot: "}\n",
            trailing: true,
        },
        Syntax {
            file: "main.bicep",
            url: |n| format!("var url{n} = '{U}'"),
            clean: |n| format!("var m{n} = 1"),
            open: "//",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "block.bicep",
            url: |n| format!("var url{n} = '{U}'"),
            clean: |n| format!("var m{n} = 1"),
            open: "/*",
            close: " */",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "appsettings.jsonc",
            url: |n| format!("  \"url{n}\": \"{U}\","),
            clean: |n| format!("  \"m{n}\": 1,"),
            open: "//",
            close: "",
            head: "{\n",
            foot: "  \"end\": 1\n}\n",
            trailing: true,
        },
        Syntax {
            file: "block.jsonc",
            url: |n| format!("  \"url{n}\": \"{U}\","),
            clean: |n| format!("  \"m{n}\": 1,"),
            open: "/*",
            close: " */",
            head: "{\n",
            foot: "  \"end\": 1\n}\n",
            trailing: true,
        },
        Syntax {
            file: "client.py",
            url: |n| format!("URL_{n} = \"{U}\""),
            clean: |n| format!("M_{n} = 1"),
            open: "#",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "client.js",
            url: |n| format!("const url{n} = \"{U}\";"),
            clean: |n| format!("const m{n} = 1;"),
            open: "//",
            close: "",
            head: "",
            foot: "",
            trailing: true,
        },
        Syntax {
            file: "client.ts",
            url: |n| format!("const url{n}: string = \"{U}\";"),
            clean: |n| format!("const m{n} = 1;"),
            open: "/*",
            close: " */",
            head: "",
            foot: "",
            trailing: true,
        },
    ]
}

/// Checks one file and returns (rule, line, suppression kind) for every finding.
fn check(s: &Syntax, body: &[String]) -> Vec<(String, u64, String)> {
    let text = format!("{}{}\n{}", s.head, body.join("\n"), s.foot);
    let t = tree(&[(s.file, &text)]);
    let o = run_in(
        t.path(),
        &["check", "--format", "json", "--show-suppressed"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["suppressed"]["kind"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn c(s: &Syntax, d: &str) -> String {
    let indent = if s.file.ends_with(".tf") || s.file.ends_with(".jsonc") {
        "  "
    } else {
        ""
    };
    format!("{indent}{} phi-lint: {d}{}", s.open, s.close)
}

fn off(s: &Syntax) -> u64 {
    s.head.lines().count() as u64
}

fn e(rule: &str, line: u64, kind: &str) -> (String, u64, String) {
    (rule.into(), line, kind.into())
}

#[test]
fn own_line_ignore_silences_the_next_code_line() {
    for s in syntaxes() {
        let got = check(
            &s,
            &[
                c(&s, "ignore[PHI101] -- test double, no PHI"),
                (s.url)(1),
                (s.url)(2),
            ],
        );
        let o = off(&s);
        assert_eq!(
            got,
            vec![e("PHI101", o + 2, "inline"), e("PHI101", o + 3, "-")],
            "{}",
            s.file
        );
    }
}

#[test]
fn trailing_ignore_silences_its_line() {
    for s in syntaxes().into_iter().filter(|s| s.trailing) {
        let line = format!(
            "{}  {}",
            (s.url)(1),
            c(&s, "ignore[consumer-openai-endpoint] -- test double").trim_start()
        );
        let got = check(&s, &[line, (s.url)(2)]);
        let o = off(&s);
        assert_eq!(
            got,
            vec![e("PHI101", o + 1, "inline"), e("PHI101", o + 2, "-")],
            "{}",
            s.file
        );
    }
}

#[test]
fn disable_enable_silences_a_block() {
    for s in syntaxes() {
        let got = check(
            &s,
            &[
                c(&s, "disable[PHI101] -- recorded fixtures"),
                (s.url)(1),
                (s.url)(2),
                c(&s, "enable[PHI101]"),
                (s.url)(3),
            ],
        );
        let o = off(&s);
        assert_eq!(
            got,
            vec![
                e("PHI101", o + 2, "block"),
                e("PHI101", o + 3, "block"),
                e("PHI101", o + 5, "-")
            ],
            "{}",
            s.file
        );
    }
}

#[test]
fn ignore_file_silences_the_file() {
    for s in syntaxes() {
        let got = check(
            &s,
            &[
                (s.url)(1),
                c(&s, "ignore-file[PHI101] -- sample data only"),
                (s.url)(2),
            ],
        );
        let o = off(&s);
        assert_eq!(
            got,
            vec![e("PHI101", o + 1, "file"), e("PHI101", o + 3, "file")],
            "{}",
            s.file
        );
    }
}

#[test]
fn expiry_unknown_rules_missing_reasons_and_unused() {
    for s in syntaxes() {
        let o = off(&s);
        // Expired: the finding comes back and PHI903 says why.
        let got = check(
            &s,
            &[
                c(&s, "ignore[PHI101] until=2020-01-31 -- migration"),
                (s.url)(1),
            ],
        );
        assert_eq!(
            got,
            vec![e("PHI903", o + 1, "-"), e("PHI101", o + 2, "-")],
            "{}",
            s.file
        );
        // Not yet expired.
        let got = check(
            &s,
            &[
                c(&s, "ignore[PHI101] until=2999-01-31 -- migration"),
                (s.url)(1),
            ],
        );
        assert_eq!(got, vec![e("PHI101", o + 2, "inline")], "{}", s.file);
        // Unknown rule, with a suggestion; a blanket suppression is refused.
        let got = check(
            &s,
            &[
                c(&s, "ignore[PHI1O1] -- gateway"),
                (s.url)(1),
                c(&s, "ignore -- everything"),
                (s.clean)(2),
            ],
        );
        assert_eq!(
            got,
            vec![
                e("PHI901", o + 1, "-"),
                e("PHI101", o + 2, "-"),
                e("PHI901", o + 3, "-")
            ],
            "{}",
            s.file
        );
        // No reason: still applies, reported.
        let got = check(&s, &[c(&s, "ignore[PHI101]"), (s.url)(1)]);
        assert_eq!(
            got,
            vec![e("PHI902", o + 1, "-"), e("PHI101", o + 2, "inline")],
            "{}",
            s.file
        );
        // Unused.
        let got = check(&s, &[c(&s, "ignore[PHI101] -- stale"), (s.clean)(1)]);
        assert_eq!(got, vec![e("PHI904", o + 1, "-")], "{}", s.file);
    }
}

#[test]
fn own_line_ignore_covers_a_multi_line_statement() {
    let t = tree(&[("client.py", "from openai import OpenAI\n# phi-lint: ignore[PHI101] -- test double\nrequests.post(\n    \"https://api.openai.com/v1/chat/completions\",\n)\n")]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    // The URL starts on line 4, not the statement's first line: it is not silenced.
    let f: Vec<_> = active(&o).into_iter().map(|x| (x.0, x.2)).collect();
    assert!(f.contains(&("PHI101".into(), 4)), "{f:?}");
}

#[test]
fn suppressed_findings_are_counted_but_do_not_fail() {
    let t = tree(&[(
        ".env",
        "A=https://api.openai.com/v1 # phi-lint: ignore[PHI101] -- proxied by the corp gateway\n",
    )]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &v["findings"][0]["suppressed"];
    assert_eq!(s["kind"], "inline");
    assert_eq!(s["reason"], "proxied by the corp gateway");
    assert_eq!(s["location"], ".env:1");
}

#[test]
fn reasonless_suppressions_can_be_allowed() {
    let t = tree(&[
        ("phi-lint.toml", "require-suppression-reason = false\n"),
        (
            ".env",
            "A=https://api.openai.com/v1 # phi-lint: ignore[PHI101]\n",
        ),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert!(active(&o).is_empty());
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn exception_register_lists_every_suppression() {
    let t = tree(&[
        (
            ".env",
            "A=https://api.openai.com/v1 # phi-lint: ignore[PHI101] until=2020-01-01 -- proxied\n",
        ),
        (
            "infra/main.tf",
            "/* phi-lint: ignore-file[PHI101, PHI201] -- sandbox subscription */\n",
        ),
        (
            "app.py",
            "# phi-lint: disable[PHI403] -- structured logs are scrubbed\n",
        ),
    ]);
    let o = run_in(t.path(), &["suppressions"]);
    let s = stdout(&o);
    assert!(
        s.contains(".env:1: ignore[PHI101] until 2020-01-01 (expired) -- proxied"),
        "{s}"
    );
    assert!(
        s.contains("infra/main.tf:1: ignore-file[PHI101, PHI201] -- sandbox subscription"),
        "{s}"
    );
    assert!(
        s.contains("app.py:1: disable[PHI403] -- structured logs are scrubbed"),
        "{s}"
    );
    let o = run_in(t.path(), &["suppressions", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["suppressions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let env = rows.iter().find(|r| r["path"] == ".env").unwrap();
    assert_eq!(env["expired"], true);
    assert_eq!(env["rules"][0], "PHI101");
    assert_eq!(env["kind"], "ignore");
}

/// The unsuppressed findings of a JSON run as (rule, path, line).
fn active(o: &std::process::Output) -> Vec<(String, String, u64)> {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json: {e}\n{}", stdout(o)));
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}
