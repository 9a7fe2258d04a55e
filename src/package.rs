//! Which package a source file belongs to, as an identity string the rules' knowledge can
//! match (`[markers] provider-code` in `rules/knowledge.toml`).
//!
//! The identity is `<ecosystem>:<name>`:
//!
//! - `dotnet:<namespace>` and `java:<package>`: what the file declares: the first line that
//!   opens with `namespace X.Y` (C#) or `package x.y;` (Java), read from the text so the
//!   identity is known before the file is parsed;
//! - `npm:<name>`: the `name` of the nearest `package.json` above the file;
//! - `go:<module>/<folder>`: the `module` of the nearest `go.mod` plus the file's folder
//!   below it;
//! - `python:<package.path>`: the dotted path of the regular packages (folders with an
//!   `__init__.py`) holding the file.
//!
//! The walk up the folders stops at a repository boundary (a folder holding `.git`), so a
//! manifest outside the checked project is never read. Folder lookups are cached per folder
//! for the run: the check asks before parsing each file a rule that skips provider code would
//! check (a provider's file is then not parsed for those rules).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use crate::facts::Lang;

/// Manifests bigger than this are not read (a `package.json` is a few kilobytes).
const MANIFEST_LIMIT: u64 = 1024 * 1024;

/// The package identity of a file, when one can be told: `text` is the file's text.
pub fn identity(path: &Path, lang: Lang, text: &str) -> Option<String> {
    match lang {
        Lang::CSharp => declared(lang, text).map(|p| format!("dotnet:{p}")),
        Lang::Java => declared(lang, text).map(|p| format!("java:{p}")),
        Lang::JavaScript | Lang::TypeScript | Lang::Tsx | Lang::Go | Lang::Python => {
            let abs = std::path::absolute(path).ok()?;
            let dir = abs.parent()?;
            let kind = match lang {
                Lang::Go => Folder::Go,
                Lang::Python => Folder::Python,
                _ => Folder::Npm,
            };
            let key = (dir.to_path_buf(), kind);
            let cache = FOLDERS.get_or_init(Default::default);
            if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
                return hit;
            }
            let found = folder_identity(dir, kind);
            if let Ok(mut c) = cache.lock() {
                c.insert(key, found.clone());
            }
            found
        }
        _ => None,
    }
}

/// What a folder's files belong to, by ecosystem.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Folder {
    Npm,
    Go,
    Python,
}

/// Identities of the folders looked up so far in this run.
type FolderCache = Mutex<HashMap<(PathBuf, Folder), Option<String>>>;
static FOLDERS: OnceLock<FolderCache> = OnceLock::new();

/// The identity shared by the files of `dir` (an absolute path).
fn folder_identity(dir: &Path, kind: Folder) -> Option<String> {
    match kind {
        Folder::Npm => {
            let (_, text) = nearest(dir, "package.json")?;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            json.get("name")?
                .as_str()
                .filter(|n| !n.is_empty())
                .map(|n| format!("npm:{n}"))
        }
        Folder::Go => {
            let (root, text) = nearest(dir, "go.mod")?;
            let module = text.lines().find_map(|l| {
                let rest = l.trim().strip_prefix("module")?;
                rest.starts_with(char::is_whitespace)
                    .then(|| rest.trim().trim_matches('"').to_string())
            })?;
            let folder = dir.strip_prefix(&root).ok()?;
            let folder = folder.to_string_lossy().replace('\\', "/");
            Some(if folder.is_empty() {
                format!("go:{module}")
            } else {
                format!("go:{module}/{folder}")
            })
        }
        Folder::Python => {
            let mut segs = Vec::new();
            let mut dir = dir;
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
    }
}

/// The namespace (C#) or package (Java) a file declares: the first line that opens with
/// `namespace X.Y` or `package x.y;`. Comment lines (`//`, ` * `) do not open with the keyword.
pub fn declared(lang: Lang, text: &str) -> Option<&str> {
    static CSHARP: OnceLock<Regex> = OnceLock::new();
    static JAVA: OnceLock<Regex> = OnceLock::new();
    let re = match lang {
        Lang::CSharp => CSHARP.get_or_init(|| {
            Regex::new(r"(?m)^[ \t]*namespace[ \t]+@?([\w&&[^\d]]\w*(?:\.@?[\w&&[^\d]]\w*)*)")
                .unwrap()
        }),
        Lang::Java => JAVA.get_or_init(|| {
            Regex::new(r"(?m)^[ \t]*package[ \t]+([\w&&[^\d]]\w*(?:\.[\w&&[^\d]]\w*)*)[ \t]*;")
                .unwrap()
        }),
        _ => return None,
    };
    re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// The nearest file called `name` in the folder `dir` or above it, within the repository:
/// its folder and text.
fn nearest(dir: &Path, name: &str) -> Option<(PathBuf, String)> {
    let mut dir = dir;
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
        let ts = write(root, "packages/acme/src/convert.ts", "");
        write(
            root,
            "packages/acme/package.json",
            r#"{"name": "@acme/llm"}"#,
        );
        assert_eq!(
            identity(&ts, Lang::TypeScript, "").as_deref(),
            Some("npm:@acme/llm")
        );
        let app = write(root, "app/index.ts", "");
        assert_eq!(identity(&app, Lang::TypeScript, ""), None);

        let go = write(root, "sdk/azure/client.go", "");
        write(
            root,
            "sdk/go.mod",
            "// c\nmodule example.com/sdk/v2\n\ngo 1.22\n",
        );
        assert_eq!(
            identity(&go, Lang::Go, "").as_deref(),
            Some("go:example.com/sdk/v2/azure")
        );

        let py = write(root, "lib/acme_llm/images/edit.py", "");
        write(root, "lib/acme_llm/__init__.py", "");
        write(root, "lib/acme_llm/images/__init__.py", "");
        assert_eq!(
            identity(&py, Lang::Python, "").as_deref(),
            Some("python:acme_llm.images")
        );
        let script = write(root, "scripts/run.py", "");
        assert_eq!(identity(&script, Lang::Python, ""), None);

        let cs = "// namespace Not.This\nusing System;\n\nnamespace Acme.Llm.Chat\n{\n    namespace Inner;\n}\n";
        assert_eq!(
            identity(Path::new("x.cs"), Lang::CSharp, cs).as_deref(),
            Some("dotnet:Acme.Llm.Chat")
        );
        assert_eq!(
            identity(
                Path::new("x.cs"),
                Lang::CSharp,
                "namespace Acme.Llm;\nclass C {}\n"
            )
            .as_deref(),
            Some("dotnet:Acme.Llm")
        );
        let java =
            "/*\n * package not.this;\n */\n@Generated\npackage com.acme.llm;\nimport x.Y;\n";
        assert_eq!(
            identity(Path::new("X.java"), Lang::Java, java).as_deref(),
            Some("java:com.acme.llm")
        );
        assert_eq!(
            identity(Path::new("x.cs"), Lang::CSharp, "class C {}"),
            None
        );
    }
}
