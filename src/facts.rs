//! The language-neutral facts model that every frontend produces and every rule matches on.
//!
//! A frontend (tree-sitter for Python, JS/TS, C#, Java, Go; `syn` for Rust; real parsers for the
//! config formats) turns one file into a [`Facts`]: imports with aliases resolved, calls with
//! their arguments and each argument's value kind, assignments, string literals, comments,
//! config entries and IaC blocks. Rules never see a syntax tree, so one rule written against
//! these facts covers every language it names. Spans are byte ranges into the file's text; they
//! become lines and columns only when printed. This module holds data and the small pure
//! helpers on it (import resolution, reference collection); matching lives in `engine`.

use std::collections::HashMap;
use std::ops::Range;

/// A byte range into the source text.
pub type Span = Range<usize>;

/// Every language or format a frontend understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
    CSharp,
    Java,
    Go,
    Rust,
    Env,
    Yaml,
    Json,
    Toml,
    Ini,
    Dockerfile,
    Hcl,
    Bicep,
    Notebook,
}

impl Lang {
    /// Every language, in a stable order (used by `phi-lint rules` and the meta tests).
    pub const ALL: [Lang; 17] = [
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::CSharp,
        Lang::Java,
        Lang::Go,
        Lang::Rust,
        Lang::Env,
        Lang::Yaml,
        Lang::Json,
        Lang::Toml,
        Lang::Ini,
        Lang::Dockerfile,
        Lang::Hcl,
        Lang::Bicep,
        Lang::Notebook,
    ];

    /// The name used in rule files (`languages = ["python", "typescript"]`).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::CSharp => "csharp",
            Lang::Java => "java",
            Lang::Go => "go",
            Lang::Rust => "rust",
            Lang::Env => "env",
            Lang::Yaml => "yaml",
            Lang::Json => "json",
            Lang::Toml => "toml",
            Lang::Ini => "ini",
            Lang::Dockerfile => "dockerfile",
            Lang::Hcl => "hcl",
            Lang::Bicep => "bicep",
            Lang::Notebook => "notebook",
        }
    }

    pub fn from_name(name: &str) -> Option<Lang> {
        Lang::ALL.iter().copied().find(|l| l.name() == name)
    }

    /// Source languages hold code (calls, flow); the rest hold configuration.
    pub fn is_code(self) -> bool {
        matches!(
            self,
            Lang::Python
                | Lang::JavaScript
                | Lang::TypeScript
                | Lang::Tsx
                | Lang::CSharp
                | Lang::Java
                | Lang::Go
                | Lang::Rust
                | Lang::Notebook
        )
    }

    /// JavaScript and its dialects share rule patterns.
    pub fn family(self) -> &'static str {
        match self {
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => "javascript",
            other => other.name(),
        }
    }
}

/// What an argument, an assigned value or a config value is, as far as a frontend can tell
/// without evaluating anything.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string literal, unescaped where the frontend could.
    Str(String),
    /// An f-string, template literal, concatenation or format call: literal parts and holes.
    Template(Vec<Part>),
    /// A read of an environment variable or a configuration key (`os.environ["X"]`,
    /// `process.env.X`, `IConfiguration["X"]`, `@Value("${x}")`), with a literal fallback if any.
    Env {
        name: String,
        fallback: Option<Box<Value>>,
    },
    /// A name or member chain as written (`client`, `self.client`, `resp.choices[0].message`).
    Ident(String),
    Bool(bool),
    Number(String),
    Null,
    /// An object literal, dict, keyword bag, C# object initializer, Go composite literal.
    Object(Vec<Arg>),
    /// A list, array or tuple.
    Array(Vec<Value>),
    /// The result of the call at this index in [`Facts::calls`].
    Call(usize),
    /// A lambda or function value; carries the names it references so flow can follow them.
    Other(Vec<String>),
}

/// A part of a [`Value::Template`].
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Hole(Value),
}

