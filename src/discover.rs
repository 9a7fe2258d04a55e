//! Discovery: which files a run checks.
//!
//! A parallel walk with the `ignore` crate honours `.gitignore`, `.ignore` and git's exclude
//! files (with or without a git repository), scans hidden files and folders (`.env*`,
//! `.github/`, editor history such as `.history/`) but never `.git/`, and skips vendored
//! trees (`node_modules/`, virtualenvs, `site-packages/`, `vendor/`) and dependency lock
//! files unless asked. Paths named on the command line are always scanned. This module only
//! lists paths; reading and size checks happen in the checker.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::lang;

/// Folder names never descended into unless vendored trees are included.
pub const VENDORED_DIRS: &[&str] = &[
    "node_modules",
    "site-packages",
    "dist-packages",
    "vendor",
    "bower_components",
    "__pycache__",
    ".tox",
    ".nox",
    ".venv",
    ".mypy_cache",
    ".pytest_cache",
    ".terraform",
];

/// How to walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    pub include_vendored: bool,
    pub follow_links: bool,
    pub threads: usize,
    /// Globs (relative paths) excluded from the walk.
    pub exclude: Option<globset::GlobSet>,
    /// Apply `exclude` to paths named on the command line too.
    pub force_exclude: bool,
}

/// A file to check and how it was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    /// Named explicitly on the command line.
    pub explicit: bool,
}

/// Sorts candidates as `sort` does (by `Path`, component by component, then `explicit`) at the
/// cost of byte comparisons: a path's bytes with each separator made the lowest byte compare
/// as its components do, as the walk yields no `.` components and no repeated or trailing
/// separators. Comparing components cost 30 ms of the main thread for the 37k files of the
/// sparse benchmark tree, before any file is checked.
fn sort_candidates(files: &mut [Candidate]) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        files.sort_by_cached_key(|c| {
            let key: Vec<u8> = c
                .path
                .as_os_str()
                .as_bytes()
                .iter()
                .map(|&b| if b == b'/' { 0 } else { b })
                .collect();
            (key, c.explicit)
        });
    }
    #[cfg(not(unix))]
    files.sort();
}

/// Dependency lock files phi-lint would read (by their extension), written by package
/// managers: package names, versions and hashes, never code or configuration a developer writes.
/// Skipped with the vendored trees: a lock file is parsed as a whole (pnpm's, 0.8 MB, took 38 MB
/// and 0.2 s in the dense benchmark tree, the run's peak memory) and never had a finding there.
pub const LOCK_FILES: &[&str] = &[
    "pnpm-lock.yaml",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "packages.lock.json",
];

/// Whether a file name is a dependency lock file ([`LOCK_FILES`]).
pub fn is_lock_file(name: &str) -> bool {
    LOCK_FILES.contains(&name)
}

/// Whether a directory is a vendored tree phi-lint skips by default.
pub fn is_vendored_dir(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    VENDORED_DIRS.contains(&name) || path.join("pyvenv.cfg").is_file()
}

/// Whether a file name is a minified or generated bundle.
pub fn is_minified_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".min.js")
        || n.ends_with(".min.mjs")
        || n.ends_with(".bundle.js")
        || n.ends_with(".min.css")
        || n.ends_with(".map")
}

/// Whether `path` resolves (all links followed) to somewhere under `canon_root`, itself
/// canonical. Paths that cannot be resolved (dangling links, loops) count as outside.
pub fn inside(canon_root: &Path, path: &Path) -> bool {
    path.canonicalize().is_ok_and(|p| p.starts_with(canon_root))
}

fn excluded(opts: &WalkOptions, path: &Path) -> bool {
    let Some(set) = &opts.exclude else {
        return false;
    };
    let rel = path.strip_prefix(".").unwrap_or(path);
    set.is_match(rel)
        || rel
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && set.is_match(a))
}

