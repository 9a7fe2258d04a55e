//! `check --staged`, `--diff`, `--files-from` and baselines, on real temporary git repositories.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{bin, findings, run_in, stdout, tree};

const BAD_ENV: &str = "APP=notes\nOPENAI_BASE_URL=https://api.openai.com/v1\n";
const GOOD_ENV: &str = "APP=notes\nAZURE_OPENAI_ENDPOINT=https://notes.openai.azure.com/\n";

pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A git repository holding `files`, all committed.
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tree(files);
    git(t.path(), &["init", "-q", "-b", "main"]);
    git(t.path(), &["config", "user.email", "test@example.com"]);
    git(t.path(), &["config", "user.name", "Test"]);
    git(t.path(), &["config", "commit.gpgsign", "false"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "--allow-empty", "-m", "init"]);
    t
}

fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn json(dir: &Path, extra: &[&str]) -> (Option<i32>, Vec<(String, String, u64)>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    (o.status.code(), findings(&o))
}

fn active(o: &std::process::Output) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn staged_checks_the_index_not_the_work_tree() {
    let r = repo(&[("README.md", "notes\n")]);
    // A violation is staged, the work tree holds the fix: the commit would carry the violation.
    write(r.path(), "config/.env", BAD_ENV);
    git(r.path(), &["add", "config/.env"]);
    write(r.path(), "config/.env", GOOD_ENV);
    let (code, f) = json(r.path(), &["--staged"]);
    assert_eq!(code, Some(1));
    assert_eq!(f, vec![("PHI101".into(), "config/.env".into(), 2)]);
    // A plain check reads the (fixed) work tree.
    assert_eq!(json(r.path(), &[]).1, vec![]);
    // Paths are relative to the working directory, also from a subfolder.
    std::fs::create_dir_all(r.path().join("src")).unwrap();
    assert_eq!(
        json(&r.path().join("src"), &["--staged"]).1,
        vec![("PHI101".into(), "../config/.env".into(), 2)]
    );
    // Paths given with --staged limit the staged files checked.
    assert_eq!(json(r.path(), &["--staged", "src"]).1, vec![]);

    // The reverse: the fix is staged, the work tree still has the violation.
    git(r.path(), &["add", "config/.env"]);
    write(r.path(), "config/.env", BAD_ENV);
    let (code, f) = json(r.path(), &["--staged"]);
    assert_eq!((code, f), (Some(0), vec![]));
    // Nothing staged at all: clean.
    git(r.path(), &["commit", "-q", "-m", "fix"]);
    assert_eq!(json(r.path(), &["--staged"]), (Some(0), vec![]));
}

/// Runs phi-lint in `dir` with a `git` first on PATH that refuses `cat-file` (and runs the
/// real git otherwise): a staged blob can then only come from the work tree.
fn without_cat_file(dir: &Path, extra: &[&str]) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    let shim = tempfile::tempdir().unwrap();
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = shim.path().join("git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = cat-file ] && exit 1; done\nexec {} \"$@\"\n",
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        shim.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    Command::new(bin())
        .args(&args)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn json_without_cat_file(dir: &Path, extra: &[&str]) -> (Option<i32>, Vec<(String, String, u64)>) {
    let o = without_cat_file(dir, extra);
    (o.status.code(), findings(&o))
}

/// Stages a file with a finding and checks it with `cat-file` refused: the work tree holds
/// the staged bytes, so git is asked for the list only. Returns the finding.
fn stage_and_read_from_the_work_tree(dir: &Path) -> Vec<(String, String, u64)> {
    write(dir, "config/.env", BAD_ENV);
    git(dir, &["add", "config/.env"]);
    let found = vec![("PHI101".to_string(), "config/.env".to_string(), 2)];
    assert_eq!(
        json_without_cat_file(dir, &["--staged"]),
        (Some(1), found.clone())
    );
    found
}

/// With `cat-file` refused, a staged file whose work-tree bytes are not the blob stops the run
/// with a message (exit 2) instead of passing unread.
fn assert_blob_asked_of_git(dir: &Path) {
    let o = without_cat_file(dir, &["--staged"]);
    let err = crate::support::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("git cat-file --batch did not return the staged blob"),
        "{err}"
    );
}

