//! The rule file format: serde types for one rule TOML and for `rules/knowledge.toml`.
//!
//! These `*Spec` types mirror the files exactly and reject unknown keys; `rule::compile` turns
//! them into the matchers the engine runs, reporting errors with a span into the file. The
//! format is documented for users in `rules/README.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diagnostic::RuleDocs;

/// One rule file.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    /// Format version of the rule file; 1 today.
    #[serde(default = "one")]
    pub schema: u32,
    pub id: String,
    pub name: String,
    pub severity: String,
    pub summary: String,
    pub languages: Vec<String>,
    /// Words of which at least one must occur in a file before the rule runs on it.
    pub keywords: Vec<String>,
    /// A second keyword group: when given, one of these must also occur in a file before the
    /// rule runs on it (for rules whose generic `keywords` need a second, specific cue, such
    /// as an LLM call for the flow rules).
    #[serde(default)]
    pub keywords_also: Vec<String>,
    /// Default message; may use `{callee}`, `{value}`, `{arg}`, `{provider}`, `{vendor}`, `{key}`.
    pub message: String,
    pub help: String,
    pub docs: RuleDocs,
    /// Path globs no match of this rule applies to (added to every match's `exclude-paths`).
    #[serde(default)]
    pub exclude_paths: Vec<String>,
    /// The rule is about applications: files that are the implementation of an LLM SDK or
    /// provider (`[markers] provider-code` in knowledge.toml: the file's namespace, package or
    /// manifest name) are not checked, unless the config's `check-provider-code` selects it.
    #[serde(default)]
    pub skip_provider_code: bool,
    /// The rule is about code and config that call an API: API descriptions (a YAML or JSON
    /// file whose top level sets `openapi` or `swagger`, whatever its name) are not checked.
    #[serde(default)]
    pub skip_api_descriptions: bool,
    #[serde(rename = "match")]
    pub matches: Vec<MatchSpec>,
}

fn one() -> u32 {
    1
}

