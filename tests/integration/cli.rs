//! End-to-end behaviour of `phi-lint check`: exit codes, formats, discovery.

use crate::support::{findings, run_in, stderr, stdout, tree};

const CONSUMER: &str = "from openai import OpenAI\nclient = OpenAI()\n";

#[test]
fn exit_codes_follow_findings_and_errors() {
    let clean = tree(&[("app.py", "print('hello')\n")]);
    assert_eq!(run_in(clean.path(), &["check"]).status.code(), Some(0));
    let dirty = tree(&[("app.py", CONSUMER)]);
    let o = run_in(dirty.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert_eq!(
        run_in(dirty.path(), &["check", "--exit-zero"])
            .status
            .code(),
        Some(0)
    );
    let bad = run_in(dirty.path(), &["check", "--format", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("nope"));
    assert_eq!(
        run_in(dirty.path(), &["check", "--bogus-flag"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run_in(dirty.path(), &["check", "--select", "PHI999"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn fail_on_threshold() {
    // PHI301 is a warning.
    let t = tree(&[("a.py", "import os\nfrom openai import AzureOpenAI\nc = AzureOpenAI(azure_endpoint=os.environ['AZURE_OPENAI_ENDPOINT'])\n")]);
    assert_eq!(run_in(t.path(), &["check"]).status.code(), Some(1));
    assert_eq!(
        run_in(t.path(), &["check", "--fail-on", "error"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn json_has_the_documented_fields_and_relative_paths() {
    let t = tree(&[("src/app.py", CONSUMER)]);
    let o = run_in(t.path(), &["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v["findings"][0];
    for key in [
        "rule",
        "name",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "help",
    ] {
        assert!(!f[key].is_null(), "missing {key} in {f}");
    }
    assert_eq!(f["path"], "src/app.py");
    assert_eq!(f["rule"], "PHI102");
    assert_eq!(f["line"], 2);
    assert_eq!(v["version"], 1);
}

#[test]
fn concise_is_one_line_per_finding() {
    let t = tree(&[("app.py", CONSUMER)]);
    let o = run_in(t.path(), &["check", "--format", "concise"]);
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with("app.py:2:10: PHI102")),
        "{out}"
    );
}

#[test]
fn output_is_identical_across_runs_and_thread_counts() {
    let t = tree(&[
        ("a.py", CONSUMER),
        ("b/c.ts", "import OpenAI from 'openai';\nconst c = new OpenAI();\nconst u = 'https://api.openai.com/v1';\n"),
        ("d.py", "URL = 'https://api.openai.com/v1'\n"),
    ]);
    let one = run_in(t.path(), &["check", "--format", "json", "--threads", "1"]);
    let many = run_in(t.path(), &["check", "--format", "json", "--threads", "4"]);
    assert_eq!(one.stdout, many.stdout);
    assert_eq!(findings(&one).len(), 4);
}

#[test]
fn discovery_respects_gitignore_hidden_and_vendored_trees() {
    let t = tree(&[
        (".gitignore", "ignored/\n"),
        ("ignored/app.py", CONSUMER),
        (".env", "OPENAI_BASE_URL=https://api.openai.com/v1\n"),
        (".history/app_20240101.py", CONSUMER),
        (
            "node_modules/pkg/index.js",
            "const u = 'https://api.openai.com/v1';\n",
        ),
        ("venv/pyvenv.cfg", "home = /usr/bin\n"),
        ("venv/lib/x.py", CONSUMER),
        ("site-packages/y.py", CONSUMER),
        (
            "static/app.min.js",
            "const u='https://api.openai.com/v1';\n",
        ),
        (".git/config.py", CONSUMER),
    ]);
    let o = run_in(t.path(), &["check", "--format", "json", "--exit-zero"]);
    let mut paths: Vec<String> = findings(&o).into_iter().map(|(_, p, _)| p).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        vec![".env".to_string(), ".history/app_20240101.py".to_string()],
        "{}",
        stdout(&o)
    );
    let all = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--exit-zero",
            "--include-vendored",
        ],
    );
    let paths: Vec<String> = findings(&all).into_iter().map(|(_, p, _)| p).collect();
    for p in [
        "node_modules/pkg/index.js",
        "venv/lib/x.py",
        "site-packages/y.py",
        "static/app.min.js",
    ] {
        assert!(
            paths.iter().any(|x| x == p),
            "{p} not checked with --include-vendored: {paths:?}"
        );
    }
    assert!(!paths.iter().any(|x| x.starts_with(".git/")));
    // A path named on the command line is always checked.
    let named = run_in(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--exit-zero",
            "node_modules/pkg/index.js",
        ],
    );
    assert_eq!(findings(&named).len(), 1);
}

#[test]
fn binary_and_oversized_files_are_notes_not_errors() {
    let t = tree(&[
        ("data.json", "{\"a\": \"\u{0}\"}"),
        ("big.py", &"x = 1\n".repeat(2000)),
    ]);
    let o = run_in(
        t.path(),
        &["check", "--max-filesize", "1000", "data.json", "big.py"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("binary"), "{out}");
    assert!(out.contains("over the 1000-byte limit"), "{out}");
}

#[test]
fn project_config_pins_the_api_version() {
    let code = "import os\nfrom openai import AzureOpenAI\nc = AzureOpenAI(azure_endpoint=os.environ['AZURE_OPENAI_ENDPOINT'])\n";
    let unpinned = tree(&[("app.py", code)]);
    assert_eq!(
        findings(&run_in(unpinned.path(), &["check", "--format", "json"])).len(),
        1
    );
    let pinned = tree(&[
        ("app.py", code),
        ("deploy/.env.production", "OPENAI_API_VERSION=2024-10-21\n"),
    ]);
    assert!(findings(&run_in(pinned.path(), &["check", "--format", "json"])).is_empty());
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let files: Vec<(String, String)> = (0..300)
        .map(|i| (format!("f{i}.py"), CONSUMER.to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let t = tree(&refs);
    let mut child = Command::new(crate::support::bin())
        .args(["check", "--format", "concise"])
        .current_dir(t.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(2), "{err}");
}

/// The PHI403 findings of a tree of `files` (path, finding line), and the output.
fn phi403_findings(files: &[(&str, &str)], extra: &[&str]) -> (Vec<(String, String, u64)>, String) {
    let t = tree(files);
    let mut args = vec!["check", "--format", "json", "--select", "PHI403"];
    args.extend(extra);
    let o = run_in(t.path(), &args);
    (findings(&o), stdout(&o))
}

/// A Python module whose functions `names` each return an Azure OpenAI completion (content
/// functions, for the flow rules' later rounds).
fn llm_module(names: &[impl AsRef<str>]) -> String {
    let mut m = "from openai import AzureOpenAI\nclient = AzureOpenAI(azure_endpoint='https://x.openai.azure.com', api_version='2024-10-21')\n".to_string();
    for n in names {
        m.push_str(&format!(
            "\ndef {}(q):\n    r = client.chat.completions.create(model='m', messages=[{{'role': 'user', 'content': q}}])\n    return r.choices[0].message.content\n",
            n.as_ref()
        ));
    }
    m
}

#[test]
fn content_returned_by_a_function_in_another_file_is_followed() {
    let files = [
        (
            "app/providers/azure.py",
            "import os\nfrom openai import AzureOpenAI\n\nclass AzureExtractor:\n    def __init__(self):\n        self.client = AzureOpenAI(azure_endpoint=os.environ['AZURE_OPENAI_ENDPOINT'], api_version='2024-10-21')\n\n    def extract_fields(self, transcript):\n        resp = self.client.chat.completions.create(model=os.environ['DEP'], messages=[{'role': 'user', 'content': transcript}])\n        return resp.choices[0].message.content\n",
        ),
        (
            "app/service.py",
            "class ExtractionService:\n    def __init__(self, provider):\n        self.provider = provider\n\n    async def run_extraction(self, transcript):\n        result = self.provider.extract_fields(transcript)\n        return result\n",
        ),
        (
            "app/handler.py",
            "import logging\nimport tarfile\nlogger = logging.getLogger(__name__)\n\nasync def on_chunk(service, transcript):\n    extraction = await service.run_extraction(transcript)\n    logger.info(f'first extraction: {extraction}')\n    names = tarfile.open('x.tar').getnames()\n    logger.info('members %s', names)\n",
        ),
    ];
    let (found, out) = phi403_findings(&files, &[]);
    assert_eq!(
        found,
        vec![("PHI403".to_string(), "app/handler.py".to_string(), 7)],
        "{out}"
    );
}

#[test]
fn an_unparsed_file_that_calls_a_content_function_found_before_it_is_checked_again() {
    // With one worker `a_llm.py` is checked first and yields nine content functions; from
    // then on the first pass records which names the files it does not parse call
    // (`handler.py` mentions no LLM call, so it is not parsed), and the later round reads
    // only the files that may call a new one: `handler.py`, whose logged summary is found.
    // `other.py` names `summarize_3` without calling it.
    let llm = llm_module(&(0..9).map(|i| format!("summarize_{i}")).collect::<Vec<_>>());
    let files = [
        ("app/a_llm.py", llm.as_str()),
        (
            "app/handler.py",
            "import logging\nfrom app.a_llm import summarize_3\nlogger = logging.getLogger(__name__)\n\ndef on_note(q):\n    s = summarize_3(q)\n    logger.info(s)\n",
        ),
        (
            "app/other.py",
            "import logging\nlogger = logging.getLogger(__name__)\n\ndef note(s):\n    logger.info('summarize_3 is elsewhere: %s', s)\n",
        ),
    ];
    let (found, out) = phi403_findings(&files, &["--threads", "1"]);
    assert_eq!(
        found,
        vec![("PHI403".to_string(), "app/handler.py".to_string(), 7)],
        "{out}"
    );
}

#[test]
fn an_unparsed_file_read_after_a_content_function_was_found_is_searched_for_it() {
    // With one worker `a_llm.py` is checked first and yields one content function; from then
    // on the first pass searches the files it does not parse for it as it reads them, and
    // the later round reads again only those that call it (`handler.py`, whose logged summary
    // is found), not `other.py`, which only names it.
    let llm = llm_module(&["summarize_note"]);
    let files = [
        ("app/a_llm.py", llm.as_str()),
        (
            "app/handler.py",
            "import logging\nfrom app.a_llm import summarize_note\nlogger = logging.getLogger(__name__)\n\ndef on_note(q):\n    s = summarize_note (q)\n    logger.info(s)\n",
        ),
        (
            "app/other.py",
            "import logging\nlogger = logging.getLogger(__name__)\n\ndef note(s):\n    logger.info('summarize_note is elsewhere: %s', s)\n",
        ),
    ];
    let (found, out) = phi403_findings(&files, &["--threads", "1"]);
    assert_eq!(
        found,
        vec![("PHI403".to_string(), "app/handler.py".to_string(), 7)],
        "{out}"
    );
}

#[test]
fn a_file_that_calls_an_llm_and_another_files_content_function_is_checked_again() {
    // `handler.py` is parsed in the first pass (it calls an LLM itself) before
    // `summarize_note` is known to return content; the later round checks it again because
    // it calls that name, and the logged summary is found.
    let llm = llm_module(&["summarize_note"]);
    let files = [
        ("app/llm.py", llm.as_str()),
        (
            "app/handler.py",
            "import logging\nfrom openai import AzureOpenAI\nlogger = logging.getLogger(__name__)\nclient = AzureOpenAI(azure_endpoint='https://x.openai.azure.com', api_version='2024-10-21')\n\ndef handle(q):\n    client.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'ping'}])\n    logger.info('ping sent')\n    logger.info(summarize_note(q))\n",
        ),
        (
            "app/other.py",
            "import logging\nlogger = logging.getLogger(__name__)\n\ndef summarize_note_len(q):\n    logger.info('summarize_note is elsewhere')\n",
        ),
    ];
    let (found, out) = phi403_findings(&files, &[]);
    assert_eq!(
        found,
        vec![("PHI403".to_string(), "app/handler.py".to_string(), 9)],
        "{out}"
    );
}

#[test]
fn content_functions_of_test_code_and_generic_names_stay_in_their_file() {
    let provider = &llm_module(&["canned_answer", "transform"]);
    let caller = "import logging\nlogger = logging.getLogger(__name__)\n\ndef handle(q, rows):\n    logger.info(canned_answer(q))\n    logger.info(transform(rows))\n";
    let check = |provider_path: &str| {
        let t = tree(&[(provider_path, provider), ("app/handler.py", caller)]);
        let o = run_in(
            t.path(),
            &["check", "--format", "json", "--select", "PHI403"],
        );
        findings(&o)
    };
    // From production code, `canned_answer` carries content to its callers in other files;
    // `transform` is a generic name and does not.
    assert_eq!(
        check("app/llm.py"),
        vec![("PHI403".to_string(), "app/handler.py".to_string(), 5)]
    );
    // Defined only in test code, neither does.
    assert_eq!(check("tests/fakes.py"), vec![]);
}

#[test]
fn terraform_tfvars_override_defaults_also_for_a_file_named_relatively() {
    let account = "resource \"azurerm_cognitive_account\" \"oai\" {\n  name = \"notes\"\n  kind = \"OpenAI\"\n  public_network_access_enabled = false\n  local_auth_enabled = var.allow_keys\n}\n";
    let default_on = "variable \"allow_keys\" {\n  default = true\n}\n";
    let on = tree(&[
        ("infra/main.tf", account),
        ("infra/variables.tf", default_on),
    ]);
    let dir = on.path().join("infra");
    // Named relatively: the sibling files are still found.
    assert_eq!(
        findings(&run_in(&dir, &["check", "--format", "json", "main.tf"])),
        vec![("PHI503".to_string(), "main.tf".to_string(), 5)]
    );
    // terraform.tfvars turns the default off.
    let off = tree(&[
        ("infra/main.tf", account),
        ("infra/variables.tf", default_on),
        ("infra/terraform.tfvars", "allow_keys = false\n"),
    ]);
    let dir = off.path().join("infra");
    assert_eq!(
        findings(&run_in(&dir, &["check", "--format", "json", "main.tf"])),
        vec![]
    );
}

#[test]
fn test_folders_above_or_naming_the_root_do_not_hide_findings() {
    let t = tree(&[
        ("tests/proj/src/app.py", CONSUMER),
        ("tests/proj/tests/test_app.py", CONSUMER),
    ]);
    // Named by a relative path that starts with `tests/`, and by an absolute path.
    let rel = run_in(t.path(), &["check", "--format", "json", "tests/proj"]);
    assert_eq!(
        findings(&rel),
        vec![("PHI102".into(), "tests/proj/src/app.py".into(), 2)],
        "{}",
        stdout(&rel)
    );
    let root = t.path().join("tests/proj");
    let abs = run_in(
        &std::env::temp_dir(),
        &["check", "--format", "json", root.to_str().unwrap()],
    );
    assert_eq!(findings(&abs).len(), 1, "{}", stdout(&abs));
}

#[test]
fn bicep_module_parameters_are_judged_by_what_callers_pass() {
    let account = "param name string\nparam location string = 'eastus'\nparam disableLocalAuth bool = false\n\nresource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {\n  name: name\n  location: location\n  kind: 'OpenAI'\n  sku: { name: 'S0' }\n  properties: {\n    publicNetworkAccess: 'Disabled'\n    disableLocalAuth: disableLocalAuth\n  }\n}\n";
    // The only caller passes a parameter whose default is true: key auth is off.
    let safe = tree(&[
        ("infra/core/account.bicep", account),
        ("infra/main.bicep", "param disableKeyBasedAuth bool = true\n\nmodule openAi 'core/account.bicep' = {\n  name: 'openai'\n  params: {\n    name: 'notes-ai'\n    disableLocalAuth: disableKeyBasedAuth\n  }\n}\n"),
    ]);
    let o = run_in(
        safe.path(),
        &["check", "--format", "json", "--select", "PHI503"],
    );
    assert!(findings(&o).is_empty(), "{}", stdout(&o));
    // A caller passes false: reported in the module, where the attribute is.
    let unsafe_tree = tree(&[
        ("infra/core/account.bicep", account),
        ("infra/main.bicep", "module openAi 'core/account.bicep' = {\n  name: 'openai'\n  params: {\n    name: 'notes-ai'\n    disableLocalAuth: false\n  }\n}\n"),
    ]);
    let o = run_in(
        unsafe_tree.path(),
        &["check", "--format", "json", "--select", "PHI503"],
    );
    assert_eq!(
        findings(&o),
        vec![("PHI503".into(), "infra/core/account.bicep".into(), 12)],
        "{}",
        stdout(&o)
    );
    // Nobody calls the module: the parameter's default (false) applies.
    let alone = tree(&[("infra/core/account.bicep", account)]);
    let o = run_in(
        alone.path(),
        &["check", "--format", "json", "--select", "PHI503"],
    );
    assert_eq!(findings(&o).len(), 1, "{}", stdout(&o));
}

#[test]
fn a_module_caller_that_keeps_a_default_is_judged_by_it() {
    let account = "param name string\nparam kind string = 'OpenAI'\nparam disableLocalAuth bool = false\n\nresource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {\n  name: name\n  location: 'eastus'\n  kind: kind\n  sku: { name: 'S0' }\n  properties: {\n    publicNetworkAccess: 'Disabled'\n    disableLocalAuth: disableLocalAuth\n  }\n}\n";
    // One caller keeps kind 'OpenAI' and key auth on; another makes a Content Safety account.
    let t = tree(&[
        ("infra/core/account.bicep", account),
        ("infra/main.bicep", "module openAi 'core/account.bicep' = {\n  name: 'openai'\n  params: {\n    name: 'notes-ai'\n  }\n}\n\nmodule safety 'core/account.bicep' = {\n  name: 'safety'\n  params: {\n    name: 'notes-safety'\n    kind: 'ContentSafety'\n  }\n}\n"),
    ]);
    let o = run_in(
        t.path(),
        &["check", "--format", "json", "--select", "PHI503"],
    );
    assert_eq!(
        findings(&o),
        vec![("PHI503".into(), "infra/core/account.bicep".into(), 12)],
        "{}",
        stdout(&o)
    );
}
