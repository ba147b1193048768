//! Probes: `http`, `tcp`, `dns`, and `now`.
//!
//! Each probe has its own timeout, never longer than what is left of the
//! run's deadline: a registered function counts as one Rhai operation
//! however long it blocks, so the operation limit alone would not stop a
//! slow probe.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, Engine, FLOAT, INT, ImmutableString, Map};
use serde_json::Value;

use super::{FnResult, fail};
use crate::context;

/// Largest response body a check may read.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Probe I/O runs on a small runtime of its own, so scripts can block on it
/// from any thread, inside another runtime or not.
static IO: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("zmon-probe-io")
        .enable_all()
        .build();
    match runtime {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!(error = %e, "cannot start the probe I/O runtime");
            None
        }
    }
});

/// Installs ring as the process's TLS crypto provider (sqlx uses ring
/// too). Call it before building any HTTP client; calling it again is
/// harmless.
pub fn install_crypto_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client(verify: bool) -> Option<&'static reqwest::Client> {
    static VERIFYING: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| build_client(true));
    static TRUSTING: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| build_client(false));
    if verify {
        VERIFYING.as_ref()
    } else {
        TRUSTING.as_ref()
    }
}

fn build_client(verify: bool) -> Option<reqwest::Client> {
    install_crypto_provider();
    let built = reqwest::Client::builder()
        .user_agent(concat!("zmon-worker/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(5))
        .danger_accept_invalid_certs(!verify)
        .build();
    match built {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for checks");
            None
        }
    }
}

/// The timeout for one probe: its own, capped by the run's deadline.
pub(super) fn budget(requested: Option<Duration>) -> Duration {
    let wanted = requested.unwrap_or(DEFAULT_TIMEOUT);
    context::remaining().map_or(wanted, |left| wanted.min(left))
}

/// Runs probe I/O to completion or until `timeout`.
pub(super) fn block_on<T: Send + 'static>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    let runtime = IO
        .as_ref()
        .ok_or("the probe I/O runtime is not available")?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = runtime.spawn(async move {
        let outcome = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {:.1}s", timeout.as_secs_f64())),
        };
        let _ = tx.send(outcome);
    });
    let result = rx
        .recv_timeout(timeout + Duration::from_millis(500))
        .unwrap_or_else(|_| Err(format!("timed out after {:.1}s", timeout.as_secs_f64())));
    task.abort();
    result
}

fn option_seconds(opts: &Map, key: &str) -> FnResult<Option<Duration>> {
    match opts.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => {
            let secs = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as FLOAT))
                .map_err(|_| format!("{key} must be a number of seconds"))?;
            if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
                return fail(format!("{key} must be between 0 and 3600 seconds"));
            }
            Ok(Some(Duration::from_secs_f64(secs)))
        }
    }
}

/// What `http(...)` answers.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    status: INT,
    body: String,
    headers: Map,
    elapsed: FLOAT,
}

impl HttpResponse {
    fn json(&mut self) -> FnResult<Dynamic> {
        let value: Value = serde_json::from_str(&self.body)
            .map_err(|e| format!("the response is not JSON: {e}"))?;
        Ok(crate::convert::to_dynamic(&value))
    }
}

/// ZMON resolves a relative URL against the entity: its `url` (with
/// `http://` added when it has no scheme), else `http://<host>`.
fn resolve_url(url: &str) -> FnResult<String> {
    if url.contains("://") {
        return Ok(url.to_string());
    }
    let base = context::with_state(|s| {
        let text = |k: &str| s.entity.get(k).and_then(Value::as_str).map(str::to_string);
        match (text("url"), text("host")) {
            (Some(u), _) if u.contains("://") => Some(u),
            (Some(u), _) => Some(format!("http://{u}")),
            (None, Some(h)) => Some(format!("http://{h}")),
            (None, None) => None,
        }
    });
    let Some(base) = base else {
        return fail(format!(
            "the relative URL '{url}' needs an entity with 'url' or 'host'"
        ));
    };
    let base = base.trim_end_matches('/');
    if url.is_empty() {
        return Ok(base.to_string());
    }
    if url.starts_with('/') {
        Ok(format!("{base}{url}"))
    } else {
        Ok(format!("{base}/{url}"))
    }
}