/// One argument of a call, or one entry of an object literal.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// Keyword / property / builder-method name; `None` for positional arguments.
    pub name: Option<String>,
    pub value: Value,
    /// The span of the value expression.
    pub span: Span,
}

/// A call or constructor invocation (`new X(...)`, `X(...)`, `x.y.z(...)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The callee as written, member chain joined with `.` (`client.chat.completions.create`,
    /// `OpenAI`, `openai.ChatCompletion.create`). Index and call segments are dropped:
    /// `a.b().c` becomes `a.b.c`.
    pub callee: String,
    /// The callee with its first segment replaced through the file's imports
    /// (`AO` → `openai.AzureOpenAI`). Equal to `callee` when nothing resolves. Filled by
    /// [`Facts::resolve_imports`].
    pub qualified: String,
    /// Constructed with `new`.
    pub is_new: bool,
    pub args: Vec<Arg>,
    /// The whole call expression.
    pub span: Span,
    /// The callee expression only (where a finding about "this client" points).
    pub callee_span: Span,
    /// Index into [`Facts::scopes`] of the innermost function holding the call (0 = module).
    pub scope: usize,
    /// When the call is the receiver of another call (`a.b(x).c(y)`), the index of the call
    /// it feeds; builders use it to see a chain as one construction.
    pub chained_into: Option<usize>,
    /// A decorator (`@observe(...)`, `[Attr]`, `@Value`), not an ordinary call.
    pub decorator: bool,
}

/// `target = value`, including declarations, keyword defaults and attribute writes. A
/// `return value` statement is an assignment to the target `return` in the function's scope.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    /// The name or member chain assigned (`client`, `self.client`, `openai.api_type`).
    pub target: String,
    pub value: Value,
    /// The span of the value.
    pub span: Span,
    pub scope: usize,
}

/// A string literal anywhere in code (not in comments), with its decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub value: String,
    /// The span of the whole literal including quotes.
    pub span: Span,
    /// Byte offset of the literal's content (after the opening quote). When
    /// `raw_is_value` is true, `value[i]` sits at `content_start + i` in the file.
    pub content_start: usize,
    pub raw_is_value: bool,
}

/// A comment's text (delimiters included) and span.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// An import: `local` names the module path or member `path` in this file.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub local: String,
    /// Dotted for Python (`openai.AzureOpenAI`), the module specifier for JS default imports
    /// (`openai`), specifier + `.` + member for named JS imports (`@langchain/openai.ChatOpenAI`).
    pub path: String,
    pub span: Span,
}

/// A function (or method, lambda body, closure) for flow: its parameters in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scope {
    pub name: String,
    pub params: Vec<String>,
    pub span: Span,
    /// The enclosing scope.
    pub parent: usize,
}

/// A key path with a value from a config file or an environment assignment
/// (`spring.ai.openai.base-url`, `OPENAI_BASE_URL`, `services.api.environment.X`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigEntry {
    /// Segments joined with `.`; list indices are dropped.
    pub key: String,
    pub value: Value,
    pub key_span: Span,
    pub value_span: Span,
    /// Index into [`Facts::blocks`] of the innermost IaC block holding the entry.
    pub block: Option<usize>,
}

/// An IaC resource or similar block: Terraform `resource "type" "name" {}`, a Bicep
/// `resource x 'Type@ver' = {}`, an ARM `resources[]` element.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The resource type (`azurerm_cognitive_account`, `Microsoft.CognitiveServices/accounts`).
    pub kind: String,
    pub name: String,
    /// Where a finding about an absent attribute points (the header).
    pub span: Span,
    /// Whether the block only references an existing resource (Bicep `existing`, Terraform data).
    pub existing: bool,
}

