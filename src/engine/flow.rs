//! Data flow for PHI401/PHI403: does prompt or completion content reach a sink?
//!
//! Per file, flow-insensitively and within one file: a name is *content* when it is passed as
//! a prompt argument to an LLM call (and, backwards, what built it: the names in the literal,
//! template, list or call arguments assigned to it), or when it holds an LLM call's result
//! (and, forwards, everything derived from it). Member chains through a content-free name
//! (`usage`, `id`, `model`, ...) and results of sanitizers (`len`, hashes) are not content;
//! neither is a name bound only to a string literal (a constant system prompt carries no
//! PHI). Tainted arguments of calls to functions defined in the same file taint the matching
//! parameters. A sink call with a content argument is a hit. The vocabulary (LLM calls,
//! prompt argument names, content-free members, sanitizers) is in `rules/knowledge.toml`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::diagnostic::Hit;
use crate::engine::{receiver_built_by, FileCtx};
use crate::facts::{root_of, Facts, Part, Value};
use crate::rule::{Knowledge, Match, Rule, Sink};

struct Taint<'a> {
    facts: &'a Facts,
    knowledge: &'a Knowledge,
    /// Tainted names by scope and first segment: a name is tainted through one with the same
    /// first segment ([`Taint::is_tainted_name`]), so a lookup is not a scan of every name.
    by_root: HashMap<(usize, String), HashSet<String>>,
    llm: Vec<bool>,
    /// Functions (by name) that return content: defined in this file, or elsewhere in the
    /// project ([`crate::engine::Project::content_functions`]).
    returning: HashSet<String>,
    /// Memo of [`Taint::is_inert`].
    inert: RefCell<HashMap<(usize, String), bool>>,
}

impl<'a> Taint<'a> {
    fn content_free(&self, name: &str) -> bool {
        // The root counts too: a context or cancellation token passed first to an LLM call
        // (`ctx`) is not content.
        let k = self.knowledge;
        name.split(['.', '[', ']', '(', ')'])
            .map(|seg| seg.trim_matches(['"', '\'', ' ']))
            .any(|seg| {
                k.content_free.iter().any(|c| c == seg)
                    || (!seg.is_empty()
                        && k.content_free_suffixes
                            .iter()
                            .any(|x| seg.ends_with(x.as_str())))
                    || k.content_free_prefixes.iter().any(|p| {
                        seg.strip_prefix(p.as_str()).is_some_and(|rest| {
                            !rest.is_empty()
                                && (p.ends_with('_')
                                    || rest.starts_with(|c: char| c.is_ascii_uppercase()))
                        })
                    })
            })
    }