fn http(url: &str, opts: Map) -> FnResult<HttpResponse> {
    let url = resolve_url(url)?;
    let method = match opts.get("method") {
        Some(m) => m
            .clone()
            .into_string()
            .map_err(|_| "method must be a string".to_string())?,
        None => "GET".into(),
    };
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("unknown HTTP method '{method}'"))?;
    let verify = match opts.get("verify") {
        Some(v) => v
            .as_bool()
            .map_err(|_| "verify must be true or false".to_string())?,
        None => true,
    };
    let timeout = budget(option_seconds(&opts, "timeout")?);
    let client = client(verify).ok_or("no HTTP client is available")?;
    let mut request = client.request(method, &url).timeout(timeout);
    if let Some(headers) = opts.get("headers") {
        let headers = headers
            .read_lock::<Map>()
            .ok_or("headers must be a map")?
            .clone();
        for (k, v) in headers {
            request = request.header(k.as_str(), v.to_string());
        }
    }
    if let Some(body) = opts.get("body") {
        request = request.body(body.to_string());
    }
    let started = Instant::now();
    let shown_url = url.clone();
    let outcome = block_on(timeout, async move {
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let mut headers = Map::new();
        for (k, v) in response.headers() {
            headers.insert(
                k.as_str().into(),
                Dynamic::from(String::from_utf8_lossy(v.as_bytes()).into_owned()),
            );
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(format!(
                    "the response body is larger than {MAX_BODY_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    });
    let (status, headers, body) = outcome.map_err(|e| format!("http {shown_url}: {e}"))?;
    Ok(HttpResponse {
        status: INT::from(status),
        body: String::from_utf8_lossy(&body).into_owned(),
        headers,
        elapsed: started.elapsed().as_secs_f64(),
    })
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What `tcp(...)` answers.
#[derive(Debug, Clone)]
pub struct TcpResult {
    open: bool,
    elapsed: FLOAT,
}

fn tcp(host: &str, port: INT, opts: Map) -> FnResult<TcpResult> {
    let Ok(port) = u16::try_from(port) else {
        return fail(format!("tcp: {port} is not a port number"));
    };
    let timeout = budget(option_seconds(&opts, "timeout")?);
    let target = format!("{host}:{port}");
    let started = Instant::now();
    let open = block_on(timeout, async move {
        match tokio::net::TcpStream::connect(&target).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(false),
            Err(e) => Err(format!("tcp {target}: {e}")),
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    match open {
        Ok(open) => Ok(TcpResult { open, elapsed }),
        // A port that does not answer within the timeout is closed to us.
        Err(e) if e.starts_with("timed out") => Ok(TcpResult {
            open: false,
            elapsed,
        }),
        Err(e) => fail(e),
    }
}

fn dns(name: &str, opts: Map) -> FnResult<Array> {
    let timeout = budget(option_seconds(&opts, "timeout")?);
    let query = format!("{name}:0");
    let shown = name.to_string();
    let addresses = block_on(timeout, async move {
        let found = tokio::net::lookup_host(query)
            .await
            .map_err(|e| format!("dns {shown}: {e}"))?;
        Ok(found.map(|a| a.ip().to_string()).collect::<BTreeSet<_>>())
    })?;
    Ok(addresses.into_iter().map(Dynamic::from).collect())
}

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<HttpResponse>("HttpResponse")
        .register_fn("http", |url: ImmutableString| http(&url, Map::new()))
        .register_fn("http", |url: ImmutableString, opts: Map| http(&url, opts))
        .register_fn("code", |r: &mut HttpResponse| r.status)
        .register_fn("text", |r: &mut HttpResponse| r.body.clone())
        .register_fn("json", HttpResponse::json)
        .register_fn("time", |r: &mut HttpResponse| r.elapsed)
        .register_fn("headers", |r: &mut HttpResponse| r.headers.clone())
        .register_type_with_name::<TcpResult>("TcpResult")
        .register_fn("tcp", |host: ImmutableString, port: INT| {
            tcp(&host, port, Map::new())
        })
        .register_fn("tcp", |host: ImmutableString, port: INT, opts: Map| {
            tcp(&host, port, opts)
        })
        .register_fn("open", |r: &mut TcpResult| r.open)
        .register_fn("time", |r: &mut TcpResult| r.elapsed)
        .register_fn("dns", |name: ImmutableString| dns(&name, Map::new()))
        .register_fn("dns", |name: ImmutableString, opts: Map| dns(&name, opts))
        .register_fn("now", || -> FLOAT {
            chrono::Utc::now().timestamp_micros() as FLOAT / 1e6
        });
}