/// One way a rule can match. Each kind reads the fields it documents and rejects the others
/// at compile time.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MatchSpec {
    /// `call`, `string`, `config`, `block`, `flow` or `suppression` (findings about suppression
    /// comments, produced by phi-lint itself; only for the PHI90x rules).
    pub kind: String,
    /// Restrict this match to some of the rule's languages.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Overrides the rule's message for this match.
    pub message: Option<String>,
    /// A vendor name the envelope can cover (`sentry`, `langfuse`); covered → no finding.
    pub vendor: Option<String>,
    /// A provider name the envelope can approve (`anthropic`); approved → no finding.
    pub provider: Option<String>,

    // --- kind = "call"
    /// Glob patterns (`*` = any text) over the import-resolved callee.
    #[serde(default)]
    pub callee: Vec<String>,
    /// Callee globs not to report even when `callee` matches them (`anthropic.tools.*`: a
    /// provider's tool factories build a tool definition and send nothing).
    #[serde(default)]
    pub not_callee: Vec<String>,
    /// The callee's root name must hold an object built by a call matching one of these.
    #[serde(default)]
    pub receiver: Vec<String>,
    /// Every condition must hold.
    #[serde(default)]
    pub when: Vec<CondSpec>,
    /// No condition may hold.
    #[serde(default)]
    pub unless: Vec<CondSpec>,
    /// Only constructor calls (`new`) or only plain calls.
    pub new: Option<bool>,
    /// Only decorators, or never decorators (default: both).
    pub decorator: Option<bool>,
    /// `call` (default), `callee`, or `arg` (the value of the first `when` condition with an `arg`).
    pub report: Option<String>,

    // --- file-level conditions (call, string, config, flow)
    /// The match applies only when the file imports one of these (glob over import paths).
    #[serde(default)]
    pub if_imports: Vec<String>,
    /// The match does not apply when the file assigns one of these targets a value matching.
    #[serde(default)]
    pub unless_assigned: Vec<AssignCondSpec>,
    /// The match does not apply when one of these variables is set in the project's config files;
    /// `NAME=REGEX` requires the value to match REGEX (case-insensitive) as well.
    #[serde(default)]
    pub unless_project_sets: Vec<String>,
    /// The match applies only when the file (or, for config, the project) has a call matching.
    #[serde(default)]
    pub if_calls: Vec<String>,
    /// The match does not apply when the file's text matches this regex anywhere.
    pub unless_text: Option<String>,
    /// Keywords of this match: it can only match a file holding one of them (compared
    /// ASCII-case-insensitively, like the rule's `keywords`). Call matches get theirs from
    /// `callee`, `receiver`, `if-calls` and `if-imports` without being told; these add to those.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Regex over the file's raw text: the match can only match a file where it matches
    /// (for secrets: the shape of the key, without the literal's boundaries).
    pub text_pattern: Option<String>,
    /// Path globs the match applies to / does not apply to.
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub exclude_paths: Vec<String>,

    // --- kind = "string"
    /// Regex over string literal values; a capture group named `hit` narrows the span.
    pub pattern: Option<String>,
    /// Regexes: the string (for `config`: the entry's value) is not reported when its value
    /// matches one.
    #[serde(default)]
    pub not_pattern: Vec<String>,
    /// Where strings are taken from: `code`, `config` (default both).
    #[serde(default)]
    pub r#in: Vec<String>,
    /// Regex the name a string is bound to (assignment target, argument name, config key) must
    /// match; for context-gated secrets.
    pub context: Option<String>,
    /// The matched text is a secret: redact it in every output.
    #[serde(default)]
    pub secret: bool,
    /// Minimum Shannon entropy (bits per char) of the matched text.
    pub entropy: Option<f64>,

    // --- kind = "config"
    /// Regex over the config key path.
    pub key: Option<String>,
    /// Regex over the value's text (absent = any value).
    pub value: Option<String>,
    /// No finding when the same file has an entry whose key and value match.
    #[serde(default)]
    pub unless_entry: Vec<EntryCondSpec>,
    /// Also read object literals assigned at module level in code (`exports.config = {...}`)
    /// as entries keyed `target.key.sub`.
    #[serde(default)]
    pub objects: bool,

    // --- kind = "block"
    #[serde(default)]
    pub block: Vec<String>,
    /// Attribute conditions that select the block (all must hold).
    #[serde(default)]
    pub where_attr: Vec<AttrCondSpec>,
    /// The attribute whose state is reported.
    pub attr: Option<AttrCondSpec>,
    /// Attribute conditions that spare the block (none may hold).
    #[serde(default)]
    pub unless_attr: Vec<AttrCondSpec>,

    // --- kind = "flow"
    #[serde(default)]
    pub sinks: Vec<SinkSpec>,
}

/// A condition on a call's arguments.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CondSpec {
    /// Argument names (keyword, property, builder method, object-literal key).
    #[serde(default)]
    pub arg: Vec<String>,
    /// 0-based position, for positional arguments.
    pub pos: Option<usize>,
    /// Any of: `absent`, `present`, `literal`, `env`, `env:REGEX`, `true`, `false`,
    /// `unresolved`, or a value class from knowledge.toml.
    pub is: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AssignCondSpec {
    pub target: Vec<String>,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EntryCondSpec {
    pub key: String,
    pub value: String,
}

/// A condition on an IaC block's attribute.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AttrCondSpec {
    /// Relative key paths (any of).
    pub key: Vec<String>,
    /// Any of: `absent`, or a regex over the resolved value text (prefix `re:`), or a literal,
    /// or `not:REGEX`: a literal value (after resolution) that does not match REGEX. References
    /// that cannot be resolved to a literal never satisfy `not:`.
    pub is: Vec<String>,
}

