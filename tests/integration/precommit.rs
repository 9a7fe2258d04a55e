//! The pre-commit hook: `.pre-commit-hooks.yaml` is valid and names a real command, and the
//! real `pre-commit` tool blocks a commit with a staged violation and lets the fix through.
//!
//! The commit test defines the hook as `repo: local` / `language: system` built from the
//! shipped hook definition with the entry pointed at the built binary: `language: rust`
//! would make pre-commit `cargo install` this repository, far too slow for a test.

use std::path::Path;
use std::process::{Command, Output};

use crate::git::{git, repo};
use crate::support::{bin, repo_root, run_in};

fn hooks_yaml() -> String {
    std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap()
}

/// Whether `pre-commit` runs; without it the test fails in CI and is skipped elsewhere.
fn have_pre_commit() -> bool {
    let ok = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "pre-commit is not installed but CI is set: .ci/run must install it"
        );
        eprintln!("skipping: pre-commit is not installed (python3 -m pip install pre-commit)");
    }
    ok
}

fn field<'a>(yaml: &'a str, key: &str) -> &'a str {
    yaml.lines()
        .find_map(|l| {
            l.trim_start_matches(['-', ' '])
                .strip_prefix(&format!("{key}: "))
        })
        .unwrap_or_else(|| panic!("no {key} in .pre-commit-hooks.yaml"))
        .trim()
        .trim_matches('\'')
}

#[test]
fn hook_manifest_names_a_real_command() {
    let y = hooks_yaml();
    assert_eq!(field(&y, "id"), "phi-lint");
    assert_eq!(field(&y, "language"), "rust");
    let entry: Vec<&str> = field(&y, "entry").split_whitespace().collect();
    assert_eq!(
        entry[0],
        env!("CARGO_PKG_NAME"),
        "the entry runs the installed binary"
    );
    // The entry's arguments are accepted, with file names appended as pre-commit does.
    let t = crate::support::tree(&[("a.env", "A=1\n")]);
    let mut args: Vec<&str> = entry[1..].to_vec();
    args.push("a.env");
    assert_eq!(run_in(t.path(), &args).status.code(), Some(0));
    // The `files` pattern selects exactly the names phi-lint reads.
    let re = regex::Regex::new(field(&y, "files")).unwrap();
    for name in [
        ".env",
        "config/.env.production",
        "prod.env",
        "Dockerfile",
        "docker/Dockerfile.prod",
        "api.dockerfile",
        "a.py",
        "a.pyi",
        "b.js",
        "b.mjs",
        "b.cjs",
        "b.jsx",
        "c.ts",
        "c.mts",
        "c.cts",
        "c.tsx",
        "d.cs",
        "e.java",
        "f.go",
        "g.rs",
        "h.yaml",
        "h.yml",
        "i.json",
        "i.jsonc",
        "j.toml",
        "k.ini",
        "k.cfg",
        "k.properties",
        "main.tf",
        "x.hcl",
        "x.tfvars",
        "m.bicep",
        "m.bicepparam",
        "n.ipynb",
        "UPPER.PY",
    ] {
        assert!(re.is_match(name), "{name} should be selected");
        assert!(
            phi_lint::lang::detect(Path::new(name)).is_some(),
            "{name} is read by phi-lint"
        );
    }
    for name in [
        "README.md",
        "a.txt",
        "envs/notes.md",
        "image.png",
        "Makefile",
        "x.environment",
    ] {
        assert!(!re.is_match(name), "{name} should not be selected");
        assert!(
            phi_lint::lang::detect(Path::new(name)).is_none(),
            "{name} is not read by phi-lint"
        );
    }
    if have_pre_commit() {
        let o = Command::new("pre-commit")
            .args(["validate-manifest"])
            .arg(repo_root().join(".pre-commit-hooks.yaml"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

fn commit(dir: &Path, home: &Path, msg: &str) -> Output {
    Command::new("git")
        .args(["commit", "-m", msg])
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

#[test]
fn pre_commit_blocks_a_staged_violation_then_passes_after_the_fix() {
    if !have_pre_commit() {
        return;
    }
    // The shipped hook, as a local hook running the built binary.
    let hook = hooks_yaml()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| {
            let l = l
                .replace("language: rust", "language: system")
                .replace("entry: phi-lint ", &format!("entry: {} ", bin().display()));
            format!("    {l}\n")
        })
        .collect::<String>();
    let config = format!("repos:\n  - repo: local\n    hooks:\n{hook}");
    let r = repo(&[
        (".pre-commit-config.yaml", &config),
        ("README.md", "notes\n"),
    ]);
    let home = tempfile::tempdir().unwrap();
    let o = Command::new("pre-commit")
        .arg("install")
        .current_dir(r.path())
        .env("PRE_COMMIT_HOME", home.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pre-commit install: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    std::fs::write(
        r.path().join(".env"),
        "OPENAI_BASE_URL=https://api.openai.com/v1\n",
    )
    .unwrap();
    git(r.path(), &["add", ".env"]);
    let o = commit(r.path(), home.path(), "add endpoint");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "the commit must be blocked:\n{out}");
    assert!(out.contains("PHI101") && out.contains(".env"), "{out}");
    assert_eq!(git(r.path(), &["rev-list", "--count", "HEAD"]).trim(), "1");

    std::fs::write(
        r.path().join(".env"),
        "AZURE_OPENAI_ENDPOINT=https://notes.openai.azure.com/\n",
    )
    .unwrap();
    git(r.path(), &["add", ".env"]);
    let o = commit(r.path(), home.path(), "azure endpoint");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "the fixed commit must pass:\n{out}");
    assert!(out.contains("phi-lint") && out.contains("Passed"), "{out}");
    assert_eq!(git(r.path(), &["rev-list", "--count", "HEAD"]).trim(), "2");
}
