//! The Helm chart in `helm/zmon`, checked without a `helm` binary: values
//! against their JSON schema (which must reject typos), every `.Values` path
//! the templates use, comments on every value, the YAML structure of the
//! templates once their template logic is stripped, and the facts the chart
//! shares with the image and the binary (uid, ports, settings, version).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::{Map, Value, json};

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../helm/zmon")
}

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn chart_file(path: &str) -> String {
    repo_file(&format!("helm/zmon/{path}"))
}

/// Every file under `templates/`, as (file name, text), sorted by name.
fn templates() -> Vec<(String, String)> {
    let dir = chart_dir().join("templates");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    files.sort();
    assert!(files.len() > 10, "templates found: {files:?}");
    files
}

fn template(name: &str) -> String {
    chart_file(&format!("templates/{name}"))
}

fn yaml_to_json(text: &str, what: &str) -> Value {
    // Through yaml_serde's own Value first: it refuses duplicate keys,
    // which serde_json's map would silently overwrite.
    let yaml: yaml_serde::Value =
        yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"));
    serde_json::to_value(yaml).unwrap_or_else(|e| panic!("{what} has no JSON form: {e}"))
}

fn values() -> Value {
    yaml_to_json(&chart_file("values.yaml"), "values.yaml")
}

fn schema() -> Value {
    serde_json::from_str(&chart_file("values.schema.json"))
        .unwrap_or_else(|e| panic!("values.schema.json is not valid JSON: {e}"))
}

/// The value at a dotted path, e.g. `controller.service.port`.
fn at<'a>(values: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(values, |v, key| {
        v.get(key)
            .unwrap_or_else(|| panic!("values.yaml has no {path} (missing at {key:?})"))
    })
}

/// Helm's merge of user values over the defaults: maps merge, the rest replaces.
fn merged(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let next = match b.get(k) {
                    Some(old) => merged(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), next);
            }
            Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Self {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V7);
        let loc = "file:///zmon-chart/values.schema.json";
        compiler
            .add_resource(loc, schema())
            .expect("the schema loads");
        let index = compiler
            .compile(loc, &mut schemas)
            .unwrap_or_else(|e| panic!("values.schema.json does not compile: {e:#}"));
        Self { schemas, index }
    }

    fn check(&self, values: &Value) -> Result<(), String> {
        self.schemas
            .validate(values, self.index)
            .map_err(|e| e.to_string())
    }
}

#[test]
fn values_yaml_validates_against_the_schema() {
    let validator = Validator::new();
    if let Err(e) = validator.check(&values()) {
        panic!("values.yaml does not match values.schema.json:\n{e}");
    }
    assert_eq!(
        schema()["$schema"],
        "http://json-schema.org/draft-07/schema#",
        "draft-07: understood by every Helm 3 release"
    );
}

#[test]
fn the_schema_rejects_typos_and_wrong_types() {
    let validator = Validator::new();
    let defaults = values();
    let rejected = [
        ("a typo at the top", json!({"controler": {}}), "controler"),
        (
            "a typo inside a role",
            json!({"controller": {"replica": 3}}),
            "replica",
        ),
        (
            "a typo in a security context",
            json!({"containerSecurityContext": {"readOnlyRootFileSystem": true}}),
            "readOnlyRootFileSystem",
        ),
        (
            "a typo in a definition shared by roles",
            json!({"worker": {"resources": {"request": {"cpu": "1"}}}}),
            "request",
        ),
        (
            "a string for a number",
            json!({"controller": {"replicas": "two"}}),
            "replicas",
        ),
        (
            "a string for a boolean",
            json!({"hostAgent": {"hostNetwork": "yes"}}),
            "hostNetwork",
        ),
        (
            "a value outside an enum",
            json!({"config": {"logFormat": "xml"}}),
            "logFormat",
        ),
        (
            "a database URL of another kind",
            json!({"secrets": {"databaseUrl": "mysql://db/zmon"}}),
            "databaseUrl",
        ),
        (
            "a Redis URL with TLS, which the binary cannot speak yet",
            json!({"secrets": {"redisUrl": "rediss://redis:6380"}}),
            "redisUrl",
        ),
        (
            "a port out of range",
            json!({"hostAgent": {"glances": {"port": 70000}}}),
            "port",
        ),
        (
            "an extra setting that is not a ZMON_ variable",
            json!({"config": {"extraEnv": {"RUST_LOG": "debug"}}}),
            "RUST_LOG",
        ),
    ];
    for (what, overlay, key) in rejected {
        let candidate = merged(&defaults, &overlay);
        match validator.check(&candidate) {
            Ok(()) => panic!("the schema accepts {what}: {overlay}"),
            Err(e) => assert!(
                e.contains(key),
                "the schema rejects {what}, but its message does not name {key:?}: {e}"
            ),
        }
    }

    // And the ordinary overrides pass.
    let accepted = [
        json!({"demo": {"postgresql": {"enabled": true}, "redis": {"enabled": true}}}),
        json!({"existingSecret": "zmon-credentials"}),
        json!({"secrets": {"databaseUrl": "postgres://zmon:pw@db:5432/zmon", "redisUrl": "redis://:pw@redis:6379/0"}}),
        json!({"controller": {"ingress": {"enabled": true, "className": "nginx",
            "tls": [{"secretName": "zmon-tls", "hosts": ["zmon.example.com"]}]},
            "pdb": {"maxUnavailable": "50%"}}}),
        json!({"worker": {"autoscaling": {"enabled": true, "maxReplicas": 20}}}),
        json!({"hostAgent": {"hostNetwork": true, "hostPID": true}, "monitors": {"icmp": {"enabled": true}}}),
        json!({"config": {"extraEnv": {"ZMON_GLANCES_CORS_ORIGINS": "https://ha.example.com"}}}),
        json!({"global": {"imageRegistry": "registry.example.com"}}),
    ];
    for overlay in accepted {
        if let Err(e) = validator.check(&merged(&defaults, &overlay)) {
            panic!("the schema rejects the valid override {overlay}:\n{e}");
        }
    }
}