/// A telemetry or logging call that must not receive prompt or completion data.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SinkSpec {
    pub callee: Vec<String>,
    #[serde(default)]
    pub receiver: Vec<String>,
    /// Only these argument names/positions carry data to the sink (default: all).
    #[serde(default)]
    pub args: Vec<String>,
    /// A marker set from knowledge.toml the file must import (e.g. `server`).
    pub if_file: Option<String>,
    /// `callee` names assignment targets instead of calls (`langfuse_handler.metadata = {...}`).
    #[serde(default)]
    pub assign: bool,
    /// The sink does not apply when the file's text matches this regex (`"use client"`).
    pub unless_text: Option<String>,
    /// The sink applies only when the file's text matches this regex (a module that exports).
    pub if_text: Option<String>,
    pub vendor: Option<String>,
    pub label: Option<String>,
}

/// `rules/knowledge.toml`: value classes and the flow analysis' vocabulary.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KnowledgeSpec {
    #[serde(default)]
    pub classes: BTreeMap<String, ClassSpec>,
    #[serde(default)]
    pub flow: FlowSpec,
    /// Named sets of import globs (`server = ["fastapi", "flask", ...]`).
    #[serde(default)]
    pub markers: BTreeMap<String, Vec<String>>,
}

/// A class of values: a string matching `string`, or an env read whose name matches `env`.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClassSpec {
    pub string: Option<String>,
    pub env: Option<String>,
    /// Identifiers (after tracing) whose name matches.
    pub ident: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlowSpec {
    /// Calls that send a prompt to an LLM (callee globs).
    #[serde(default)]
    pub llm_calls: Vec<String>,
    /// Argument names that carry the prompt.
    #[serde(default)]
    pub prompt_args: Vec<String>,
    /// Positions that carry the prompt when unnamed.
    #[serde(default)]
    pub prompt_positions: Vec<usize>,
    /// Member names whose values carry no content (`usage`, `id`, `model`).
    #[serde(default)]
    pub content_free: Vec<String>,
    /// Calls whose result carries no content (`len`, `hashlib.sha256`).
    #[serde(default)]
    pub sanitizers: Vec<String>,
    /// Calls that put content into a chat history or message object
    /// (`chat_history.add_user_message(x)`, `HumanMessage(content=x)`): every argument is
    /// prompt content.
    #[serde(default)]
    pub message_builders: Vec<String>,
    /// Methods that read data out of their object (`get`, `pop`, `strip`): a value they return
    /// was built from that object, so the object is content too when the value is.
    #[serde(default)]
    pub accessors: Vec<String>,
    /// Function names too generic to carry "returns LLM content" from one place to another
    /// (`get`, `run`, `process`): a collision with a library method would be a false positive.
    #[serde(default)]
    pub generic_functions: Vec<String>,
    /// Member-name suffixes that carry no content (`word_count`, `latency_ms`, `patientId`).
    #[serde(default)]
    pub content_free_suffixes: Vec<String>,
    /// Name prefixes of predicates (`is_`, `should_`, camel-case `is`/`has` before a capital):
    /// a yes/no answer carries no content.
    #[serde(default)]
    pub content_free_prefixes: Vec<String>,
    /// Methods that put their arguments into their object (`append`, `push`, `update`): the
    /// object holds content when an argument does.
    #[serde(default)]
    pub mutators: Vec<String>,
    /// Calls whose result is made only of their arguments and receiver (`sorted`, `str`,
    /// `", ".join`): built from literals and content-free names, the result carries no content.
    #[serde(default)]
    pub transforms: Vec<String>,
    /// Conditions (regexes) that hold only when the application turned on sensitive telemetry
    /// itself (`are_sensitive_events_enabled()`, `ModelDiagnostics.IsSensitiveEventsEnabled()`):
    /// sinks that run only under one are that explicit choice, not a leak of their own.
    #[serde(default)]
    pub opt_in_guards: Vec<String>,
    /// Options of an LLM call that take a function called with the completion
    /// (`streamText({ onFinish: ({ text }) => ... })`): its parameters are content.
    #[serde(default)]
    pub completion_callbacks: Vec<String>,
    /// Class-name endings of exception types (`ValueError`, `ApiException`, an SDK's
    /// `ErrorEvent`): a value tested to be one (`isinstance`, `is`, `instanceof`, `case`) is
    /// an error there, not content.
    #[serde(default)]
    pub exception_suffixes: Vec<String>,
}
