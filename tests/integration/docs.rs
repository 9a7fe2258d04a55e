//! Generated files are committed and current: the README rule table and docs/rules.md.

use crate::support::repo_root;

fn check_or_bless(path: &std::path::Path, expected: &str) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current != expected {
        if std::env::var_os("PHI_LINT_BLESS").is_some() {
            std::fs::write(path, expected).unwrap();
            return;
        }
        panic!(
            "{} is out of date: run `PHI_LINT_BLESS=1 cargo test` and commit it",
            path.display()
        );
    }
}

#[test]
fn readme_rule_table_is_current() {
    let catalog = phi_lint::rule::builtin().unwrap();
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let expected = phi_lint::docs::splice_table(&readme, &phi_lint::docs::rules_table(&catalog))
        .expect("README has the rules-table markers");
    check_or_bless(&path, &expected);
}

#[test]
fn rules_markdown_is_current() {
    let catalog = phi_lint::rule::builtin().unwrap();
    check_or_bless(
        &repo_root().join("docs/rules.md"),
        &phi_lint::docs::rules_markdown(&catalog),
    );
}