/// Everything a frontend knows about one file.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub imports: Vec<Import>,
    pub calls: Vec<Call>,
    pub assigns: Vec<Assign>,
    pub strings: Vec<StrLit>,
    pub comments: Vec<Comment>,
    /// Index 0 is the module scope.
    pub scopes: Vec<Scope>,
    pub config: Vec<ConfigEntry>,
    pub blocks: Vec<Block>,
    /// The parser reported errors; facts are what it recovered.
    pub parse_errors: bool,
    /// A note for the user about this file (parse cut off, part skipped, ...).
    pub notes: Vec<String>,
    /// Lookup tables, built on first use ([`Facts::index`]).
    index: Index,
}

/// Lookup tables over one file's facts, so that following a name or a call site costs a hash
/// lookup, not a scan of every assignment or call (a minified bundle has 100,000 of each).
/// Built on first use, once the frontend is done; a clone starts without them, as a clone
/// may be added to (a Terraform module's folder assignments).
#[derive(Debug, Default)]
struct Index(std::sync::OnceLock<Tables>);

impl Clone for Index {
    fn clone(&self) -> Index {
        Index::default()
    }
}

#[derive(Debug, Default)]
pub struct Tables {
    /// Assignments (indices, in order) by scope and target.
    pub assigns: HashMap<(usize, String), Vec<usize>>,
    /// Assignments (indices, in order) by target, in any scope.
    pub assigns_to: HashMap<String, Vec<usize>>,
    /// Calls (indices, in order) by the last segment of their callee.
    pub calls_by_name: HashMap<String, Vec<usize>>,
    /// Method calls (indices, in order) by the object of their callee (`a.b` of `a.b.c`).
    pub calls_on: HashMap<String, Vec<usize>>,
    /// Scopes (indices, in order, the module scope left out) by name.
    pub scopes_named: HashMap<String, Vec<usize>>,
    /// Calls (indices, in order) by the call their result is chained into.
    pub chained_into: HashMap<usize, Vec<usize>>,
}

impl Facts {
    pub fn new() -> Facts {
        Facts {
            scopes: vec![Scope::default()],
            ..Facts::default()
        }
    }

    /// The lookup tables of these facts, built on the first call: the facts must be complete.
    pub fn index(&self) -> &Tables {
        self.index.0.get_or_init(|| {
            let mut t = Tables::default();
            for (i, a) in self.assigns.iter().enumerate() {
                t.assigns
                    .entry((a.scope, a.target.clone()))
                    .or_default()
                    .push(i);
                t.assigns_to.entry(a.target.clone()).or_default().push(i);
            }
            for (i, sc) in self.scopes.iter().enumerate().skip(1) {
                t.scopes_named.entry(sc.name.clone()).or_default().push(i);
            }
            for (i, c) in self.calls.iter().enumerate() {
                let last = c.callee.rsplit('.').next().unwrap_or("");
                t.calls_by_name.entry(last.to_string()).or_default().push(i);
                if let Some((object, _)) = c.callee.rsplit_once('.') {
                    t.calls_on.entry(object.to_string()).or_default().push(i);
                }
                if let Some(j) = c.chained_into {
                    t.chained_into.entry(j).or_default().push(i);
                }
            }
            t
        })
    }

    /// Fills [`Call::qualified`] from [`Facts::imports`]: the callee's first segment, if it is
    /// an imported name, is replaced by the import path.
    pub fn resolve_imports(&mut self) {
        let map: HashMap<&str, &str> = self
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        for call in &mut self.calls {
            call.qualified = resolve(&map, &call.callee);
        }
    }

    /// The import path a local name resolves to, or the name itself.
    pub fn qualify(&self, name: &str) -> String {
        let map: HashMap<&str, &str> = self
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.path.as_str()))
            .collect();
        resolve(&map, name)
    }
}

fn resolve(map: &HashMap<&str, &str>, dotted: &str) -> String {
    let (head, rest) = match dotted.find('.') {
        Some(i) => (&dotted[..i], &dotted[i..]),
        None => (dotted, ""),
    };
    match map.get(head) {
        Some(path) => format!("{path}{rest}"),
        None => dotted.to_string(),
    }
}