#[test]
fn staged_files_unchanged_since_add_are_read_from_the_work_tree() {
    let r = repo(&[("README.md", "notes\n")]);
    let found = stage_and_read_from_the_work_tree(r.path());
    // Edited after `git add`: the blob must come from git.
    write(r.path(), "config/.env", GOOD_ENV);
    assert_blob_asked_of_git(r.path());
    assert_eq!(json(r.path(), &["--staged"]), (Some(1), found.clone()));

    // Line endings converted on `git add`: the work tree (CRLF) is not the blob (LF), so the
    // blob comes from git too.
    git(r.path(), &["config", "core.autocrlf", "true"]);
    write(r.path(), "config/.env", &BAD_ENV.replace('\n', "\r\n"));
    git(r.path(), &["add", "config/.env"]);
    assert_blob_asked_of_git(r.path());
    assert_eq!(json(r.path(), &["--staged"]), (Some(1), found));
}

#[test]
fn staged_reads_a_sha256_repository() {
    let t = tree(&[("README.md", "notes\n")]);
    git(
        t.path(),
        &["init", "-q", "--object-format=sha256", "-b", "main"],
    );
    let found = stage_and_read_from_the_work_tree(t.path());
    write(t.path(), "config/.env", GOOD_ENV);
    assert_blob_asked_of_git(t.path());
    assert_eq!(json(t.path(), &["--staged"]), (Some(1), found));
}

#[test]
fn staged_works_in_a_linked_worktree() {
    // A linked worktree has a `.git` file, not a folder; its top level is found all the same.
    let r = repo(&[("README.md", "notes\n")]);
    let wt = tempfile::tempdir().unwrap();
    let wt_path = wt.path().join("wt");
    git(
        r.path(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "other",
            wt_path.to_str().unwrap(),
        ],
    );
    assert!(wt_path.join(".git").is_file());
    write(&wt_path, "config/.env", BAD_ENV);
    git(&wt_path, &["add", "config/.env"]);
    std::fs::create_dir_all(wt_path.join("src")).unwrap();
    assert_eq!(
        json(&wt_path.join("src"), &["--staged"]).1,
        vec![("PHI101".into(), "../config/.env".into(), 2)]
    );
    // The main work tree has nothing staged.
    assert_eq!(json(r.path(), &["--staged"]), (Some(0), vec![]));
}

#[test]
fn staged_skips_deleted_files_and_reads_yaml_and_json() {
    let r = repo(&[("old.env", BAD_ENV)]);
    git(r.path(), &["rm", "-q", "old.env"]);
    write(
        r.path(),
        "deploy/app.yaml",
        "llm:\n  base_url: https://api.openai.com/v1\n",
    );
    write(
        r.path(),
        "settings.json",
        "{\"endpoint\": \"https://api.openai.com/v1\"}\n",
    );
    write(r.path(), "notes.txt", "https://api.openai.com/v1\n");
    git(r.path(), &["add", "-A"]);
    let (code, f) = json(r.path(), &["--staged"]);
    assert_eq!(code, Some(1));
    let paths: Vec<&str> = f.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(paths, vec!["deploy/app.yaml", "settings.json"], "{f:?}");
    // Outside a git repository --staged is an error.
    let plain = tree(&[("a.env", BAD_ENV)]);
    let o = run_in(plain.path(), &["check", "--staged"]);
    if !plain.path().join("..").join(".git").exists() {
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    }
}

