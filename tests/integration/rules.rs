//! Every rule's fixtures pass, and every rule has both polarities in every language it claims.

use phi_lint::verify::{self, Outcome};

use crate::support::repo_root;

#[test]
fn every_fixture_case_passes() {
    let catalog = phi_lint::rule::builtin().expect("rules load");
    let s = verify::run(&catalog, &[repo_root().join("fixtures/rules")]);
    let bad: Vec<String> = s
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Missing | Outcome::Noisy))
        .map(|c| format!("{:?} {}:{} {}", c.outcome, c.path, c.line, c.rule))
        .collect();
    assert!(
        bad.is_empty(),
        "fixture failures:\n{}\nnotes:\n{}",
        bad.join("\n"),
        s.notes.join("\n")
    );
    assert!(s.count(Outcome::Validated) > 0 && s.count(Outcome::Clean) > 0);
}

#[test]
fn every_rule_has_both_polarities_in_every_language_it_claims() {
    let catalog = phi_lint::rule::builtin().expect("rules load");
    let s = verify::run(&catalog, &[repo_root().join("fixtures/rules")]);
    let mut missing = Vec::new();
    for r in &catalog.rules {
        let mut families: Vec<&str> = r.languages.iter().map(|l| l.family()).collect();
        families.dedup();
        for fam in families {
            let key = (r.info.id.clone(), fam.to_string());
            if !s.positive.contains(&key) {
                missing.push(format!("{} has no `ruleid:` fixture in {fam}", r.info.id));
            }
            if !s.negative.contains(&key) {
                missing.push(format!("{} has no `ok:` fixture in {fam}", r.info.id));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_rule_has_complete_docs() {
    let catalog = phi_lint::rule::builtin().expect("rules load");
    for r in &catalog.rules {
        let d = &r.info.docs;
        for (section, text) in [
            ("what", &d.what),
            ("why", &d.why),
            ("safeguard", &d.safeguard),
            ("bad", &d.bad),
            ("good", &d.good),
        ] {
            assert!(
                !text.trim().is_empty(),
                "{} has an empty `{section}` section",
                r.info.id
            );
        }
        assert!(
            d.safeguard.contains("CFR"),
            "{}: the safeguard names the HIPAA section",
            r.info.id
        );
        assert!(!r.message.is_empty(), "{} has no message", r.info.id);
        assert!(
            r.message.chars().next().is_some_and(|c| !c.is_uppercase()),
            "{}: messages start lowercase",
            r.info.id
        );
        assert!(
            !r.message.ends_with('.'),
            "{}: messages have no trailing period",
            r.info.id
        );
    }
}
