//! Configuration files, the envelope, config errors and custom rules.

use crate::support::{repo_root, run_in, stderr, stdout, tree};

const CONSUMER: &str = "OPENAI_BASE_URL=https://api.openai.com/v1\n";

fn rules_of(o: &std::process::Output) -> Vec<(String, String, u64)> {
    active(o)
}

fn json_findings(o: &std::process::Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["findings"].as_array().unwrap().clone()
}

#[test]
fn closest_config_applies_per_file() {
    let t = tree(&[
        ("phi-lint.toml", "ignore = [\"PHI101\"]\n"),
        ("a/.env", CONSUMER),
        ("b/phi-lint.toml", "select = [\"PHI1\"]\n"),
        ("b/.env", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json", "."]);
    assert_eq!(
        rules_of(&o),
        vec![("PHI101".into(), "b/.env".into(), 1)],
        "{}",
        stderr(&o)
    );
}

#[test]
fn dot_file_and_pyproject_are_read() {
    let t = tree(&[
        (
            ".phi-lint.toml",
            "ignore = [\"consumer-openai-endpoint\"]\n",
        ),
        (".env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
    let t = tree(&[
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.phi-lint]\nignore = [\"PHI1\"]\n",
        ),
        (".env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
    // A pyproject.toml without the section does not stop the search upwards.
    let t = tree(&[
        ("phi-lint.toml", "ignore = [\"PHI101\"]\n"),
        ("sub/pyproject.toml", "[project]\nname = \"x\"\n"),
        ("sub/.env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
}

#[test]
fn extend_inherits_and_overrides() {
    let t = tree(&[
        (
            "base.toml",
            "ignore = [\"PHI101\"]\n[severity]\nPHI904 = \"error\"\n",
        ),
        ("svc/phi-lint.toml", "extend = \"../base.toml\"\n"),
        ("svc/.env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
    let o = run_in(t.path(), &["config", "--show", "svc"]);
    let s = stdout(&o);
    assert!(s.contains("config-file = \"svc/phi-lint.toml\""), "{s}");
    assert!(s.contains("PHI904 = \"error\""), "{s}");
    assert!(s.contains("\"PHI101\""), "{s}");
}

#[test]
fn config_flag_and_isolated() {
    let t = tree(&[
        ("phi-lint.toml", "ignore = [\"PHI101\"]\n"),
        ("other.toml", "select = [\"PHI101\"]\n"),
        (".env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
    assert_eq!(
        rules_of(&run_in(
            t.path(),
            &["check", "--format", "json", "--isolated"]
        ))
        .len(),
        1
    );
    assert_eq!(
        rules_of(&run_in(
            t.path(),
            &["check", "--format", "json", "--config", "other.toml"]
        ))
        .len(),
        1
    );
}

#[test]
fn cli_select_replaces_config_selection() {
    let t = tree(&[
        ("phi-lint.toml", "select = [\"PHI2\"]\n"),
        (".env", CONSUMER),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
    assert_eq!(
        rules_of(&run_in(
            t.path(),
            &["check", "--format", "json", "--select", "PHI101"]
        ))
        .len(),
        1
    );
    assert_eq!(
        rules_of(&run_in(
            t.path(),
            &["check", "--format", "json", "--extend-select", "PHI1"]
        ))
        .len(),
        1
    );
    let t = tree(&[
        (
            "phi-lint.toml",
            "select = [\"PHI2\"]\nextend-select = [\"PHI101\"]\n",
        ),
        (".env", CONSUMER),
    ]);
    assert_eq!(
        rules_of(&run_in(t.path(), &["check", "--format", "json"])).len(),
        1
    );
}

#[test]
fn severity_override() {
    let t = tree(&[
        (
            "phi-lint.toml",
            "[severity]\nconsumer-openai-endpoint = \"note\"\n",
        ),
        (".env", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert_eq!(json_findings(&o)[0]["severity"], "note");
    assert_eq!(
        o.status.code(),
        Some(0),
        "a note does not fail the default --fail-on warning"
    );
}

#[test]
fn per_file_ignores_are_recorded_as_suppressed() {
    let t = tree(&[
        (
            "phi-lint.toml",
            "[per-file-ignores]\n\"legacy/**\" = [\"PHI101\"]\n",
        ),
        ("legacy/.env", CONSUMER),
        ("app/.env", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    let f = json_findings(&o);
    assert_eq!(f.len(), 2);
    let t_f = f.iter().find(|x| x["path"] == "legacy/.env").unwrap();
    assert_eq!(t_f["suppressed"]["kind"], "per-file-ignores");
    assert_eq!(t_f["suppressed"]["location"], "phi-lint.toml:2");
    assert!(f.iter().find(|x| x["path"] == "app/.env").unwrap()["suppressed"].is_null());
}

#[test]
fn exclude_and_force_exclude() {
    let t = tree(&[
        (
            "phi-lint.toml",
            "exclude = [\"gen\"]\nextend-exclude = [\"*.yaml\"]\n",
        ),
        ("gen/.env", CONSUMER),
        ("x.yaml", "u: https://api.openai.com/v1\n"),
        (".env", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert_eq!(rules_of(&o), vec![("PHI101".into(), ".env".into(), 1)]);
    // Named paths are checked unless --force-exclude.
    assert_eq!(
        rules_of(&run_in(
            t.path(),
            &["check", "--format", "json", "gen/.env"]
        ))
        .len(),
        1
    );
    assert!(rules_of(&run_in(
        t.path(),
        &["check", "--format", "json", "--force-exclude", "gen/.env"]
    ))
    .is_empty());
}

#[test]
fn max_filesize_key() {
    let t = tree(&[("phi-lint.toml", "max-filesize = 10\n"), (".env", CONSUMER)]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert!(rules_of(&o).is_empty());
    assert!(stdout(&o).contains("over the 10-byte limit"));
}

#[test]
fn require_suppression_reason_key() {
    let env = "OPENAI_BASE_URL=https://api.openai.com/v1 # phi-lint: ignore[PHI101]\n";
    let t = tree(&[(".env", env)]);
    assert_eq!(
        rules_of(&run_in(t.path(), &["check", "--format", "json"])),
        vec![("PHI902".into(), ".env".into(), 1)]
    );
    let t = tree(&[
        ("phi-lint.toml", "require-suppression-reason = false\n"),
        (".env", env),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
}

#[test]
fn envelope_allowed_host_changes_the_verdict() {
    let env = "OPENAI_BASE_URL=https://gw.api.openai.com/v1\n";
    let t = tree(&[(".env", env)]);
    assert_eq!(
        rules_of(&run_in(t.path(), &["check", "--format", "json"])).len(),
        1
    );
    let t = tree(&[
        (
            "phi-lint.toml",
            "[envelope]\nallowed-hosts = [\"gw.api.openai.com\"]\n",
        ),
        (".env", env),
    ]);
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
}

/// A custom rule with `vendor`/`provider` shows the envelope's covered-vendors and
/// approved-providers switching a match off (the built-in PHI4xx/PHI103 use the same fields).
#[test]
fn envelope_covered_vendor_and_approved_provider() {
    let rule = |id: &str, name: &str, field: &str, host: &str| {
        let kw = host.replace('\\', "");
        format!(
            "id = \"{id}\"\nname = \"{name}\"\nseverity = \"error\"\nsummary = \"s\"\nlanguages = [\"env\"]\nkeywords = [\"{kw}\"]\nmessage = \"m\"\nhelp = \"h\"\n[docs]\nwhat = \"w\"\nwhy = \"w\"\nsafeguard = \"45 CFR 164.312\"\nbad = \"b\"\ngood = \"g\"\n[[match]]\nkind = \"string\"\n{field}\npattern = '{host}'\n"
        )
    };
    let files = |cfg: &'static str| {
        tree(&[
            ("phi-lint.toml", cfg),
            (
                "r/ACME001.toml",
                Box::leak(
                    rule(
                        "ACME001",
                        "apm-host",
                        "vendor = \"datadog\"",
                        "dd\\.example",
                    )
                    .into_boxed_str(),
                ),
            ),
            (
                "r/ACME002.toml",
                Box::leak(
                    rule(
                        "ACME002",
                        "llm-host",
                        "provider = \"anthropic\"",
                        "anth\\.example",
                    )
                    .into_boxed_str(),
                ),
            ),
            (".env", "A=https://dd.example\nB=https://anth.example\n"),
        ])
    };
    let t = files("rules-dirs = [\"r\"]\n");
    let got: Vec<String> = rules_of(&run_in(t.path(), &["check", "--format", "json"]))
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(got, vec!["ACME001", "ACME002"]);
    let t = files("rules-dirs = [\"r\"]\n[envelope]\ncovered-vendors = [\"datadog\"]\napproved-providers = [\"anthropic\"]\n");
    assert!(rules_of(&run_in(t.path(), &["check", "--format", "json"])).is_empty());
}

fn error_of(files: &[(&str, &str)]) -> String {
    let t = tree(files);
    let o = run_in(t.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    stderr(&o)
}

#[test]
fn config_errors_point_into_the_file() {
    let e = error_of(&[("phi-lint.toml", "selekt = [\"PHI101\"]\n")]);
    assert!(
        e.contains("phi-lint::config") && e.contains("unknown field `selekt`"),
        "{e}"
    );
    assert!(e.contains("phi-lint.toml:1:1"), "{e}");
    let e = error_of(&[("phi-lint.toml", "select = \"PHI101\"\n")]);
    assert!(e.contains("invalid type"), "{e}");
    let e = error_of(&[(
        "phi-lint.toml",
        "[per-file-ignores]\n\"tests/[**\" = [\"PHI101\"]\n",
    )]);
    assert!(e.contains("invalid glob"), "{e}");
    let e = error_of(&[("phi-lint.toml", "[severity]\nPHI101 = \"fatal\"\n")]);
    assert!(
        e.contains("unknown severity `fatal`") && e.contains("phi-lint.toml:2:10"),
        "{e}"
    );
    let e = error_of(&[("phi-lint.toml", "extend = \"missing.toml\"\n")]);
    assert!(e.contains("`missing.toml` does not exist"), "{e}");
    let e = error_of(&[(
        "phi-lint.toml",
        "[envelope]\ncovered-vendor = [\"sentry\"]\n",
    )]);
    assert!(e.contains("unknown field `covered-vendor`"), "{e}");
}

#[test]
fn unknown_rule_error_snapshot() {
    let e = error_of(&[("phi-lint.toml", "# team config\nignore = [\"PHI1O1\"]\n")]);
    let expected = "phi-lint: error: invalid configuration
phi-lint::config

  × `ignore`: unknown rule `PHI1O1`
   ╭─[phi-lint.toml:2:11]
 1 │ # team config
 2 │ ignore = [\"PHI1O1\"]
   ·           ────┬───
   ·               ╰── here
   ╰────
  help: did you mean `PHI101`?
";
    assert_eq!(e.trim_end(), expected.trim_end(), "\n{e}");
}

#[test]
fn init_writes_a_loading_starter_and_refuses_to_overwrite() {
    let t = tree(&[(".env", CONSUMER)]);
    let o = run_in(t.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(t.path().join("phi-lint.toml")).unwrap();
    assert!(text.contains("[envelope]") && text.contains("covered-vendors"));
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert_eq!(rules_of(&o).len(), 1, "{}", stderr(&o));
    assert_eq!(run_in(t.path(), &["init"]).status.code(), Some(2));
}

const GATEWAY_RULE: &str = r#"id = "ACME101"
name = "unapproved-llm-gateway"
severity = "error"
summary = "An LLM call goes to the old company gateway, which has no BAA"
languages = ["env", "yaml"]
keywords = ["llm-gw.corp.example"]
message = "`{value}` is the old LLM gateway; it is not covered by the BAA"
help = "Use https://llm.corp.example (the Azure OpenAI gateway)"

[docs]
what = "Finds the old company LLM gateway host."
why = "The old gateway forwards to the consumer API."
safeguard = "45 CFR 164.502(e) — disclosures to business associates"
bad = "LLM_URL=https://llm-gw.corp.example"
good = "LLM_URL=https://llm.corp.example"

[[match]]
kind = "string"
pattern = '(?P<hit>llm-gw\.corp\.example)'
"#;

#[test]
fn custom_toml_rule_finds_a_company_gateway() {
    let t = tree(&[
        ("phi-lint.toml", "rules-dirs = [\"rules\"]\n"),
        ("rules/ACME101.toml", GATEWAY_RULE),
        (
            "deploy/values.yaml",
            "llm:\n  url: https://llm-gw.corp.example/v1\n  ok: https://llm.corp.example/v1\n",
        ),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    assert_eq!(
        rules_of(&o),
        vec![("ACME101".into(), "deploy/values.yaml".into(), 2)],
        "{}",
        stderr(&o)
    );
    let o = run_in(t.path(), &["rules", "--rules-dir", "rules"]);
    assert!(stdout(&o)
        .lines()
        .any(|l| l.starts_with("ACME101") && l.contains("custom")));
    let o = run_in(t.path(), &["rule", "ACME101", "--rules-dir", "rules"]);
    assert!(stdout(&o).contains("old company LLM gateway"));
}

#[test]
fn custom_rule_errors_point_into_the_rule_file() {
    let bad = GATEWAY_RULE.replace("kind = \"string\"", "kind = \"strng\"");
    let t = tree(&[
        ("phi-lint.toml", "rules-dirs = [\"rules\"]\n"),
        ("rules/ACME101.toml", &bad),
        (".env", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("unknown match kind `strng`") && e.contains("rules/ACME101.toml"),
        "{e}"
    );
    let t = tree(&[("phi-lint.toml", "rules-dirs = [\"nope\"]\n")]);
    let e = stderr(&run_in(t.path(), &["check"]));
    assert!(e.contains("folder `nope` does not exist"), "{e}");
}

#[test]
fn new_rule_scaffold_loads_and_its_fixture_passes() {
    let t = tree(&[]);
    let o = run_in(
        t.path(),
        &[
            "new-rule",
            "ACME201",
            "example-gateway",
            "--dir",
            "my-rules",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run_in(
        t.path(),
        &["test", "my-rules/fixtures", "--rules-dir", "my-rules"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("1 validated, 1 clean, 0 missing, 0 noisy"),
        "{}",
        stdout(&o)
    );
    // Refuses to overwrite.
    assert_eq!(
        run_in(
            t.path(),
            &[
                "new-rule",
                "ACME201",
                "example-gateway",
                "--dir",
                "my-rules"
            ]
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn rule_schema_is_current() {
    let path = repo_root().join("docs/rule.schema.json");
    let now = phi_lint::rule_schema() + "\n";
    if std::env::var_os("PHI_LINT_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "docs/rule.schema.json is stale: run `phi-lint rule-schema > docs/rule.schema.json`"
    );
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

#[test]
fn check_provider_code_turns_the_skip_off_per_rule() {
    let convert = "export function part(url: string) {\n  return { type: \"image_url\", image_url: { url } };\n}\n";
    let files = [
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("sdk/package.json", "{\"name\": \"@ai-sdk/acme\"}\n"),
        ("sdk/src/convert.ts", convert),
        ("app/package.json", "{\"name\": \"clinic-app\"}\n"),
        ("app/src/convert.ts", convert),
    ];
    let t = tree(&files);
    let o = run_in(
        t.path(),
        &["check", "--format", "json", "--select", "PHI501", "."],
    );
    assert_eq!(
        rules_of(&o),
        vec![("PHI501".into(), "app/src/convert.ts".into(), 2)],
        "provider code is skipped: {}",
        stderr(&o)
    );
    std::fs::write(
        t.path().join("phi-lint.toml"),
        "check-provider-code = [\"image-input-to-llm\"]\n",
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &["check", "--format", "json", "--select", "PHI501", "."],
    );
    assert_eq!(rules_of(&o).len(), 2, "{}", stderr(&o));
    std::fs::write(
        t.path().join("phi-lint.toml"),
        "check-provider-code = [\"PHI5O1\"]\n",
    )
    .unwrap();
    let o = run_in(t.path(), &["check", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