impl Value {
    /// The names this value reads (identifier roots with their member chains), recursively.
    // `calls` is part of the signature so callers can later follow call arguments.
    #[allow(clippy::only_used_in_recursion)]
    pub fn refs(&self, out: &mut Vec<String>, calls: &[Call]) {
        match self {
            Value::Ident(name) => out.push(name.clone()),
            Value::Template(parts) => {
                for p in parts {
                    if let Part::Hole(v) = p {
                        v.refs(out, calls);
                    }
                }
            }
            Value::Env { fallback, .. } => {
                if let Some(f) = fallback {
                    f.refs(out, calls);
                }
            }
            Value::Object(args) => {
                for a in args {
                    a.value.refs(out, calls);
                }
            }
            Value::Array(items) => {
                for v in items {
                    v.refs(out, calls);
                }
            }
            Value::Other(names) => out.extend(names.iter().cloned()),
            Value::Call(_) | Value::Str(_) | Value::Bool(_) | Value::Number(_) | Value::Null => {}
        }
    }

    /// The literal string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The first segment of a member chain (`self.client.chat` → `self`, `resp.choices[0]` → `resp`).
pub fn root_of(name: &str) -> &str {
    let end = name.find(['.', '[', '(']).unwrap_or(name.len());
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(callee: &str, chained_into: Option<usize>) -> Call {
        Call {
            callee: callee.into(),
            qualified: String::new(),
            is_new: false,
            args: vec![],
            span: 0..0,
            callee_span: 0..0,
            scope: 0,
            chained_into,
            decorator: false,
        }
    }

    #[test]
    fn resolves_first_segment_through_imports() {
        let mut f = Facts::new();
        f.imports.push(Import {
            local: "AO".into(),
            path: "openai.AzureOpenAI".into(),
            span: 0..0,
        });
        f.calls.push(call("AO", None));
        f.resolve_imports();
        assert_eq!(f.calls[0].qualified, "openai.AzureOpenAI");
        assert_eq!(f.qualify("AO.x"), "openai.AzureOpenAI.x");
        assert_eq!(f.qualify("other"), "other");
    }

    #[test]
    fn the_index_finds_what_a_scan_would_and_a_clone_builds_its_own() {
        let assign = |target: &str, scope: usize| Assign {
            target: target.into(),
            value: Value::Null,
            span: 0..0,
            scope,
        };
        let mut f = Facts::new();
        f.scopes.push(Scope {
            name: "ask".into(),
            params: vec![],
            span: 0..0,
            parent: 0,
        });
        f.calls = vec![
            call("client.chat.create", None),
            call("ask", Some(0)),
            call("self.ask", Some(0)),
        ];
        f.assigns = vec![assign("x", 0), assign("x", 1), assign("x", 0)];
        let t = f.index();
        assert_eq!(t.assigns[&(0, "x".to_string())], vec![0, 2]);
        assert_eq!(t.assigns_to["x"], vec![0, 1, 2]);
        assert_eq!(t.calls_by_name["ask"], vec![1, 2]);
        assert_eq!(t.calls_on["client.chat"], vec![0]);
        assert_eq!(t.chained_into[&0], vec![1, 2]);
        assert_eq!(t.scopes_named["ask"], vec![1]);
        // A clone may be added to (a Terraform module's folder assignments): its tables are
        // built from what it holds when first asked.
        let mut g = f.clone();
        g.assigns.push(assign("y", 0));
        assert!(g.index().assigns_to.contains_key("y"));
        assert!(!f.index().assigns_to.contains_key("y"));
    }

    #[test]
    fn root_of_member_chains() {
        assert_eq!(root_of("self.client.chat"), "self");
        assert_eq!(root_of("resp[0].x"), "resp");
        assert_eq!(root_of("plain"), "plain");
    }
}