#[test]
fn diff_reports_only_changed_lines() {
    let r = repo(&[
        ("legacy.env", BAD_ENV),
        ("moved/old_name.env", BAD_ENV),
        ("keep.yaml", "a: 1\n"),
    ]);
    git(r.path(), &["checkout", "-q", "-b", "feature"]);
    // Old violation untouched; a new one added below an unrelated change.
    write(r.path(), "legacy.env", &format!("{BAD_ENV}DEBUG=1\n"));
    // A pure rename keeps its old violation unreported; a line added to it is reported.
    git(
        r.path(),
        &["mv", "moved/old_name.env", "moved/new_name.env"],
    );
    write(
        r.path(),
        "moved/new_name.env",
        &format!("{BAD_ENV}FALLBACK_URL=https://api.openai.com/v2\n"),
    );
    write(
        r.path(),
        "keep.yaml",
        "a: 1\nbase_url: https://api.openai.com/v1\n",
    );
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-q", "-m", "feature"]);
    // Untracked files count as wholly new.
    write(r.path(), "scratch.env", BAD_ENV);
    let (code, f) = json(r.path(), &["--diff", "main"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        f,
        vec![
            ("PHI101".into(), "keep.yaml".into(), 2),
            ("PHI101".into(), "moved/new_name.env".into(), 3),
            ("PHI101".into(), "scratch.env".into(), 2),
        ]
    );
    // Without --diff all of them are reported.
    assert_eq!(json(r.path(), &[]).1.len(), 5);
    // No change since the merge base: nothing to report.
    std::fs::remove_file(r.path().join("scratch.env")).unwrap();
    assert_eq!(json(r.path(), &["--diff", "HEAD"]), (Some(0), vec![]));
    // An unknown ref is an error.
    assert_eq!(
        run_in(r.path(), &["check", "--diff", "no-such-ref"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn files_from_a_file_and_stdin() {
    let t = tree(&[
        ("a.env", BAD_ENV),
        ("b/c.yaml", "url: https://api.openai.com/v1\n"),
        ("d.env", BAD_ENV),
        ("list.txt", "a.env\n\nb/c.yaml\r\n"),
    ]);
    let (code, f) = json(t.path(), &["--files-from", "list.txt"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        f.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
        vec!["a.env", "b/c.yaml"]
    );
    let mut child = Command::new(bin())
        .args(["check", "--format", "json", "--files-from", "-"])
        .current_dir(t.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"d.env\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(findings(&o), vec![("PHI101".into(), "d.env".into(), 2)]);
    // A missing list is an error.
    assert_eq!(
        run_in(t.path(), &["check", "--files-from", "nope.txt"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn baseline_write_check_stale_and_prune() {
    let t = tree(&[
        ("a.env", BAD_ENV),
        ("b.yaml", "url: https://api.openai.com/v1\n"),
    ]);
    let o = run_in(t.path(), &["baseline", "write"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let text = std::fs::read_to_string(t.path().join("phi-lint-baseline.toml")).unwrap();
    assert_eq!(text.matches("[[finding]]").count(), 2, "{text}");
    assert!(
        text.find("a.env").unwrap() < text.find("b.yaml").unwrap(),
        "sorted: {text}"
    );
    assert!(
        !text.contains("line =") && !text.contains("column"),
        "no line numbers: {text}"
    );
    // Writing twice gives the same bytes.
    run_in(t.path(), &["baseline", "write"]);
    assert_eq!(
        std::fs::read_to_string(t.path().join("phi-lint-baseline.toml")).unwrap(),
        text
    );
    // The baseline file itself is clean, and a check against it reports nothing new.
    let o = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "phi-lint-baseline.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(active(&o), vec![]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["suppressed"]["kind"], "baseline");
    assert_eq!(
        v["findings"][0]["suppressed"]["reason"],
        "in baseline phi-lint-baseline.toml"
    );
    // Moving the finding to another line keeps it baselined; a new finding is reported.
    write(
        t.path(),
        "a.env",
        &format!("# moved\n\n{BAD_ENV}EXTRA=https://api.openai.com/v2\n"),
    );
    let o = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "phi-lint-baseline.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(active(&o), vec![("PHI101".into(), "a.env".into(), 5)]);
    // Fixing b.yaml makes its entry stale: listed as a note, removed by prune.
    write(t.path(), "b.yaml", "url: https://notes.openai.azure.com/\n");
    let o = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--baseline",
            "phi-lint-baseline.toml",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes: Vec<String> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("stale baseline entry: PHI101 in b.yaml"),
        "{notes:?}"
    );
    // Checking only a.env does not call b.yaml's entry stale.
    let o = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--baseline",
            "phi-lint-baseline.toml",
            "a.env",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["notes"].as_array().unwrap().len(), 0, "{v}");
    let o = run_in(t.path(), &["baseline", "prune", "phi-lint-baseline.toml"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("removed 1"), "{}", stdout(&o));
    let pruned = std::fs::read_to_string(t.path().join("phi-lint-baseline.toml")).unwrap();
    assert_eq!(pruned.matches("[[finding]]").count(), 1);
    assert!(
        !pruned.contains("b.yaml") && pruned.contains("a.env"),
        "{pruned}"
    );
    // A custom output path, and a missing baseline is an error.
    assert_eq!(
        run_in(
            t.path(),
            &["baseline", "write", "a.env", "--output", "other.toml"]
        )
        .status
        .code(),
        Some(0)
    );
    assert!(t.path().join("other.toml").exists());
    assert_eq!(
        run_in(t.path(), &["check", "--baseline", "missing.toml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn baseline_never_holds_a_secret() {
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    let t = tree(&[("a.env", &format!("OPENAI_BASE_URL=https://api.openai.com/v1\nOPENAI_API_KEY={key}\nAZURE_OPENAI_API_KEY=0123456789abcdef0123456789abcdef\n"))]);
    run_in(t.path(), &["baseline", "write"]);
    let text = std::fs::read_to_string(t.path().join("phi-lint-baseline.toml")).unwrap();
    assert!(!text.contains(&key[8..]), "{text}");
    assert!(!text.contains("0123456789abcdef0123"), "{text}");
}
