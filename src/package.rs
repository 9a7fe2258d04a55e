//! Which package a source file belongs to, as an identity string the rules' knowledge can
//! match (`[markers] provider-code` in `rules/knowledge.toml`).
//!
//! The identity is `<ecosystem>:<name>`:
//!
//! - `dotnet:<namespace>` and `java:<package>`: what the file declares (from its facts);
//! - `npm:<name>`: the `name` of the nearest `package.json` above the file;
//! - `go:<module>/<folder>`: the `module` of the nearest `go.mod` plus the file's folder
//!   below it;
//! - `python:<package.path>`: the dotted path of the regular packages (folders with an
//!   `__init__.py`) holding the file.
//!
//! The walk up the folders stops at a repository boundary (a folder holding `.git`), so a
//! manifest outside the checked project is never read. Only called for files where a rule
//! that skips provider code has a hit, so the few reads it does are rare.

use std::path::Path;

use crate::facts::{Facts, Lang};

/// Manifests bigger than this are not read (a `package.json` is a few kilobytes).
const MANIFEST_LIMIT: u64 = 1024 * 1024;

/// The package identity of a file, when one can be told.
pub fn identity(path: &Path, lang: Lang, facts: &Facts) -> Option<String> {
    match lang {
        Lang::CSharp => facts.package.as_ref().map(|p| format!("dotnet:{p}")),
        Lang::Java => facts.package.as_ref().map(|p| format!("java:{p}")),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx => {
            let (_, text) = nearest(path, "package.json")?;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            json.get("name")?
                .as_str()
                .filter(|n| !n.is_empty())
                .map(|n| format!("npm:{n}"))
        }
        Lang::Go => {
            let (dir, text) = nearest(path, "go.mod")?;
            let module = text.lines().find_map(|l| {
                let rest = l.trim().strip_prefix("module")?;
                rest.starts_with(char::is_whitespace)
                    .then(|| rest.trim().trim_matches('"').to_string())
            })?;
            let folder = path.parent()?.strip_prefix(&dir).ok()?;
            let folder = folder.to_string_lossy().replace('\\', "/");
            Some(if folder.is_empty() {
                format!("go:{module}")
            } else {
                format!("go:{module}/{folder}")
            })
        }
        Lang::Python => {
            let mut segs = Vec::new();
            let mut dir = path.parent()?;
            while dir.join("__init__.py").is_file() && segs.len() < 64 {
                segs.push(dir.file_name()?.to_string_lossy().to_string());
                match dir.parent() {
                    Some(p) => dir = p,
                    None => break,
                }
            }
            if segs.is_empty() {
                return None;
            }
            segs.reverse();
            Some(format!("python:{}", segs.join(".")))
        }
        _ => None,
    }
}

/// The nearest file called `name` in the file's folder or above it, within the repository:
/// its folder and text.
fn nearest(path: &Path, name: &str) -> Option<(std::path::PathBuf, String)> {
    let abs = std::path::absolute(path).ok()?;
    let mut dir = abs.parent()?;
    loop {
        let candidate = dir.join(name);
        if candidate.is_file() {
            let len = candidate.metadata().ok()?.len();
            if len > MANIFEST_LIMIT {
                return None;
            }
            let text = std::fs::read_to_string(&candidate).ok()?;
            return Some((dir.to_path_buf(), text));
        }
        if dir.join(".git").exists() {
            return None;
        }
        dir = dir.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) -> std::path::PathBuf {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn manifests_and_declarations_name_the_package() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir(root.join(".git")).unwrap();
        let none = Facts::new();
        let ts = write(root, "packages/acme/src/convert.ts", "");
        write(
            root,
            "packages/acme/package.json",
            r#"{"name": "@acme/llm"}"#,
        );
        assert_eq!(
            identity(&ts, Lang::TypeScript, &none).as_deref(),
            Some("npm:@acme/llm")
        );
        let app = write(root, "app/index.ts", "");
        assert_eq!(identity(&app, Lang::TypeScript, &none), None);

        let go = write(root, "sdk/azure/client.go", "");
        write(
            root,
            "sdk/go.mod",
            "// c\nmodule example.com/sdk/v2\n\ngo 1.22\n",
        );
        assert_eq!(
            identity(&go, Lang::Go, &none).as_deref(),
            Some("go:example.com/sdk/v2/azure")
        );

        let py = write(root, "lib/acme_llm/images/edit.py", "");
        write(root, "lib/acme_llm/__init__.py", "");
        write(root, "lib/acme_llm/images/__init__.py", "");
        assert_eq!(
            identity(&py, Lang::Python, &none).as_deref(),
            Some("python:acme_llm.images")
        );
        let script = write(root, "scripts/run.py", "");
        assert_eq!(identity(&script, Lang::Python, &none), None);

        let mut cs = Facts::new();
        cs.package = Some("Acme.Llm.Chat".into());
        assert_eq!(
            identity(Path::new("x.cs"), Lang::CSharp, &cs).as_deref(),
            Some("dotnet:Acme.Llm.Chat")
        );
    }
}