    fn is_tainted_name(&self, name: &str, scope: usize) -> bool {
        if self.content_free(name) {
            return false;
        }
        let norm = chain_of(name);
        let root = root_of(name);
        let mut s = scope;
        for _ in 0..64 {
            // `note.text` is content: so are `note` (it holds it) and `note.text.strip`, not
            // `note.patient_id`.
            let first = norm.split('.').next().unwrap_or("");
            let hit = self
                .by_root
                .get(&(s, first.to_string()))
                .into_iter()
                .flatten()
                .any(|t| {
                    *t == norm
                        || norm
                            .strip_prefix(t.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                        || t.strip_prefix(norm.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                });
            if hit {
                return true;
            }
            if s == 0 {
                break;
            }
            let is_param = self
                .facts
                .scopes
                .get(s)
                .is_some_and(|sc| sc.params.iter().any(|p| p == root));
            if is_param {
                return false;
            }
            s = self.facts.scopes.get(s).map(|sc| sc.parent).unwrap_or(0);
        }
        false
    }

    /// The first content-carrying name in a value, if any.
    fn carrier(&self, v: &Value, scope: usize, depth: usize) -> Option<String> {
        if depth > 12 {
            return None;
        }
        match v {
            Value::Ident(n) => self.is_tainted_name(n, scope).then(|| n.clone()),
            Value::Template(parts) => parts.iter().find_map(|p| match p {
                Part::Hole(h) => self.carrier(h, scope, depth + 1),
                Part::Lit(_) => None,
            }),
            Value::Object(args) => args
                .iter()
                .find_map(|a| self.carrier(&a.value, scope, depth + 1)),
            Value::Array(items) => items.iter().find_map(|i| self.carrier(i, scope, depth + 1)),
            Value::Other(names) => names
                .iter()
                .find(|n| self.is_tainted_name(n, scope))
                .cloned(),
            Value::Env { .. } | Value::Str(_) | Value::Bool(_) | Value::Number(_) | Value::Null => {
                None
            }
            Value::Call(j) => {
                let call = &self.facts.calls[*j];
                if self.llm[*j] || self.returns_content(call) {
                    return Some(format!("{}(...)", call.callee));
                }
                if self.knowledge.sanitizers.matches(&call.qualified)
                    || self.knowledge.sanitizers.matches(&call.callee)
                {
                    return None;
                }
                // Getters through a content-free member (`resp.getUsage().getTotalTokens()`)
                // read no content from their receiver, as member chains do not.
                let free = self.content_free(&call.callee);
                // A method on content (`text.strip()`, `resp.choices[0].message.content.upper()`).
                if !free && call.callee.contains('.') {
                    let object = &call.callee[..call.callee.rfind('.').unwrap_or(0)];
                    if self.is_tainted_name(object, scope) {
                        return Some(object.to_string());
                    }
                }
                if let Some(inner) = self
                    .facts
                    .index()
                    .chained_into
                    .get(j)
                    .and_then(|calls| calls.first().copied())
                    .filter(|_| !free)
                {
                    if let Some(c) = self.carrier(&Value::Call(inner), scope, depth + 1) {
                        return Some(c);
                    }
                }
                call.args
                    .iter()
                    .find_map(|a| self.carrier(&a.value, scope, depth + 1))
            }
        }
    }

    /// A call to a function known to return LLM content (`self.extractor.extract(...)` where
    /// some `extract` in the project returns a completion). Calls on imported modules are
    /// library calls and never match by name.
    fn returns_content(&self, call: &crate::facts::Call) -> bool {
        let name = call.callee.rsplit('.').next().unwrap_or(&call.callee);
        if !self.returning.contains(name) || self.content_free(name) {
            return false;
        }
        let root = root_of(&call.callee);
        !call.callee.contains('.')
            || !self
                .facts
                .imports
                .iter()
                .any(|i| i.local == root && !i.path.starts_with('.'))
    }

    /// The narrowest span inside a value that carries content (the dict entry holding it).
    fn locate(&self, v: &Value, span: &crate::facts::Span, scope: usize) -> crate::facts::Span {
        if let Value::Object(items) = v {
            for i in items {
                if self.carrier(&i.value, scope, 0).is_some() {
                    return self.locate(&i.value, &i.span, scope);
                }
            }
        }
        span.clone()
    }

    /// A name bound only to values made of literals, content-free names and pure transforms
    /// of those (`msg = f"{len(args)} arguments: {sorted(param_names)}"`) carries no content,
    /// even when it is put into a prompt. Parameters and names with no binding in the file are
    /// unknown, not inert. Bindings are those of the scope that binds the name (the innermost
    /// enclosing function with an assignment to it); `self.x` / `this.x` are bound anywhere.
    fn is_inert(&self, scope: usize, name: &str, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        let key = (scope, name.to_string());
        if let Some(&known) = self.inert.borrow().get(&key) {
            return known;
        }
        // Cycles (`x = x + 1`) end here as "not inert".
        self.inert.borrow_mut().insert(key.clone(), false);
        let verdict = self.is_inert_uncached(scope, name, depth);
        self.inert.borrow_mut().insert(key, verdict);
        verdict
    }

    fn is_inert_uncached(&self, scope: usize, name: &str, depth: usize) -> bool {
        let root = root_of(name);
        let member = matches!(root, "self" | "this");
        let facts = self.facts;
        let index = facts.index();
        let mut s = scope;
        let binding = loop {
            if member || index.assigns.contains_key(&(s, name.to_string())) {
                break s;
            }
            let is_param = facts
                .scopes
                .get(s)
                .is_some_and(|sc| sc.params.iter().any(|p| p == root));
            if is_param || s == 0 {
                return false;
            }
            s = facts.scopes.get(s).map(|sc| sc.parent).unwrap_or(0);
        };
        let mut any = false;
        let to_name = index.assigns_to.get(name).into_iter().flatten();
        for a in to_name
            .map(|&i| &facts.assigns[i])
            .filter(|a| member || a.scope == binding)
        {
            any = true;
            if !self.inert_value(&a.value, a.scope, depth) {
                return false;
            }
        }
        // `parts.append(x)`, `history.AddUserMessage(x)`: what a method call may put into the
        // object counts as one of its bindings.
        any && !index.calls_on.get(name).into_iter().flatten().any(|&c| {
            let c = &facts.calls[c];
            !c.args
                .iter()
                .all(|a| self.inert_value(&a.value, c.scope, depth))
        })
    }

    fn inert_name(&self, n: &str, scope: usize, depth: usize) -> bool {
        self.content_free(n) || (!n.contains(['.', '[', '(']) && self.is_inert(scope, n, depth + 1))
    }

    /// `depth` counts the names followed, not the nesting of the value.
    fn inert_value(&self, v: &Value, scope: usize, depth: usize) -> bool {
        match v {
            Value::Str(_) | Value::Bool(_) | Value::Number(_) | Value::Null | Value::Env { .. } => {
                true
            }
            Value::Ident(n) => self.inert_name(n, scope, depth),
            Value::Template(parts) => parts.iter().all(|p| match p {
                Part::Hole(h) => self.inert_value(h, scope, depth),
                Part::Lit(_) => true,
            }),
            Value::Object(args) => args
                .iter()
                .all(|a| self.inert_value(&a.value, scope, depth)),
            Value::Array(items) => items.iter().all(|i| self.inert_value(i, scope, depth)),
            Value::Other(names) => names.iter().all(|n| self.inert_name(n, scope, depth)),
            Value::Call(j) => {
                let k = self.knowledge;
                let call = &self.facts.calls[*j];
                if self.llm[*j] || self.returns_content(call) {
                    return false;
                }
                if k.sanitizers.matches(&call.qualified) || k.sanitizers.matches(&call.callee) {
                    return true;
                }
                if !(k.transforms.matches(&call.qualified) || k.transforms.matches(&call.callee)) {
                    return false;
                }
                // The receiver of a method transform (`sep.join(parts)`) is read too; a literal
                // receiver (`", ".join`) leaves a placeholder or no name.
                let receiver_inert = match call.callee.rsplit_once('.') {
                    Some((o, _)) => {
                        matches!(root_of(o), "_" | "str" | "String")
                            || self.inert_name(o, scope, depth)
                    }
                    None => true,
                };
                receiver_inert
                    && call
                        .args
                        .iter()
                        .all(|a| self.inert_value(&a.value, scope, depth))
            }
        }
    }

    fn taint(&mut self, scope: usize, name: &str) -> bool {
        if self.has(scope, name) || self.is_inert(scope, name, 0) {
            return false;
        }
        let first = name.split('.').next().unwrap_or("");
        self.by_root
            .entry((scope, first.to_string()))
            .or_default()
            .insert(name.to_string())
    }

    /// `name` itself was tainted in `scope`.
    fn has(&self, scope: usize, name: &str) -> bool {
        let first = name.split('.').next().unwrap_or("");
        self.by_root
            .get(&(scope, first.to_string()))
            .is_some_and(|set| set.contains(name))
    }
}

fn refs_deep(facts: &Facts, k: &Knowledge, v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 12 {
        return;
    }
    match v {
        Value::Call(j) => {
            let call = &facts.calls[*j];
            for a in &call.args {
                refs_deep(facts, k, &a.value, out, depth + 1);
            }
            // `content = message.get("content")`: what built the value includes the object the
            // method was called on, unless that is an imported module or class.
            if let Some(dot) = call
                .callee
                .rfind('.')
                .filter(|&d| k.accessors.iter().any(|m| *m == call.callee[d + 1..]))
            {
                let object = &call.callee[..dot];
                let root = root_of(object);
                if !root.is_empty()
                    && !facts.imports.iter().any(|i| i.local == root)
                    && root != "self"
                    && root != "this"
                {
                    out.push(object.to_string());
                }
            }
        }
        Value::Object(args) => args
            .iter()
            .for_each(|a| refs_deep(facts, k, &a.value, out, depth + 1)),
        Value::Array(items) => items
            .iter()
            .for_each(|i| refs_deep(facts, k, i, out, depth + 1)),
        Value::Template(parts) => parts.iter().for_each(|p| {
            if let Part::Hole(h) = p {
                refs_deep(facts, k, h, out, depth + 1)
            }
        }),
        other => other.refs(out, &facts.calls),
    }
}

/// One file's flow analysis, made once for all its flow matches and its content functions
/// (the analysis depends only on the file and the project's content functions).
#[derive(Default)]
pub struct Analysis<'a>(std::cell::OnceCell<Option<Taint<'a>>>);

/// `f` over the file's analysis (`None` when the file has no LLM content), from
/// `ctx.analysis` when there is one.
fn with_analysis<R>(ctx: &FileCtx, f: impl FnOnce(&Taint) -> R) -> Option<R> {
    match ctx.analysis {
        Some(cell) => cell.0.get_or_init(|| analyse(ctx)).as_ref().map(f),
        None => analyse(ctx).as_ref().map(f),
    }
}

/// Names of the functions in this file that return LLM content (for the project pre-pass),
/// other than those the project already knows.
pub fn content_functions(ctx: &FileCtx) -> Vec<String> {
    // The analysis starts from the project's names; only the file's own are new. A later
    // round's file returning all of them kept 300 names per file (16 MB on four copies of
    // the dense benchmark tree).
    let known = &ctx.project.content_functions;
    let mut v: Vec<String> = with_analysis(ctx, |t| {
        (t.returning.iter())
            .filter(|n| !known.contains(*n))
            .cloned()
            .collect()
    })
    .unwrap_or_default();
    v.sort();
    v
}

/// Seeds and propagates content through one file; `None` when the file has no LLM call,
/// message builder or call to a content-returning function.
fn analyse<'a>(ctx: &FileCtx<'a>) -> Option<Taint<'a>> {
    let facts = ctx.facts;
    let k = ctx.knowledge;
    let llm: Vec<bool> = facts
        .calls
        .iter()
        .map(|c| {
            !c.decorator && (k.llm_calls.matches(&c.qualified) || k.llm_calls.matches(&c.callee))
        })
        .collect();
    let builds_messages = facts
        .calls
        .iter()
        .any(|c| k.message_builders.matches(&c.qualified) || k.message_builders.matches(&c.callee));
    let calls_content_functions = !ctx.project.content_functions.is_empty()
        && facts.calls.iter().any(|c| {
            ctx.project
                .content_functions
                .contains(c.callee.rsplit('.').next().unwrap_or(&c.callee))
        });
    if !llm.iter().any(|&b| b) && !builds_messages && !calls_content_functions {
        return None;
    }
    let mut t = Taint {
        facts,
        knowledge: k,
        by_root: HashMap::new(),
        llm: llm.clone(),
        returning: ctx.project.content_functions.clone(),
        inert: RefCell::new(HashMap::new()),
    };

    // Seeds: prompt arguments of LLM calls, and everything put into a chat history.
    let mut prompt_names: Vec<(usize, String)> = Vec::new();
    for c in facts.calls.iter().filter(|c| {
        k.message_builders.matches(&c.qualified) || k.message_builders.matches(&c.callee)
    }) {
        for a in &c.args {
            let mut out = Vec::new();
            refs_deep(facts, k, &a.value, &mut out, 0);
            for r in out {
                if !t.content_free(&r) {
                    prompt_names.push((c.scope, root_name(&r)));
                }
            }
        }
    }
    for (i, c) in facts.calls.iter().enumerate() {
        if !llm[i] {
            continue;
        }
        let mut positional = 0;
        for a in &c.args {
            let carries = match &a.name {
                Some(n) => k.prompt_args.iter().any(|p| p == n),
                None => {
                    let p = positional;
                    positional += 1;
                    k.prompt_positions.contains(&p)
                }
            };
            if carries {
                let mut out = Vec::new();
                match &a.value {
                    // An options object passed by position (`streamText({ model, tools,
                    // messages })`): only its prompt entries carry the prompt.
                    Value::Object(entries)
                        if a.name.is_none() && entries.iter().any(|e| e.name.is_some()) =>
                    {
                        for e in entries.iter().filter(|e| {
                            e.name
                                .as_ref()
                                .is_none_or(|n| k.prompt_args.iter().any(|p| p == n))
                        }) {
                            refs_deep(facts, k, &e.value, &mut out, 0);
                        }
                    }
                    v => refs_deep(facts, k, v, &mut out, 0),
                }
                for r in out {
                    if !t.content_free(&r) {
                        prompt_names.push((c.scope, root_name(&r)));
                    }
                }
            }
        }
    }
    // Backwards: what built the prompt (plain constructions and call arguments, a few hops).
    let mut frontier = prompt_names.clone();
    for _ in 0..4 {
        let mut next = Vec::new();
        for (scope, name) in &frontier {
            let to_name = facts.index().assigns_to.get(name).into_iter().flatten();
            for a in to_name
                .map(|&i| &facts.assigns[i])
                .filter(|a| a.scope == *scope || a.scope == 0)
            {
                let mut out = Vec::new();
                refs_deep(facts, k, &a.value, &mut out, 0);
                for r in out {
                    let n = root_name(&r);
                    if !t.content_free(&r)
                        && !prompt_names.iter().any(|(s, x)| *s == a.scope && *x == n)
                    {
                        prompt_names.push((a.scope, n.clone()));
                        next.push((a.scope, n));
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    for (s, n) in &prompt_names {
        t.taint(*s, n);
    }
    // Callbacks an LLM call hands its completion to (`onFinish: ({ text }) => ...`): the
    // parameters of the function passed are content.
    for (i, c) in facts.calls.iter().enumerate() {
        if !llm[i] {
            continue;
        }
        // Named, or a key of the options object (`streamText({ onFinish })`).
        let callbacks = k
            .completion_callbacks
            .iter()
            .filter_map(|n| super::find_arg(c, std::slice::from_ref(n), None));
        for cb in callbacks {
            let Some((si, sc)) = facts
                .scopes
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, sc)| sc.span.start >= cb.span.start && sc.span.end <= cb.span.end)
            else {
                continue;
            };
            for p in sc.params.clone() {
                // A destructured parameter (`({ text, usage })`) binds each of its names.
                for n in pattern_names(&p) {
                    if !t.content_free(n) {
                        t.taint(si, n);
                    }
                }
            }
        }
    }

    // Forwards: results of LLM calls and everything derived from content.
    for _ in 0..6 {
        let mut changed = false;
        for a in &facts.assigns {
            if t.carrier(&a.value, a.scope, 0).is_some() {
                changed |= t.taint(a.scope, &a.target);
            }
        }
        // `fields.append(x)` with content `x`: the list now holds content.
        for c in &facts.calls {
            let Some(dot) = c.callee.rfind('.') else {
                continue;
            };
            if !k.mutators.iter().any(|m| *m == c.callee[dot + 1..]) {
                continue;
            }
            let object = &c.callee[..dot];
            if c.args
                .iter()
                .any(|a| t.carrier(&a.value, c.scope, 0).is_some())
            {
                changed |= t.taint(c.scope, &root_name(object));
            }
        }
        // Arguments to functions defined in this file taint their parameters.
        for c in &facts.calls {
            let fname = c.callee.rsplit('.').next().unwrap_or(&c.callee);
            let named = facts.index().scopes_named.get(fname).into_iter().flatten();
            for (si, sc) in named.map(|&si| (si, &facts.scopes[si])) {
                let params: Vec<&String> = sc
                    .params
                    .iter()
                    .filter(|p| *p != "self" && *p != "cls")
                    .collect();
                let mut pos = 0;
                for arg in &c.args {
                    let param = match &arg.name {
                        Some(n) => params.iter().find(|p| **p == n).map(|p| p.as_str()),
                        None => {
                            let p = params.get(pos).map(|p| p.as_str());
                            pos += 1;
                            p
                        }
                    };
                    if let Some(p) = param {
                        if t.carrier(&arg.value, c.scope, 0).is_some() {
                            changed |= t.taint(si, p);
                        }
                    }
                }
            }
        }
        // Functions whose `return` carries content make their callers' results content.
        for (si, sc) in facts.scopes.iter().enumerate().skip(1) {
            if t.has(si, "return")
                && !sc.name.starts_with('<')
                && sc.name.len() >= 4
                && !k.generic_functions.contains(&sc.name)
            {
                changed |= t.returning.insert(sc.name.clone());
            }
        }
        if !changed {
            break;
        }
    }
    Some(t)
}

/// Runs one flow match over a file.
pub fn run(ri: usize, rule: &Rule, m: &Match, sinks: &[Sink], ctx: &FileCtx, hits: &mut Vec<Hit>) {
    with_analysis(ctx, |t| report(ri, rule, m, sinks, ctx, t, hits));
}

/// The findings of one flow match, from the file's analysis.
fn report(
    ri: usize,
    rule: &Rule,
    m: &Match,
    sinks: &[Sink],
    ctx: &FileCtx,
    t: &Taint,
    hits: &mut Vec<Hit>,
) {
    let facts = ctx.facts;
    let k = ctx.knowledge;

    // Sinks.
    let imports_marker = |marker: &str| {
        k.markers
            .get(marker)
            .is_some_and(|g| facts.imports.iter().any(|i| g.matches(&i.path)))
    };
    // Assignments into a sink object (`handler.metadata = {"user_input": text}`).
    for a in &facts.assigns {
        let Some(sink) = sinks
            .iter()
            .find(|s| s.assign && s.callee.matches(&a.target))
        else {
            continue;
        };
        if ctx.envelope.covers_vendor(&sink.vendor) {
            continue;
        }
        if let Some(name) = t.carrier(&a.value, a.scope, 0) {
            if opt_in_guarded(ctx, a.scope, a.span.start) {
                continue;
            }
            let msg = sink_message(rule, m, sink, &name, &a.target);
            let span = t.locate(&a.value, &a.span, a.scope);
            hits.push(Hit {
                rule: ri,
                span,
                message: msg,
                secret: None,
            });
        }
    }
    for (ci, c) in facts.calls.iter().enumerate() {
        let Some(sink) = sinks.iter().find(|s| {
            !s.assign
                && (s.callee.matches(&c.qualified) || s.callee.matches(&c.callee))
                && (s.receiver.is_empty() || receiver_built_by(facts, ci, &s.receiver))
                && s.if_file.as_deref().is_none_or(imports_marker)
                && !s.unless_text.as_ref().is_some_and(|r| r.is_match(ctx.text))
                && s.if_text.as_ref().is_none_or(|r| r.is_match(ctx.text))
        }) else {
            continue;
        };
        if ctx.envelope.covers_vendor(&sink.vendor) {
            continue;
        }
        let mut positional = 0;
        for a in &c.args {
            let label = match &a.name {
                Some(n) => n.clone(),
                None => {
                    positional += 1;
                    (positional - 1).to_string()
                }
            };
            if !sink.args.is_empty() && !sink.args.contains(&label) {
                continue;
            }
            if let Some(name) = t.carrier(&a.value, c.scope, 0) {
                if opt_in_guarded(ctx, c.scope, c.span.start)
                    || narrowed_to_exception(ctx, c.scope, c.span.start, &name)
                {
                    break;
                }
                let msg = sink_message(rule, m, sink, &name, &c.callee);
                hits.push(Hit {
                    rule: ri,
                    span: t.locate(&a.value, &a.span, c.scope),
                    message: msg,
                    secret: None,
                });
                break;
            }
        }
    }
}

/// Whether the code at `pos` runs only after the application turned on sensitive telemetry
/// itself (`[flow] opt-in-guards`): inside `if are_sensitive_events_enabled():` /
/// `if (ModelDiagnostics.IsSensitiveEventsEnabled()) { ... }`, or after an early
/// `if not <guard>: return` in the same function.
fn opt_in_guarded(ctx: &FileCtx, scope: usize, pos: usize) -> bool {
    let Some(guard) = ctx.knowledge.opt_in_guard.as_ref() else {
        return false;
    };
    // Only a condition that needs the guard to be on: the guard alone or joined by `and`.
    // `guard || x`, `flag is None`, `guard == false` let the branch run with the guard off.
    let positive = |cond: &str| {
        let c = cond.trim().trim_start_matches('(').trim_start();
        guard.is_match(c) && !c.starts_with('!') && !c.starts_with("not ") && !may_hold_without(c)
    };
    let Some((conds, before)) = enclosing(ctx, scope, pos) else {
        return false;
    };
    conds.iter().any(|c| positive(c)) || negated_guard_exits(before, guard)
}

/// Whether the value `name` at `pos` is known to be an exception there: inside
/// `if isinstance(name, SomeError):` / `if (name is SomeException)` / `instanceof`. Results of
/// `asyncio.gather(..., return_exceptions=True)` and similar mix completions and errors; the
/// branch that handles the errors logs an error, not content.
fn narrowed_to_exception(ctx: &FileCtx, scope: usize, pos: usize, name: &str) -> bool {
    let root = root_of(name);
    if root.is_empty() {
        return false;
    }
    let Some((conds, _)) = enclosing(ctx, scope, pos) else {
        return false;
    };
    let suffixes = &ctx.knowledge.exception_suffixes;
    let is_exception = |class: &str| {
        let last = class.rsplit('.').next().unwrap_or(class);
        suffixes.iter().any(|x| last.ends_with(x.as_str()))
    };
    // `isinstance(name, SomeError)` (the first class of a tuple) and `name is/instanceof X`.
    static TESTS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let tests = TESTS.get_or_init(|| {
        regex::Regex::new(
            r"isinstance\(\s*([\w.$]+)\s*,\s*\(?\s*([\w.]+)|([\w.$]+)\s+(?:is|instanceof)\s+([\w.]+)",
        )
        .expect("valid regex")
    });
    if conds.iter().any(|c| {
        let c = c.trim();
        !c.starts_with('!')
            && !c.starts_with("not ")
            && !may_hold_without(c)
            && tests.captures_iter(c).any(|m| {
                let (subject, class) = match (m.get(1), m.get(2)) {
                    (Some(s), Some(k)) => (s, k),
                    _ => match (m.get(3), m.get(4)) {
                        (Some(s), Some(k)) => (s, k),
                        _ => return false,
                    },
                };
                subject.as_str() == root && is_exception(class.as_str())
            })
    }) {
        return true;
    }
    // `match name:` ... `case SomeErrorEvent():` (Python structural pattern matching).
    let error_case = conds.iter().position(|c| {
        c.strip_prefix("case ")
            .is_some_and(|p| p.split(['(', ' ', '|']).next().is_some_and(is_exception))
    });
    error_case.is_some_and(|i| {
        conds[i + 1..]
            .iter()
            .find_map(|c| c.strip_prefix("match "))
            .is_some_and(|subject| subject.trim() == root)
    })
}

/// The conditions of the `if` headers that enclose `pos` within its function (innermost
/// first), and the function's text before the statement at `pos`. Read from the text:
/// indentation for Python, braces for the C-like languages; `None` for notebooks, whose spans
/// do not index the file's text.
fn enclosing<'t>(ctx: &FileCtx<'t>, scope: usize, pos: usize) -> Option<(Vec<&'t str>, &'t str)> {
    let text = ctx.text;
    if pos > text.len() || !text.is_char_boundary(pos) {
        return None;
    }
    let start = ctx
        .facts
        .scopes
        .get(scope)
        .map(|s| s.span.start)
        .filter(|&s| s <= pos && text.is_char_boundary(s))
        .unwrap_or(0);
    match ctx.lang {
        crate::facts::Lang::Python => Some(python_enclosing(text, start, pos)),
        crate::facts::Lang::Notebook => None,
        _ => Some(braces_enclosing(text, start, pos)),
    }
}

/// An early exit when the guard is off: `if not guard: return` / `if (!guard) return;`.
fn negated_guard_exits(region: &str, guard: &regex::Regex) -> bool {
    static EXIT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let exit = EXIT.get_or_init(|| {
        regex::Regex::new(
            r"(?m)\bif\s*\(?\s*(?:!|not\s)([^\n{};:]*?)\)?\s*(?::|\{)?\s*\n?\s*return\b",
        )
        .expect("valid regex")
    });
    exit.captures_iter(region).any(|c| {
        c.get(1)
            .is_some_and(|m| guard.is_match(m.as_str()) && !may_hold_without(m.as_str()))
    })
}

/// A condition that can hold without each of its parts: an `or`, or a comparison (`is None`,
/// `== false`), which a guard or type test inside it does not decide alone. Read
/// conservatively: such a branch is not treated as guarded or narrowed.
fn may_hold_without(cond: &str) -> bool {
    cond.contains("||")
        || cond.contains(" or ")
        || cond.contains("==")
        || cond.contains("!=")
        || cond.contains(" is None")
        || cond.contains(" is not ")
        || cond.contains(" is null")
}

fn python_enclosing(text: &str, start: usize, pos: usize) -> (Vec<&str>, &str) {
    let indent = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1).max(start);
    let mut cur = indent(&text[line_start..]);
    let mut conds = Vec::new();
    for line in text[start..line_start].lines().rev() {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let i = indent(line);
        if i >= cur {
            continue;
        }
        cur = i;
        if let Some(c) = body
            .strip_prefix("if ")
            .or_else(|| body.strip_prefix("elif "))
        {
            conds.push(c.trim_end().trim_end_matches(':'));
        } else if body.starts_with("case ") || body.starts_with("match ") {
            // `match event:` / `case ErrorEvent():` headers, kept whole for the narrowing check.
            conds.push(body.trim_end().trim_end_matches(':'));
        }
        if i == 0 {
            break;
        }
    }
    (conds, &text[start..line_start])
}

