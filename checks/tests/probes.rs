//! `http`, `tcp` and `dns` against real local servers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use zmon_checks::{compile, run_command};

/// A tiny HTTP server on loopback answering every request with `body`;
/// with `stall` it accepts and then never answers.
fn serve(body: &'static str, stall: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            if stall {
                held.push(stream);
                continue;
            }
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let first = request.lines().next().unwrap_or_default().to_string();
            let reply = body.replace("{line}", &first);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Probe: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                reply.len(),
                reply
            );
        }
    });
    port
}

fn run(script: &str, entity: Value) -> Result<Value, String> {
    let compiled = compile(script).unwrap_or_else(|e| panic!("{script}: {e}"));
    let entity: Map<String, Value> = entity.as_object().cloned().unwrap_or_default();
    run_command(&compiled, &entity, Duration::from_secs(10)).map_err(|e| e.0)
}

#[test]
fn http_answers_code_json_text_headers_and_time() {
    let port = serve(r#"{"status": "UP", "line": "{line}"}"#, false);
    let url = format!("http://127.0.0.1:{port}/health");
    let entity = json!({"id": "h", "type": "host"});
    assert_eq!(
        run(&format!("http('{url}').code()"), entity.clone()),
        Ok(json!(200))
    );
    assert_eq!(
        run(&format!("http('{url}').json()['status']"), entity.clone()),
        Ok(json!("UP"))
    );
    assert_eq!(
        run(
            &format!("http('{url}').headers()['x-probe']"),
            entity.clone()
        ),
        Ok(json!("yes"))
    );
    let time = run(&format!("http('{url}', timeout=5).time()"), entity.clone()).expect("time");
    assert!(time.as_f64().is_some_and(|t| t > 0.0 && t < 5.0));
    assert_eq!(
        run(
            &format!("http(\"{url}\", #{{method: \"HEAD\"}}).code()"),
            entity
        ),
        Ok(json!(200))
    );
}

#[test]
fn relative_urls_resolve_against_the_entity() {
    let port = serve(r#""{line}""#, false);
    let by_host = run(
        "http('/health').json()",
        json!({"id": "h", "type": "host", "host": format!("127.0.0.1:{port}")}),
    );
    assert_eq!(by_host, Ok(json!("GET /health HTTP/1.1")));
    let by_url = run(
        "http('status').json()",
        json!({"id": "h", "type": "host", "url": format!("127.0.0.1:{port}/app")}),
    );
    assert_eq!(by_url, Ok(json!("GET /app/status HTTP/1.1")));
    let none = run("http('/x').code()", json!({"id": "h", "type": "host"}));
    assert!(
        none.expect_err("no base")
            .contains("needs an entity with 'url' or 'host'")
    );
}

#[test]
fn a_stalled_server_times_out_at_the_probe_timeout() {
    let port = serve("", true);
    let started = Instant::now();
    let result = run(
        &format!("http('http://127.0.0.1:{port}/', timeout=0.5).code()"),
        json!({}),
    );
    let error = result.expect_err("stalled");
    assert!(
        error.contains("timed out") || error.contains("timeout"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn tcp_and_dns() {
    let port = serve("", true);
    assert_eq!(
        run(&format!("tcp('127.0.0.1', {port}).open()"), json!({})),
        Ok(json!(true))
    );
    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    assert_eq!(
        run(
            &format!("tcp('127.0.0.1', {closed}, timeout=1).open()"),
            json!({})
        ),
        Ok(json!(false))
    );
    let addresses = run("dns('localhost')", json!({})).expect("dns");
    assert!(
        addresses
            .as_array()
            .is_some_and(|a| a.iter().any(|ip| ip == "127.0.0.1" || ip == "::1")),
        "{addresses}"
    );
    let now = run("now()", json!({})).expect("now");
    assert!(now.as_f64().is_some_and(|t| t > 1.7e9));
}