/// Lists the files to check under `roots`, sorted and de-duplicated; problems (unreadable
/// folders, loops) come back as notes `(path, message)`.
pub fn walk(roots: &[PathBuf], opts: &WalkOptions) -> (Vec<Candidate>, Vec<(String, String)>) {
    let found = Mutex::new(Vec::new());
    let notes = Mutex::new(Vec::new());
    let escaped = std::sync::Arc::new(Mutex::new(Vec::new()));
    for root in roots {
        if root.is_file() {
            if opts.force_exclude && excluded(opts, root) {
                continue;
            }
            found.lock().unwrap().push(Candidate {
                path: root.clone(),
                explicit: true,
            });
            continue;
        }
        if !root.exists() {
            notes.lock().unwrap().push((
                root.display().to_string(),
                "path does not exist".to_string(),
            ));
            continue;
        }
        let mut b = WalkBuilder::new(root);
        b.hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(opts.follow_links)
            .threads(opts.threads.max(1));
        let include_vendored = opts.include_vendored;
        let root_owned = root.clone();
        // With --follow-links, a link is followed only when its target stays under the root.
        let containment = if opts.follow_links {
            match root.canonicalize() {
                Ok(c) => Some((c, std::sync::Arc::clone(&escaped))),
                Err(e) => {
                    notes
                        .lock()
                        .unwrap()
                        .push((root.display().to_string(), format!("skipped: {e}")));
                    continue;
                }
            }
        } else {
            None
        };
        b.filter_entry(move |e| {
            if let Some((canon_root, escaped)) = &containment {
                if e.path_is_symlink() && !inside(canon_root, e.path()) {
                    escaped.lock().unwrap().push((
                        e.path().display().to_string(),
                        "skipped: symbolic link points outside the checked root (not followed)"
                            .to_string(),
                    ));
                    return false;
                }
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if !is_dir {
                return true;
            }
            if e.file_name() == ".git" {
                return false;
            }
            // The root itself is always entered, even when it is vendored.
            if e.path() == root_owned {
                return true;
            }
            include_vendored || !is_vendored_dir(e.path())
        });
        b.build_parallel().run(|| {
            let found = &found;
            let notes = &notes;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file())
                            && lang::detect(e.path()).is_some()
                            && (opts.include_vendored
                                || !e.file_name().to_str().is_some_and(is_lock_file))
                            && !excluded(opts, e.path())
                        {
                            let c = Candidate {
                                path: e.path().to_path_buf(),
                                explicit: false,
                            };
                            found.lock().unwrap().push(c);
                        }
                    }
                    Err(err) => {
                        let path = match &err {
                            ignore::Error::WithPath { path, .. } => path.display().to_string(),
                            _ => String::new(),
                        };
                        notes
                            .lock()
                            .unwrap()
                            .push((path, format!("skipped: {err}")));
                    }
                }
                WalkState::Continue
            })
        });
    }
    let mut files = found.into_inner().unwrap();
    sort_candidates(&mut files);
    files.dedup_by(|a, b| a.path == b.path);
    let mut notes = notes.into_inner().unwrap();
    notes.append(&mut escaped.lock().unwrap());
    notes.sort();
    notes.dedup();
    (files, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_are_skipped_with_the_vendored_trees() {
        let root = tempfile::tempdir().unwrap();
        for name in [
            "pnpm-lock.yaml",
            "package-lock.json",
            "app.yaml",
            "package.json",
        ] {
            std::fs::write(root.path().join(name), "x: 1\n").unwrap();
        }
        let names = |include_vendored: bool| -> Vec<String> {
            let opts = WalkOptions {
                include_vendored,
                threads: 1,
                ..WalkOptions::default()
            };
            let (found, _) = walk(&[root.path().to_path_buf()], &opts);
            found
                .iter()
                .map(|c| c.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(false), ["app.yaml", "package.json"]);
        assert_eq!(
            names(true),
            [
                "app.yaml",
                "package-lock.json",
                "package.json",
                "pnpm-lock.yaml"
            ]
        );
        // Named on the command line, it is checked.
        let lock = root.path().join("pnpm-lock.yaml");
        let (found, _) = walk(std::slice::from_ref(&lock), &WalkOptions::default());
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn candidates_sort_as_paths_do() {
        let paths = [
            "t/a-b/x.py",
            "t/a/b.py",
            "t/a.b",
            "t/a/b/c.py",
            "t/a0",
            "t/a",
            "t/A/z.py",
            "t/a/b",
            "t/é/x.py",
            "t/a b/x",
            "t/ab/x",
            "t/a/b.py",
        ];
        let mut fast: Vec<Candidate> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| Candidate {
                path: PathBuf::from(p),
                explicit: i % 2 == 0,
            })
            .collect();
        let mut slow = fast.clone();
        slow.sort();
        sort_candidates(&mut fast);
        assert_eq!(fast, slow);
    }
}