fn braces_enclosing(text: &str, start: usize, pos: usize) -> (Vec<&str>, &str) {
    let bytes = text.as_bytes();
    let stmt_start = |to: usize| {
        text[start..to]
            .rfind([';', '{', '}'])
            .map_or(start, |i| start + i + 1)
    };
    let condition = |from: usize, to: usize| -> Option<&str> {
        let h = text[from..to].trim();
        h.strip_prefix("else if")
            .or_else(|| h.strip_prefix("if"))
            .filter(|c| c.starts_with([' ', '(', '\t', '\n']))
    };
    let mut conds = Vec::new();
    // The statement holding `pos` (a brace-less `if (guard) sink(...)`).
    let here = stmt_start(pos);
    conds.extend(condition(here, pos));
    let mut depth = 0usize;
    let mut i = pos;
    while i > start {
        i -= 1;
        match bytes[i] {
            b'}' => depth += 1,
            b'{' if depth > 0 => depth -= 1,
            b'{' => conds.extend(condition(stmt_start(i), i)),
            _ => {}
        }
    }
    (conds, &text[start..here])
}

/// The names a parameter binds: itself, or each name of a destructuring pattern
/// (`{ text, usage: u, ...rest }` → `text`, `u`, `rest`).
fn pattern_names(p: &str) -> Vec<&str> {
    if !p.starts_with(['{', '[']) {
        return vec![p];
    }
    p.split([',', '{', '}', '[', ']'])
        .filter_map(|part| {
            let part = part.split('=').next().unwrap_or("");
            let bound = part.rsplit(':').next().unwrap_or("");
            let n = bound.trim().trim_start_matches("...");
            (!n.is_empty()
                && n.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$'))
            .then_some(n)
        })
        .collect()
}

/// The message of a flow hit: `{value}` the content name, `{sink}` the sink's label (or the
/// callee / assignment target), `{callee}`, `{vendor}`.
fn sink_message(rule: &Rule, m: &Match, sink: &Sink, value: &str, callee: &str) -> String {
    let sink_name = sink.label.as_deref().unwrap_or(callee);
    let mut msg = m.message.clone().unwrap_or_else(|| rule.message.clone());
    msg = msg
        .replace("{value}", value)
        .replace("{sink}", sink_name)
        .replace("{callee}", callee);
    if let Some(v) = &sink.vendor {
        msg = msg.replace("{vendor}", v);
    }
    msg
}

/// The plain member chain of a reference, up to the first index or call
/// (`resp.choices[0].message` → `resp.choices`).
fn chain_of(r: &str) -> String {
    let end = r.find(['[', '(']).unwrap_or(r.len());
    r[..end].trim_end_matches('.').to_string()
}

fn root_name(r: &str) -> String {
    let chain = chain_of(r);
    let root = root_of(r);
    // `self.x` alone names nothing; keep at least one member after it.
    if (root == "self" || root == "this") && chain == root {
        return root.to_string();
    }
    chain
}