/// JSON pointers of the schema's objects that take any key on purpose:
/// Helm's `global` and Kubernetes objects passed through as they are.
const OPEN_OBJECTS: &[&str] = &[
    "/properties/global",
    "/definitions/affinity/properties/nodeAffinity",
    "/definitions/affinity/properties/podAffinity",
    "/definitions/affinity/properties/podAntiAffinity",
    "/definitions/envVar/properties/valueFrom",
];

fn walk_schema(node: &Value, pointer: &str, problems: &mut Vec<String>) {
    let Value::Object(map) = node else { return };
    let is_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => map.contains_key("properties"),
    };
    if is_object {
        match map.get("additionalProperties") {
            None => problems.push(format!("{pointer}: declares no additionalProperties")),
            Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) if OPEN_OBJECTS.contains(&pointer) => {}
            Some(Value::Bool(true)) => problems.push(format!(
                "{pointer}: takes any key (additionalProperties: true)"
            )),
            // A map of names to typed values (labels, annotations, queue mapping).
            Some(Value::Object(_)) if !map.contains_key("properties") => {}
            Some(other) => problems.push(format!(
                "{pointer}: has properties, so additionalProperties must be false, not {other}"
            )),
        }
    }
    for (key, child) in map {
        match (key.as_str(), child) {
            ("properties" | "definitions", Value::Object(children)) => {
                for (name, sub) in children {
                    walk_schema(sub, &format!("{pointer}/{key}/{name}"), problems);
                }
            }
            ("items" | "additionalProperties", sub) => {
                walk_schema(sub, &format!("{pointer}/{key}"), problems)
            }
            _ => {}
        }
    }
}

#[test]
fn every_object_in_the_schema_rejects_unknown_keys() {
    let mut problems = Vec::new();
    walk_schema(&schema(), "", &mut problems);
    assert!(
        problems.is_empty(),
        "objects in values.schema.json that let typos through:\n{}",
        problems.join("\n")
    );
}

/// Paths of the schema's own `properties` (not through `$ref`, not into
/// lists), which values.yaml should all give a default.
fn schema_paths(node: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(Value::Object(props)) = node.get("properties") {
        for (name, sub) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            out.push(path.clone());
            schema_paths(sub, &path, out);
        }
    }
}

#[test]
fn values_yaml_gives_every_schema_property_a_default() {
    let values = values();
    let mut paths = Vec::new();
    schema_paths(&schema(), "", &mut paths);
    // Helm injects these when the chart is a subchart; zmon reads neither.
    let helm_injected = ["global", "enabled"];
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| !helm_injected.contains(&p.as_str()))
        .filter(|p| p.split('.').try_fold(&values, |v, k| v.get(k)).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "values.schema.json declares keys values.yaml lacks (a typo in one of them?): {missing:?}"
    );
}

