//! The container image, checked without a Docker engine: the stages, the
//! binary's path, a non-root user, and ports that match the defaults.

use std::collections::BTreeSet;

const DOCKERFILE: &str = include_str!("../../Dockerfile");
const DOCKERIGNORE: &str = include_str!("../../.dockerignore");

/// Instructions with their arguments, continuation lines joined.
fn instructions() -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in DOCKERFILE.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter_map(|l| {
            let (op, args) = l.split_once(' ')?;
            Some((op.to_uppercase(), args.trim().to_string()))
        })
        .collect()
}

fn args_of(op: &str) -> Vec<String> {
    instructions()
        .into_iter()
        .filter(|(o, _)| o == op)
        .map(|(_, a)| a)
        .collect()
}

fn port(bind: &str) -> u16 {
    bind.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_default()
}

#[test]
fn a_build_stage_and_a_slim_runtime_stage() {
    let stages = args_of("FROM");
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].starts_with("rust:") && stages[0].ends_with("AS build"));
    assert!(stages[1].contains("slim") && stages[1].ends_with("AS runtime"));
    let runs = args_of("RUN").join("\n");
    assert!(runs.contains("cargo build --release --locked -p zmon"));
    assert!(
        runs.contains("ca-certificates"),
        "TLS to PostgreSQL, Redis, OAuth"
    );
}

#[test]
fn the_runtime_holds_only_the_binary_and_runs_it_as_a_non_root_user() {
    let copies = args_of("COPY");
    assert!(
        copies.contains(&"--from=build /src/target/release/zmon /usr/local/bin/zmon".to_string()),
        "{copies:?}"
    );
    let user = args_of("USER");
    let user = user.last().expect("a USER");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u >= 1000),
        "a numeric non-root uid, so Kubernetes' runAsNonRoot can verify it: {user}"
    );
    assert_eq!(args_of("ENTRYPOINT"), ["[\"zmon\"]"]);
}

#[test]
fn exposed_ports_match_the_binds_and_the_defaults() {
    let exposed: BTreeSet<u16> = args_of("EXPOSE")
        .iter()
        .flat_map(|a| a.split_whitespace().map(|p| p.parse().unwrap_or_default()))
        .collect();
    let env = args_of("ENV").join(" ");
    let binds: BTreeSet<u16> = env
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.ends_with("_BIND"))
        .map(|(_, v)| port(v))
        .collect();
    assert!(
        binds.is_subset(&exposed),
        "{binds:?} not all in {exposed:?}"
    );
    let controller = port(&zmon_controller::ControllerConfig::default().bind);
    let glances = port(&zmon_worker::glances::GlancesConfig::default().bind);
    assert!(
        exposed.contains(&controller),
        "the controller's {controller}"
    );
    assert!(exposed.contains(&glances), "the Glances API's {glances}");
}

#[test]
fn build_output_and_data_stay_out_of_the_context() {
    for pattern in ["target/", "zmon-data/", ".git/"] {
        assert!(
            DOCKERIGNORE.lines().any(|l| l.trim() == pattern),
            "{pattern}"
        );
    }
}