#[test]
fn every_values_path_used_in_templates_exists() {
    let values = values();
    let re = Regex::new(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").expect("regex");
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (name, text) in templates() {
        for (n, line) in text.lines().enumerate() {
            for cap in re.captures_iter(line) {
                let path = cap[1].trim_start_matches('.').to_string();
                let mut node = &values;
                for key in path.split('.') {
                    match node.get(key) {
                        Some(next) => node = next,
                        None => {
                            problems.push(format!(
                                "templates/{name}:{}: .Values.{path} ({key:?} is not in values.yaml)",
                                n + 1
                            ));
                            break;
                        }
                    }
                }
                used.insert(path);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(used.len() > 50, "only {} paths found: {used:?}", used.len());
}

/// Keys of values.yaml without a comment line directly above them. Keys
/// inside list items (ingress hosts and paths, tolerations) are exempt: the
/// comment above the list documents its items, and the schema their keys.
fn undocumented_keys(text: &str) -> (Vec<String>, usize) {
    let key = Regex::new(r#"^([A-Za-z0-9_./-]+|"[^"]+"):(\s|$)"#).expect("regex");
    let lines: Vec<&str> = text.lines().collect();
    let mut sequence_indent: Option<usize> = None;
    let mut missing = Vec::new();
    let mut exempt = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        if let Some(seq) = sequence_indent
            && indent <= seq
            && !(is_item && indent == seq)
        {
            sequence_indent = None;
        }
        if is_item {
            sequence_indent.get_or_insert(indent);
            exempt += 1;
            continue;
        }
        if sequence_indent.is_some() {
            exempt += 1;
            continue;
        }
        if key.is_match(trimmed) {
            let documented = i > 0 && lines[i - 1].trim_start().starts_with('#');
            if !documented {
                missing.push(format!("values.yaml:{}: {}", i + 1, trimmed));
            }
        }
    }
    (missing, exempt)
}

#[test]
fn every_value_has_a_comment_above_it() {
    let (missing, exempt) = undocumented_keys(&chart_file("values.yaml"));
    assert!(
        missing.is_empty(),
        "keys without a comment line directly above:\n{}",
        missing.join("\n")
    );
    // Only the list items (ingress hosts, tolerations) are exempt.
    assert!(exempt < 12, "{exempt} lines of values.yaml sit in lists");

    // The check itself catches an undocumented key, and exempts list items.
    let (caught, _) = undocumented_keys("# a\na: 1\nb:\n  # c\n  c: 2\n");
    assert_eq!(caught, ["values.yaml:3: b:"]);
    let (caught, exempt) = undocumented_keys("# l\nl:\n  - x: 1\n    y: 2\n# z\nz: 3\n");
    assert!(caught.is_empty(), "{caught:?}");
    assert_eq!(exempt, 2);
}

/// One template line after stripping: its number and text, with the
/// conditions (`if`, `with`, `range` actions) it sits in. Lines that are a
/// single action are kept as they are, marked, for questions about what
/// guards them; the YAML is made of the others.
struct Kept {
    line: usize,
    text: String,
    conditions: Vec<String>,
    action: bool,
}

/// Removes template logic so that the YAML can be parsed: lines that are a
/// single action (`{{- if … }}`, `{{- end }}`, `{{- include … | nindent 4 }}`)
/// and `{{/* comments */}}` go; only the first branch of an `if`/`else` stays;
/// remaining `{{ … }}` expressions become the scalar `TPL`.
fn strip_template(text: &str) -> Vec<Kept> {
    let expression = Regex::new(r"\{\{.*?\}\}").expect("regex");
    let mut kept = Vec::new();
    // (action text, in its else branch)
    let mut blocks: Vec<(String, bool)> = Vec::new();
    let mut in_comment = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if in_comment {
            if trimmed.contains("*/") {
                in_comment = false;
            }
            continue;
        }
        if (trimmed.starts_with("{{/*") || trimmed.starts_with("{{- /*")) && !trimmed.contains("*/")
        {
            in_comment = true;
            continue;
        }
        let single_action = trimmed.starts_with("{{")
            && trimmed.ends_with("}}")
            && trimmed.matches("{{").count() == 1;
        let comment = trimmed.contains("/*");
        if single_action && !comment && !blocks.iter().any(|(_, in_else)| *in_else) {
            kept.push(Kept {
                line: n + 1,
                text: line.to_string(),
                conditions: blocks.iter().map(|(a, _)| a.clone()).collect(),
                action: true,
            });
        }
        if single_action {
            let inner = trimmed
                .trim_start_matches("{{")
                .trim_start_matches('-')
                .trim_end_matches("}}")
                .trim_end_matches('-')
                .trim();
            let keyword = inner.split_whitespace().next().unwrap_or_default();
            match keyword {
                "if" | "with" | "range" | "define" | "block" => {
                    blocks.push((inner.to_string(), false));
                }
                "else" => match blocks.last_mut() {
                    Some(top) => top.1 = true,
                    None => panic!("line {}: else outside a block", n + 1),
                },
                "end" => {
                    blocks
                        .pop()
                        .unwrap_or_else(|| panic!("line {}: end without a block", n + 1));
                }
                _ => {}
            }
            continue;
        }
        if blocks.iter().any(|(_, in_else)| *in_else) {
            continue;
        }
        kept.push(Kept {
            line: n + 1,
            text: expression.replace_all(line, "TPL").into_owned(),
            conditions: blocks.iter().map(|(a, _)| a.clone()).collect(),
            action: false,
        });
    }
    assert!(blocks.is_empty(), "unclosed blocks: {blocks:?}");
    kept
}

/// The YAML of a template once stripped, one line per entry.
fn yaml_lines(text: &str) -> Vec<Kept> {
    strip_template(text)
        .into_iter()
        .filter(|k| !k.action)
        .collect()
}

/// The YAML documents of a template, each with the line it starts on.
fn template_documents(name: &str, text: &str) -> Vec<(usize, Value)> {
    let mut docs = Vec::new();
    let mut current: Vec<&Kept> = Vec::new();
    let kept = yaml_lines(text);
    let mut flush = |lines: &mut Vec<&Kept>| {
        let body: String = lines.iter().map(|k| format!("{}\n", k.text)).collect();
        let meaningful = body
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if meaningful {
            let first = lines.first().map(|k| k.line).unwrap_or_default();
            let what = format!("templates/{name} (document from line {first}, stripped:\n{body})");
            docs.push((first, yaml_to_json(&body, &what)));
        }
        lines.clear();
    };
    for k in &kept {
        if k.text.trim() == "---" {
            flush(&mut current);
        } else {
            current.push(k);
        }
    }
    flush(&mut current);
    docs
}

fn pod_spec(doc: &Value) -> Option<&Value> {
    doc.pointer("/spec/template/spec")
}

#[test]
fn templates_are_well_formed_yaml_once_template_logic_is_stripped() {
    let mut kinds = BTreeSet::new();
    for (name, text) in templates() {
        if !name.ends_with(".yaml") {
            continue;
        }
        let docs = template_documents(&name, &text);
        assert!(!docs.is_empty(), "templates/{name} renders no document");
        for (line, doc) in docs {
            let at = format!("templates/{name}, document from line {line}");
            let kind = doc["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no kind: {doc}"));
            assert!(doc["apiVersion"].is_string(), "{at}: no apiVersion");
            assert!(
                doc["metadata"]["name"].is_string(),
                "{at}: no metadata.name"
            );
            assert!(
                doc["metadata"].get("labels").is_some(),
                "{at}: no metadata.labels (the standard labels)"
            );
            if let Some(spec) = pod_spec(&doc) {
                let containers = spec["containers"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{at}: spec.template.spec.containers is no list"));
                assert!(!containers.is_empty(), "{at}: no containers");
                for c in containers {
                    for field in ["name", "image", "securityContext", "resources"] {
                        assert!(
                            c.get(field).is_some(),
                            "{at}: a container without {field}: {c}"
                        );
                    }
                }
                assert!(
                    spec.get("securityContext").is_some(),
                    "{at}: no pod securityContext"
                );
                if kind != "Job" {
                    assert!(
                        doc["spec"]["selector"].is_object(),
                        "{at}: no spec.selector"
                    );
                }
            }
            kinds.insert(kind.to_string());
        }
    }
    for kind in [
        "ConfigMap",
        "DaemonSet",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
        "StatefulSet",
    ] {
        assert!(
            kinds.contains(kind),
            "no template renders a {kind}: {kinds:?}"
        );
    }
}

#[test]
fn the_stripper_catches_an_indentation_mistake() {
    let broken = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"x\" . | nindent 4 }}\nspec:\n  ports:\n    - name: http\n     port: 80\n";
    let body: String = yaml_lines(broken)
        .iter()
        .map(|k| format!("{}\n", k.text))
        .collect();
    assert!(
        yaml_serde::from_str::<yaml_serde::Value>(&body).is_err(),
        "a mis-indented key must not parse:\n{body}"
    );
    let with_else =
        "a: 1\n{{- if .Values.x }}\nb: 2\n{{- else }}\nb: 3\n{{- end }}\nc: {{ .Values.y }}\n";
    let kept = yaml_lines(with_else);
    let texts: Vec<&str> = kept.iter().map(|k| k.text.as_str()).collect();
    assert_eq!(texts, ["a: 1", "b: 2", "c: TPL"]);
    assert_eq!(kept[1].conditions, ["if .Values.x"]);
    // Both branches of an if would give duplicate keys; the parser says so.
    assert!(
        yaml_serde::from_str::<yaml_serde::Value>("a: 1\na: 2\n").is_err(),
        "duplicate keys must not parse"
    );
}

/// The lines of a template that contain `needle`, with their conditions.
fn lines_with<'a>(kept: &'a [Kept], needle: &str) -> Vec<&'a Kept> {
    kept.iter().filter(|k| k.text.contains(needle)).collect()
}

fn dockerfile_uid() -> u64 {
    let dockerfile = repo_file("Dockerfile");
    let user = dockerfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .next_back()
        .expect("the Dockerfile has a USER");
    user.split(':')
        .next()
        .and_then(|u| u.trim().parse().ok())
        .unwrap_or_else(|| panic!("a numeric USER in the Dockerfile: {user}"))
}

const ZMON_WORKLOADS: &[&str] = &[
    "controller-deployment.yaml",
    "scheduler-deployment.yaml",
    "worker-deployment.yaml",
    "notifier-deployment.yaml",
    "hostagent-daemonset.yaml",
    "migration-job.yaml",
];

#[test]
fn pods_run_as_the_image_user_non_root_on_a_read_only_root() {
    let values = values();
    let uid = dockerfile_uid();
    assert_eq!(uid, 10001, "the Dockerfile's user");
    let pod = at(&values, "podSecurityContext");
    assert_eq!(pod["runAsUser"], uid, "podSecurityContext.runAsUser");
    assert_eq!(pod["runAsGroup"], uid, "podSecurityContext.runAsGroup");
    assert_eq!(pod["runAsNonRoot"], true);
    assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault");
    let container = at(&values, "containerSecurityContext");
    assert_eq!(
        container["runAsUser"], uid,
        "containerSecurityContext.runAsUser"
    );
    assert_eq!(container["runAsNonRoot"], true);
    assert_eq!(container["readOnlyRootFilesystem"], true);
    assert_eq!(container["allowPrivilegeEscalation"], false);
    assert_eq!(container["capabilities"]["drop"], json!(["ALL"]));
    assert!(
        container["capabilities"].get("add").is_none(),
        "no capability is added by default"
    );
    assert_eq!(container["seccompProfile"]["type"], "RuntimeDefault");

    for name in ZMON_WORKLOADS {
        let text = template(name);
        assert!(
            text.contains(r#"include "zmon.podSecurityContext" ."#),
            "{name}: the pod security context"
        );
        assert!(
            text.contains(r#"include "zmon.containerSecurityContext" ."#)
                || text.contains("deepCopy .Values.containerSecurityContext"),
            "{name}: the container security context"
        );
        assert!(
            text.contains(r#"include "zmon.tmpVolumeMount" ."#),
            "{name}: a writable /tmp beside the read-only root"
        );
    }
    // The demo dependencies run as their images' own non-root users.
    for name in ["demo-postgresql.yaml", "demo-redis.yaml"] {
        let text = template(name);
        for needle in [
            "runAsNonRoot: true",
            "readOnlyRootFilesystem: true",
            "allowPrivilegeEscalation: false",
            "type: RuntimeDefault",
            "- ALL",
        ] {
            assert!(text.contains(needle), "{name}: {needle}");
        }
    }
}

#[test]
fn every_workload_has_probes_resources_and_a_grace_period() {
    let values = values();
    for role in [
        "controller",
        "scheduler",
        "worker",
        "notifier",
        "hostAgent",
        "migration",
        "demo.postgresql",
        "demo.redis",
    ] {
        let resources = at(&values, &format!("{role}.resources"));
        for field in [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
        ] {
            let value = field
                .split('.')
                .try_fold(resources, |v, k| v.get(k))
                .unwrap_or_else(|| panic!("{role}.resources.{field} has no default"));
            assert!(
                value.is_string() || value.is_number(),
                "{role}.resources.{field}: {value}"
            );
        }
    }
    let probed = [
        ("controller-deployment.yaml", "http", "controller"),
        ("scheduler-deployment.yaml", "admin", "scheduler"),
        ("worker-deployment.yaml", "admin", "worker"),
        ("notifier-deployment.yaml", "admin", "notifier"),
        ("hostagent-daemonset.yaml", "admin", "hostAgent"),
    ];
    for (name, port, role) in probed {
        let text = template(name);
        assert!(
            text.contains(&format!(
                r#"include "zmon.probes" (dict "ctx" . "port" "{port}")"#
            )),
            "{name}: liveness /health and readiness /ready on port {port}"
        );
        assert!(
            text.contains(&format!("toYaml .Values.{role}.resources")),
            "{name}: resources from {role}.resources"
        );
        assert!(
            text.contains(&format!(
                "terminationGracePeriodSeconds: {{{{ .Values.{role}.terminationGracePeriodSeconds"
            )),
            "{name}: terminationGracePeriodSeconds from {role}"
        );
    }
    let probes = template("_helpers.tpl");
    for needle in ["path: /health", "path: /ready"] {
        assert!(probes.contains(needle), "zmon.probes: {needle}");
    }
}

#[test]
fn shutdown_timeouts_stay_below_the_grace_periods() {
    let values = values();
    let int = |path: &str| {
        at(&values, path)
            .as_u64()
            .unwrap_or_else(|| panic!("{path} is no whole number"))
    };
    let controller = int("controller.shutdownTimeoutSecs") + int("controller.preStopSleepSeconds");
    assert!(
        controller < int("controller.terminationGracePeriodSeconds"),
        "controller: preStop sleep + HTTP drain ({controller} s) must end before SIGKILL"
    );
    for role in ["worker", "hostAgent"] {
        assert!(
            int(&format!("{role}.shutdownTimeoutSecs"))
                < int(&format!("{role}.terminationGracePeriodSeconds")),
            "{role}: the shutdown timeout must end before SIGKILL"
        );
    }
    assert_eq!(int("scheduler.replicas"), 2, "two schedulers, one leads");
    assert_eq!(int("controller.replicas"), 2, "two controllers by default");
    for (name, role) in [
        ("controller-deployment.yaml", "controller"),
        ("worker-deployment.yaml", "worker"),
        ("hostagent-daemonset.yaml", "hostAgent"),
    ] {
        let kept = yaml_lines(&template(name));
        let env = kept
            .iter()
            .position(|k| k.text.contains("name: ZMON_SHUTDOWN_TIMEOUT_SECS"))
            .unwrap_or_else(|| panic!("{name} sets no ZMON_SHUTDOWN_TIMEOUT_SECS"));
        let value = &kept[env + 1].text;
        assert!(value.contains("value: TPL"), "{name}: {value}");
        assert!(
            template(name).contains(&format!(
                "value: {{{{ .Values.{role}.shutdownTimeoutSecs | int | quote }}}}"
            )),
            "{name}: ZMON_SHUTDOWN_TIMEOUT_SECS from {role}.shutdownTimeoutSecs"
        );
    }
    // The chart refuses to render a grace period that the timeout outlasts.
    let helpers = template("_helpers.tpl");
    for role in ["controller", "worker", "hostAgent"] {
        assert!(
            helpers.contains(&format!(
                "{role}.shutdownTimeoutSecs must be below {role}.terminationGracePeriodSeconds"
            )),
            "_helpers.tpl: a fail for {role}'s timeout"
        );
    }
}

fn port_of(bind: &str) -> u16 {
    bind.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {bind}"))
}

/// The port of `ZMON_<name>=…` in the Dockerfile's ENV.
fn dockerfile_bind(name: &str) -> u16 {
    let dockerfile = repo_file("Dockerfile");
    let prefix = format!("{name}=");
    let bind = dockerfile
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the Dockerfile sets no {name}"));
    port_of(bind)
}

/// `containerPort: N` values of a template, in order.
fn container_ports(name: &str) -> Vec<String> {
    yaml_lines(&template(name))
        .iter()
        .filter_map(|k| k.text.trim().strip_prefix("containerPort:"))
        .map(|p| p.trim().to_string())
        .collect()
}

#[test]
fn container_ports_match_the_binary_defaults() {
    let controller = port_of(&zmon_controller::ControllerConfig::default().bind);
    let glances = port_of(&zmon_worker::glances::GlancesConfig::default().bind);
    let worker = dockerfile_bind("ZMON_WORKER_ADMIN_BIND");
    let scheduler = dockerfile_bind("ZMON_SCHEDULER_ADMIN_BIND");
    let notifier = dockerfile_bind("ZMON_NOTIFIER_ADMIN_BIND");
    assert_eq!(controller, dockerfile_bind("ZMON_BIND"));
    assert_eq!(
        (controller, worker, scheduler, glances),
        (8080, 8081, 8082, 61208),
        "the documented defaults"
    );

    let cases = [
        ("controller-deployment.yaml", controller, "ZMON_BIND"),
        (
            "scheduler-deployment.yaml",
            scheduler,
            "ZMON_SCHEDULER_ADMIN_BIND",
        ),
        ("worker-deployment.yaml", worker, "ZMON_WORKER_ADMIN_BIND"),
        (
            "notifier-deployment.yaml",
            notifier,
            "ZMON_NOTIFIER_ADMIN_BIND",
        ),
    ];
    for (name, port, variable) in cases {
        assert_eq!(container_ports(name), [port.to_string()], "{name}");
        let text = template(name);
        assert!(
            text.contains(&format!(
                "- name: {variable}\n              value: \"0.0.0.0:{port}\""
            )),
            "{name}: {variable} listens on 0.0.0.0:{port}"
        );
    }
    assert_eq!(
        container_ports("hostagent-daemonset.yaml"),
        ["TPL", "TPL"],
        "the host agent's admin and Glances ports come from values"
    );
    let values = values();
    assert_eq!(at(&values, "hostAgent.adminPort"), worker);
    assert_eq!(at(&values, "hostAgent.glances.port"), glances);
    assert_eq!(at(&values, "controller.service.port"), controller);
    let agent = template("hostagent-daemonset.yaml");
    assert!(agent.contains("containerPort: {{ .Values.hostAgent.adminPort | int }}"));
    assert!(agent.contains("containerPort: {{ .Values.hostAgent.glances.port | int }}"));
    assert!(agent.contains("value: \"0.0.0.0:{{ .Values.hostAgent.adminPort | int }}\""));
    assert!(agent.contains("value: \"0.0.0.0:{{ .Values.hostAgent.glances.port | int }}\""));
}

#[test]
fn host_agents_read_the_host_read_only_and_get_net_raw_only_for_icmp() {
    let text = template("hostagent-daemonset.yaml");
    let docs = template_documents("hostagent-daemonset.yaml", &text);
    let (_, daemonset) = docs.first().expect("a DaemonSet");
    assert_eq!(daemonset["kind"], "DaemonSet");
    let spec = pod_spec(daemonset).expect("a pod spec");
    let container = &spec["containers"][0];
    let mounts = container["volumeMounts"].as_array().expect("volume mounts");
    for (volume, path, host) in [
        ("host-proc", "/host/proc", "/proc"),
        ("host-sys", "/host/sys", "/sys"),
        ("host-etc", "/host/etc", "/etc"),
    ] {
        let mount = mounts
            .iter()
            .find(|m| m["name"] == volume)
            .unwrap_or_else(|| panic!("no mount of {volume}"));
        assert_eq!(mount["mountPath"], path);
        assert_eq!(mount["readOnly"], true, "{volume} is mounted read-only");
        let source = spec["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == volume)
            .unwrap_or_else(|| panic!("no volume {volume}"));
        assert_eq!(source["hostPath"]["path"], host);
    }
    let env: Vec<&Value> = container["env"].as_array().expect("env").iter().collect();
    let env_value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| (*e).clone())
            .unwrap_or_else(|| panic!("the host agent sets no {name}"))
    };
    assert_eq!(env_value("ZMON_HOST_AGENT")["value"], "true");
    assert_eq!(
        env_value("ZMON_HOST_ID")["valueFrom"]["fieldRef"]["fieldPath"],
        "spec.nodeName"
    );
    assert_eq!(env_value("ZMON_HOST_PROC")["value"], "/host/proc");
    assert_eq!(env_value("ZMON_HOST_SYS")["value"], "/host/sys");
    assert_eq!(env_value("ZMON_HOST_ETC")["value"], "/host/etc");
    assert!(env_value("ZMON_GLANCES_BIND")["value"].is_string());
    assert_eq!(spec["hostNetwork"], "TPL", "hostNetwork from values");
    assert_eq!(spec["hostPID"], "TPL", "hostPID from values");
    assert!(text.contains("hostNetwork: {{ .Values.hostAgent.hostNetwork }}"));
    assert!(text.contains("hostPID: {{ .Values.hostAgent.hostPID }}"));
    let values = values();
    assert_eq!(at(&values, "hostAgent.hostNetwork"), false);
    assert_eq!(at(&values, "hostAgent.hostPID"), false);
    assert_eq!(
        at(&values, "hostAgent.tolerations"),
        &json!([{"operator": "Exists"}]),
        "agents run on every node"
    );
    assert_eq!(at(&values, "monitors.icmp.enabled"), false);

    // NET_RAW appears once, under the ICMP switch, and nowhere else.
    let kept = strip_template(&text);
    let net_raw = lines_with(&kept, "NET_RAW");
    assert_eq!(net_raw.len(), 1, "NET_RAW is added in one place");
    assert!(
        net_raw[0]
            .conditions
            .iter()
            .any(|c| c == "if .Values.monitors.icmp.enabled"),
        "line {}: NET_RAW is added outside the monitors.icmp.enabled switch: {:?}",
        net_raw[0].line,
        net_raw[0].conditions
    );
    for (name, other) in templates() {
        if name != "hostagent-daemonset.yaml" {
            assert!(!other.contains("NET_RAW"), "{name} mentions NET_RAW");
        }
    }
    // The unprivileged ping sysctl is only for the pod's own network namespace.
    let sysctl = lines_with(&kept, "net.ipv4.ping_group_range");
    assert_eq!(sysctl.len(), 1);
    assert!(
        sysctl[0]
            .conditions
            .iter()
            .any(|c| c.contains(".Values.monitors.icmp.enabled")
                && c.contains("not .Values.hostAgent.hostNetwork")),
        "{:?}",
        sysctl[0].conditions
    );
}

#[test]
fn the_migration_job_is_a_pre_install_and_pre_upgrade_hook() {
    let text = template("migration-job.yaml");
    assert!(text.contains(r#"{{- $hooks := "pre-install,pre-upgrade" }}"#));
    let docs = template_documents("migration-job.yaml", &text);
    let job = docs
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == "Job")
        .expect("a Job");
    let annotations = &job["metadata"]["annotations"];
    assert_eq!(annotations["helm.sh/hook"], "TPL", "the hooks from $hooks");
    assert!(text.contains("helm.sh/hook: {{ $hooks }}"));
    assert_eq!(
        annotations["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded"
    );
    assert!(annotations.get("helm.sh/hook-weight").is_some());
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["args"], json!(["migrate"]));
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    // Its own credentials Secret is a hook created before it.
    let secret = docs
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == "Secret")
        .expect("the Job's Secret");
    assert_eq!(
        secret["metadata"]["annotations"]["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded"
    );
    assert!(text.contains("helm.sh/hook-weight: {{ sub $weight 1 | quote }}"));
}

#[test]
fn the_service_monitor_needs_the_value_and_the_crd() {
    let text = template("servicemonitor.yaml");
    let kept = yaml_lines(&text);
    let kind = lines_with(&kept, "kind: ServiceMonitor");
    assert_eq!(kind.len(), 1);
    let guard = kind[0].conditions.join(" ");
    assert!(
        guard.contains(".Values.metrics.serviceMonitor.enabled")
            && guard.contains(r#".Capabilities.APIVersions.Has "monitoring.coreos.com/v1""#),
        "the ServiceMonitor must need both the value and the CRD: {guard}"
    );
    assert_eq!(at(&values(), "metrics.serviceMonitor.enabled"), false);
}

#[test]
fn secrets_stay_out_of_the_config_map_and_existing_secret_skips_ours() {
    let secret = template("secret.yaml");
    assert!(
        secret.starts_with("{{- if not .Values.existingSecret }}"),
        "secret.yaml renders only without existingSecret"
    );
    let config = template("configmap.yaml");
    let secret_variables = [
        "ZMON_DATABASE_URL",
        "ZMON_REDIS_URL",
        "ZMON_ADMIN_PASSWORD",
        "ZMON_GLANCES_PASSWORD",
        "ZMON_OIDC_CLIENT_SECRET",
        "ZMON_GITHUB_CLIENT_SECRET",
        "ZMON_SESSION_SECRET",
        "ZMON_SMTP_URL",
        "ZMON_SLACK_WEBHOOK",
        "ZMON_PAGERDUTY_ROUTING_KEY",
        "ZMON_SMS_URL",
        "ZMON_OPSGENIE_API_KEY",
    ];
    for variable in secret_variables {
        assert!(
            !config.contains(variable),
            "configmap.yaml holds {variable}"
        );
    }
    // Each secret variable is read through secretKeyRef where it is set.
    let helpers = template("_helpers.tpl");
    for variable in secret_variables {
        let by_ref = templates()
            .iter()
            .any(|(_, t)| t.contains(&format!(r#""name" "{variable}" "key""#)))
            || helpers.contains(&format!(r#""name" "{variable}""#));
        assert!(by_ref, "{variable} is not read from the Secret");
    }
    // Workers, notifiers and host agents hold no database credentials.
    for name in [
        "worker-deployment.yaml",
        "notifier-deployment.yaml",
        "hostagent-daemonset.yaml",
    ] {
        let text = template(name);
        assert!(
            !text.contains("zmon.databaseEnv") && !text.contains("ZMON_DATABASE_URL"),
            "{name} gets database credentials"
        );
    }
}

/// The settings the binary knows: the variables in README.md's settings table.
fn documented_settings() -> BTreeSet<String> {
    let readme = repo_file("README.md");
    let re = Regex::new(r"`(ZMON_[A-Z0-9_]+)`").expect("regex");
    let table = readme
        .split("| variable | default | meaning |")
        .nth(1)
        .expect("README.md has the settings table");
    let table = table.split("\n\n").next().unwrap_or_default();
    re.captures_iter(table).map(|c| c[1].to_string()).collect()
}

#[test]
fn every_zmon_variable_the_chart_sets_is_a_known_setting() {
    let known = documented_settings();
    assert!(
        known.contains("ZMON_DATABASE_URL") && known.len() > 30,
        "{known:?}"
    );
    // Read by `zmon library load`, which NOTES.txt shows.
    let client = ["ZMON_URL", "ZMON_USER", "ZMON_PASSWORD", "ZMON_TOKEN"];
    let re = Regex::new(r"\bZMON_[A-Z0-9_]*[A-Z0-9]\b").expect("regex");
    let mut unknown = Vec::new();
    for (name, text) in templates() {
        for m in re.find_iter(&text) {
            let variable = m.as_str();
            let client_side = name == "NOTES.txt" && client.contains(&variable);
            if !known.contains(variable) && !client_side {
                unknown.push(format!("templates/{name}: {variable}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "variables zmon would ignore with a warning (a typo?):\n{}",
        unknown.join("\n")
    );
}

#[test]
fn chart_yaml_has_the_required_fields() {
    let chart = yaml_to_json(&chart_file("Chart.yaml"), "Chart.yaml");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "zmon", "the chart's directory name");
    assert_eq!(chart["type"], "application");
    let version = chart["version"].as_str().expect("a version string");
    let semver = Regex::new(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$").expect("regex");
    assert!(semver.is_match(version), "version is SemVer: {version}");
    assert_eq!(
        chart["appVersion"],
        env!("CARGO_PKG_VERSION"),
        "appVersion is the workspace's version (quoted, so YAML keeps it a string)"
    );
    assert!(
        chart["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    );
    assert!(chart["kubeVersion"].is_string());
    let values = values();
    assert_eq!(
        at(&values, "image.tag"),
        "",
        "the image tag follows appVersion"
    );
    assert!(template("_helpers.tpl").contains(".Values.image.tag | default .Chart.AppVersion"));
    for file in [
        "values.yaml",
        "values.schema.json",
        "templates/NOTES.txt",
        "templates/_helpers.tpl",
    ] {
        assert!(chart_dir().join(file).is_file(), "{file}");
    }
}

#[test]
fn helpers_define_the_standard_labels() {
    let helpers = template("_helpers.tpl");
    for label in [
        "app.kubernetes.io/name:",
        "app.kubernetes.io/instance:",
        "app.kubernetes.io/version:",
        "app.kubernetes.io/component:",
        "app.kubernetes.io/managed-by:",
        "helm.sh/chart:",
    ] {
        assert!(helpers.contains(label), "_helpers.tpl: {label}");
    }
    for name in [
        "zmon.labels",
        "zmon.selectorLabels",
        "zmon.fullname",
        "zmon.name",
    ] {
        assert!(
            helpers.contains(&format!(r#"{{{{- define "{name}" -}}}}"#)),
            "_helpers.tpl defines {name}"
        );
    }
    // Every object carries the labels (checked on the stripped YAML above)
    // from the helper, never hand-written.
    for (name, text) in templates() {
        if name.ends_with(".yaml") {
            assert!(
                text.contains(r#"include "zmon.labels""#),
                "{name} does not use zmon.labels"
            );
        }
    }
    let notes = template("NOTES.txt");
    assert!(
        notes.contains("port-forward"),
        "NOTES: how to reach the API"
    );
    assert!(
        notes.contains(r#"-o jsonpath="{.data.admin-password}" | base64 -d"#),
        "NOTES: how to read the admin password"
    );
}

/// Dotted `--set` keys in a document, e.g. `demo.postgresql.enabled`.
fn set_keys(doc: &str) -> Vec<String> {
    let re = Regex::new(r"--set(?:-string|-json)?[ =]([A-Za-z0-9_.\[\]\\/-]+)=").expect("regex");
    re.captures_iter(doc).map(|c| c[1].to_string()).collect()
}

/// Whether `key` (dots escaped with `\.`, `[n]` list indices) names a value
/// of values.yaml, or a key inside a free-form map such as annotations.
fn values_has(values: &Value, key: &str) -> bool {
    let parts: Vec<String> = key
        .replace("\\.", "\u{0}")
        .split('.')
        .map(|p| p.replace('\u{0}', "."))
        .collect();
    let index = Regex::new(r"\[\d+\]$").expect("regex");
    let mut node = values;
    for part in &parts {
        let (name, into_list) = match index.find(part) {
            Some(m) => (&part[..m.start()], true),
            None => (part.as_str(), false),
        };
        match node.get(name) {
            Some(next) => node = next,
            // A free-form map given as `{}` takes any key.
            None => return node.as_object().is_some_and(Map::is_empty),
        }
        if into_list {
            match node.as_array().and_then(|a| a.first()) {
                Some(first) => node = first,
                None => return node.is_array(),
            }
        }
    }
    true
}

#[test]
fn set_flags_and_values_files_in_the_docs_exist_in_values_yaml() {
    let values = values();
    let kubernetes = repo_file("docs/deploy/kubernetes.md");
    let readme = repo_file("README.md");
    let mut keys = set_keys(&kubernetes);
    assert!(
        keys.iter().any(|k| k == "demo.postgresql.enabled"),
        "the demo install is in docs/deploy/kubernetes.md: {keys:?}"
    );
    keys.extend(set_keys(&readme));
    let unknown: Vec<&String> = keys.iter().filter(|k| !values_has(&values, k)).collect();
    assert!(
        unknown.is_empty(),
        "--set keys in the docs that values.yaml does not have: {unknown:?}"
    );
    assert!(values_has(&values, "controller.ingress.hosts[0].host"));
    assert!(values_has(
        &values,
        r"controller.ingress.annotations.cert-manager\.io/cluster-issuer"
    ));
    assert!(!values_has(&values, "controler.replicas"));

    // Every YAML block of the deployment guide is a values file: it must pass the schema.
    let validator = Validator::new();
    let mut blocks = 0;
    for (i, block) in kubernetes.split("```yaml\n").skip(1).enumerate() {
        let body = block.split("```").next().unwrap_or_default();
        let overlay = yaml_to_json(body, &format!("YAML block {} of kubernetes.md", i + 1));
        if let Err(e) = validator.check(&merged(&values, &overlay)) {
            panic!(
                "YAML block {} of docs/deploy/kubernetes.md fails the schema:\n{body}\n{e}",
                i + 1
            );
        }
        blocks += 1;
    }
    assert!(blocks >= 1, "docs/deploy/kubernetes.md shows a values file");
}
