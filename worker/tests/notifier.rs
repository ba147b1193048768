//! The notifier against local stand-ins that speak the real protocols: an
//! HTTP receiver recording what Slack, PagerDuty, OpsGenie, an SMS gateway
//! and webhooks would get, and an SMTP sink on loopback.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use zmon_bus::{Bus, MemoryBus};
use zmon_core::event::AlertEventKind;
use zmon_core::notification::{NotificationRequest, NotifiedAlert, NotifyEvent};
use zmon_worker::notifier::{Attempt, Notifier, NotifierConfig};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Value,
    at: std::time::Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer first, then 200.
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    fn got(&self) -> Vec<Received> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    fn fail_with(&self, statuses: &[u16]) {
        if let Ok(mut s) = self.script.lock() {
            s.extend(statuses);
        }
    }

    fn header(r: &Received, name: &str) -> Option<String> {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

async fn record(req: HttpRequest, body: web::Bytes, rx: web::Data<Receiver>) -> HttpResponse {
    let received = Received {
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: std::time::Instant::now(),
    };
    if let Ok(mut got) = rx.got.lock() {
        got.push(received);
    }
    let status = rx
        .script
        .lock()
        .ok()
        .and_then(|mut s| s.pop_front())
        .unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .body("ok")
}

/// Starts the receiver; returns its base URL.
fn receiver() -> (Receiver, String) {
    let rx = Receiver::default();
    let data = web::Data::new(rx.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(record))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (rx, format!("http://{addr}"))
}

/// Mails a sink accepted: (envelope recipients, DATA).
type Mailbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server that keeps every message it accepts.
fn smtp_sink() -> (Mailbox, String) {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let (mut rcpt, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            if let Ok(mut k) = kept.lock() {
                                k.push((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            }
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (mails, format!("smtp://{addr}"))
}

fn request(expr: &str, event: NotifyEvent) -> NotificationRequest {
    NotificationRequest {
        id: uuid::Uuid::new_v4().to_string(),
        event,
        expr: expr.into(),
        spec: zmon_checks::notification::parse(expr).expect("parses"),
        alert: NotifiedAlert {
            id: 12,
            name: "Disk {mount} full".into(),
            check_id: 3,
            condition: "value > 90".into(),
            team: "db".into(),
            responsible_team: "db".into(),
            priority: 1,
            period: String::new(),
            tags: vec!["disk".into()],
        },
        entity_id: "db-1".into(),
        entity: json!({"id": "db-1", "type": "host"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        captures: json!({"mount": "/var"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        value: json!({"ts": 1_700_000_000.0, "td": 0.1, "value": 95.5, "worker": "w1"}),
        worker: "w1".into(),
        ts: 1_700_000_000.0,
        duration_secs: 0.0,
        alert_changed: true,
        reason: None,
    }
}

fn config(base: &str, smtp: Option<String>) -> NotifierConfig {
    NotifierConfig {
        name: "notifier-test".into(),
        smtp_url: smtp,
        smtp_from: "zmon@example.org".into(),
        slack_webhook: Some(format!("{base}/slack/hook")),
        pagerduty_routing_key: Some("0123456789abcdef0123456789abcdef".into()),
        pagerduty_events_url: format!("{base}/v2/enqueue"),
        sms_url: Some(format!("{base}/sms?key=secret")),
        opsgenie_url: base.to_string(),
        opsgenie_api_key: Some("genie".into()),
        http_allow: vec![format!("{base}/hooks/")],
        public_url: Some("https://zmon.example.org".into()),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(100),
        ..NotifierConfig::default()
    }
}

fn delivered(a: &Attempt) -> bool {
    matches!(a, Attempt::Delivered { .. })
}

#[actix_web::test]
async fn each_target_gets_zmons_payload() {
    let (rx, base) = receiver();
    let (mails, smtp) = smtp_sink();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let notifier = Notifier::new(config(&base, Some(smtp)), bus).expect("notifier");

    let slack = notifier
        .deliver(&request("send_slack(channel='#db')", NotifyEvent::New))
        .await;
    assert!(delivered(&slack), "{slack:?}");
    let pd_new = request("notify_pagerduty()", NotifyEvent::New);
    assert!(delivered(&notifier.deliver(&pd_new).await));
    assert!(delivered(
        &notifier
            .deliver(&request("notify_pagerduty()", NotifyEvent::Ended))
            .await
    ));
    let hook =
        format!("notify_http('{base}/hooks/zmon', body={{'k': 1}}, headers={{'X-Team': 'db'}})");
    assert!(delivered(
        &notifier
            .deliver(&request(&hook, NotifyEvent::Ongoing))
            .await
    ));
    let am = format!("notify_http('{base}/hooks/am', format='alertmanager')");
    assert!(delivered(
        &notifier.deliver(&request(&am, NotifyEvent::Ended)).await
    ));
    assert!(delivered(
        &notifier
            .deliver(&request("send_sms('+4912345')", NotifyEvent::New))
            .await
    ));
    assert!(delivered(
        &notifier
            .deliver(&request("notify_opsgenie(teams=['db'])", NotifyEvent::New))
            .await
    ));
    assert!(delivered(
        &notifier
            .deliver(&request(
                "notify_opsgenie(teams=['db'])",
                NotifyEvent::Ended
            ))
            .await
    ));
    let mail = notifier
        .deliver(&request(
            "send_mail('a@example.org', 'b@example.org', repeat=60)",
            NotifyEvent::New,
        ))
        .await;
    assert!(delivered(&mail), "{mail:?}");

    let got = rx.got();
    let by_path = |p: &str| {
        got.iter()
            .filter(|r| r.path == p)
            .cloned()
            .collect::<Vec<_>>()
    };

    let slack = &by_path("/slack/hook")[0].body;
    assert_eq!(slack["username"], "ZMON");
    assert_eq!(slack["channel"], "#db");
    assert_eq!(slack["icon_emoji"], ":bar_chart:");
    assert_eq!(slack["text"], "NEW ALERT: Disk /var full on db-1");

    let pd = by_path("/v2/enqueue");
    assert_eq!(pd.len(), 2);
    let trigger = &pd[0].body;
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], "0123456789abcdef0123456789abcdef");
    assert_eq!(trigger["dedup_key"], "ZMON-12", "per alert by default");
    assert_eq!(trigger["client"], "ZMON");
    assert_eq!(
        trigger["client_url"],
        "https://zmon.example.org/#/alert-details/12"
    );
    assert_eq!(trigger["payload"]["summary"], "Disk /var full on db-1");
    assert_eq!(trigger["payload"]["severity"], "critical", "priority 1");
    assert_eq!(trigger["payload"]["source"], "w1");
    assert_eq!(trigger["payload"]["component"], "db-1");
    assert!(
        trigger["payload"]["timestamp"]
            .as_str()
            .is_some_and(|t| t.starts_with("2023-11-14T22:13:20"))
    );
    assert_eq!(trigger["payload"]["custom_details"]["alert_def"]["id"], 12);
    assert_eq!(
        pd[1].body,
        json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "resolve", "dedup_key": "ZMON-12"})
    );

    let zmon = &by_path("/hooks/zmon")[0];
    assert_eq!(zmon.body["body"], json!({"k": 1}));
    assert_eq!(zmon.body["alert"]["alert_def"]["name"], "Disk {mount} full");
    assert_eq!(zmon.body["alert"]["is_alert"], true);
    assert_eq!(zmon.body["alert"]["changed"], false, "ONGOING");
    assert_eq!(zmon.body["alert"]["entity"]["id"], "db-1");
    assert_eq!(Receiver::header(zmon, "x-team").as_deref(), Some("db"));
    assert!(Receiver::header(zmon, "content-type").is_some_and(|c| c.contains("application/json")));

    let am = &by_path("/hooks/am")[0].body;
    assert_eq!(am["version"], "4");
    assert_eq!(am["status"], "resolved");
    assert_eq!(am["groupKey"], "zmon:12");
    assert_eq!(am["alerts"][0]["labels"]["alertname"], "Disk /var full");
    assert_eq!(am["alerts"][0]["labels"]["entity"], "db-1");
    assert_eq!(
        am["alerts"][0]["generatorURL"],
        "https://zmon.example.org/#/alert-details/12"
    );
    assert!(
        am["alerts"][0]["endsAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("2023"))
    );

    let sms = &by_path("/sms")[0];
    assert!(
        sms.query
            .starts_with("key=secret&to=%2B4912345&from=zmon&message=NEW+ALERT"),
        "{}",
        sms.query
    );

    let genie = by_path("/v2/alerts");
    assert_eq!(genie.len(), 1);
    assert_eq!(genie[0].body["alias"], "ZMON-12");
    assert_eq!(
        genie[0].body["responders"],
        json!([{"type": "team", "name": "db"}])
    );
    assert_eq!(genie[0].body["priority"], "P1");
    assert_eq!(
        Receiver::header(&genie[0], "authorization").as_deref(),
        Some("GenieKey genie")
    );
    let close = by_path("/v2/alerts/ZMON-12/close");
    assert_eq!(close.len(), 1);
    assert_eq!(close[0].query, "identifierType=alias");

    let mails = mails.lock().map(|m| m.clone()).unwrap_or_default();
    assert_eq!(mails.len(), 1);
    let (rcpt, data) = &mails[0];
    assert_eq!(rcpt, &["a@example.org", "b@example.org"], "both as Bcc");
    assert!(
        data.contains("Subject: NEW ALERT: Disk /var full on db-1"),
        "{data}"
    );
    assert!(data.contains("Undisclosed Recipients"), "{data}");
    assert!(
        !data.contains("a@example.org"),
        "hidden recipients stay out of the headers: {data}"
    );
    assert!(data.contains("New alert on db-1: Disk /var full"), "{data}");
    assert!(data.contains("Value: 95.5"), "{data}");
}

#[actix_web::test]
async fn refusals_are_final_and_explained() {
    let (rx, base) = receiver();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let notifier = Notifier::new(config(&base, None), bus).expect("notifier");
    let outside = notifier
        .deliver(&request(
            "notify_http('http://169.254.169.254/latest')",
            NotifyEvent::New,
        ))
        .await;
    assert!(
        matches!(&outside, Attempt::Fatal { error, .. } if error.contains("ZMON_NOTIFY_HTTP_ALLOW")),
        "{outside:?}"
    );
    let mail = notifier
        .deliver(&request("send_mail('a@b.org')", NotifyEvent::New))
        .await;
    assert!(
        matches!(&mail, Attempt::Fatal { error, .. } if error.contains("ZMON_SMTP_URL")),
        "{mail:?}"
    );
    rx.fail_with(&[400]);
    let bad = notifier
        .deliver(&request("send_slack()", NotifyEvent::New))
        .await;
    assert!(
        matches!(
            &bad,
            Attempt::Fatal {
                status: Some(400),
                ..
            }
        ),
        "{bad:?}"
    );
    assert_eq!(rx.got().len(), 1, "a 400 is not retried");
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_and_every_attempt_recorded() {
    let (rx, base) = receiver();
    rx.fail_with(&[503, 429]);
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let mut events = bus.event_consumer("test", "t").await.expect("events");
    let notifier = Notifier::new(config(&base, None), bus.clone()).expect("notifier");
    let stop = notifier.stopper();
    let running = tokio::spawn(notifier.run());
    bus.publish_notifications(&[request("send_slack()", NotifyEvent::New)])
        .await
        .expect("publish");

    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while kinds.len() < 3 && tokio::time::Instant::now() < deadline {
        for (_, e) in events
            .next(10, Duration::from_millis(100))
            .await
            .expect("read")
        {
            let e = e.expect("readable");
            kinds.push((e.kind, e.data.clone().unwrap_or_default()));
        }
    }
    assert_eq!(
        kinds.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [
            AlertEventKind::NotificationFailed,
            AlertEventKind::NotificationFailed,
            AlertEventKind::NotificationSent
        ]
    );
    assert_eq!(kinds[0].1["attempt"], 1);
    assert_eq!(kinds[0].1["http_status"], 503);
    assert_eq!(kinds[0].1["will_retry"], true);
    assert_eq!(kinds[1].1["http_status"], 429);
    assert_eq!(kinds[2].1["attempt"], 3);
    assert_eq!(kinds[2].1["event"], "NEW");
    assert_eq!(rx.got().len(), 3, "one delivery after two failures");
    stop.stop();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stops")
        .expect("joins");
}

#[actix_web::test]
async fn groups_resolve_at_send_time() {
    use zmon_core::group::{GroupChange, GroupSpec, MemberSpec};
    let (rx, base) = receiver();
    let (mails, smtp) = smtp_sink();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let member = |id: &str, phone: &str| MemberSpec {
        id: id.into(),
        name: None,
        phones: vec![phone.into()],
    };
    bus.put_group(
        "db",
        &GroupSpec {
            name: None,
            members: vec![
                member("a@example.org", "+491"),
                member("b@example.org", "+492"),
            ],
            active: vec!["b@example.org".into()],
        },
    )
    .await
    .expect("group");
    let notifier = Notifier::new(config(&base, Some(smtp)), bus.clone()).expect("notifier");
    let mail = notifier
        .deliver(&request(
            "send_mail('group:db', 'x@example.org')",
            NotifyEvent::New,
        ))
        .await;
    assert!(
        matches!(&mail, Attempt::Delivered { targets, .. } if targets == &["a@example.org", "b@example.org", "x@example.org"]),
        "{mail:?}"
    );
    let sms = notifier
        .deliver(&request("send_sms('active:db')", NotifyEvent::New))
        .await;
    assert!(
        matches!(&sms, Attempt::Delivered { targets, .. } if targets == &["+492"]),
        "{sms:?}"
    );
    // A handoff applies to the next notification; a removed member is off call.
    bus.change_group(&GroupChange::RemoveMember {
        group: "db".into(),
        member: "b@example.org".into(),
    })
    .await
    .expect("remove");
    let nobody = notifier
        .deliver(&request("send_sms('active:db')", NotifyEvent::Ongoing))
        .await;
    assert!(
        matches!(&nobody, Attempt::Fatal { error, .. } if error.contains("resolved to nobody")),
        "{nobody:?}"
    );
    let texts: Vec<String> = rx.got().iter().map(|r| r.query.clone()).collect();
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains("to=%2B492"), "{texts:?}");
    let mails = mails.lock().map(|m| m.clone()).unwrap_or_default();
    assert_eq!(
        mails[0].0,
        ["a@example.org", "b@example.org", "x@example.org"]
    );
}

/// NEW, ONGOING and ENDED through every function: what tells them apart
/// on the wire.
#[actix_web::test]
async fn every_function_tells_new_ongoing_and_ended_apart() {
    let (rx, base) = receiver();
    let (mails, smtp) = smtp_sink();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let notifier = Notifier::new(config(&base, Some(smtp)), bus).expect("notifier");
    let events = [NotifyEvent::New, NotifyEvent::Ongoing, NotifyEvent::Ended];
    let hook = format!("notify_http('{base}/hooks/zmon')");
    let am = format!("notify_webhook('{base}/hooks/am')");
    for expr in [
        "send_mail('a@example.org')",
        "send_sms('+491')",
        "send_slack()",
        hook.as_str(),
        am.as_str(),
        "notify_pagerduty()",
        "notify_opsgenie(teams=['db'])",
    ] {
        for event in events {
            let mut r = request(expr, event);
            r.duration_secs = if event == NotifyEvent::Ongoing {
                90.0
            } else {
                0.0
            };
            let outcome = notifier.deliver(&r).await;
            assert!(delivered(&outcome), "{expr} {event:?}: {outcome:?}");
        }
    }
    let got = rx.got();
    let on = |p: &str| {
        got.iter()
            .filter(|r| r.path.starts_with(p))
            .cloned()
            .collect::<Vec<_>>()
    };
    let subjects = [
        "NEW ALERT: Disk /var full on db-1",
        "ALERT ONGOING: Disk /var full on db-1 for 0:01:30",
        "ALERT ENDED: Disk /var full on db-1",
    ];
    let slack: Vec<Value> = on("/slack")
        .iter()
        .map(|r| r.body["text"].clone())
        .collect();
    assert_eq!(slack, subjects.map(Value::from));
    let sms: Vec<String> = on("/sms").iter().map(|r| r.query.clone()).collect();
    for (query, subject) in sms.iter().zip(subjects) {
        let encoded = subject
            .replace(' ', "+")
            .replace(':', "%3A")
            .replace('/', "%2F");
        assert!(query.contains(&encoded), "{query} lacks {subject}");
    }
    let flags: Vec<(Value, Value)> = on("/hooks/zmon")
        .iter()
        .map(|r| {
            (
                r.body["alert"]["is_alert"].clone(),
                r.body["alert"]["changed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (json!(true), json!(true)),
            (json!(true), json!(false)),
            (json!(false), json!(true))
        ]
    );
    let statuses: Vec<Value> = on("/hooks/am")
        .iter()
        .map(|r| r.body["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("firing"), json!("firing"), json!("resolved")]
    );
    let actions: Vec<Value> = on("/v2/enqueue")
        .iter()
        .map(|r| r.body["event_action"].clone())
        .collect();
    assert_eq!(
        actions,
        [json!("trigger"), json!("trigger"), json!("resolve")]
    );
    let genie: Vec<String> = on("/v2/alerts").iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        genie,
        ["/v2/alerts", "/v2/alerts", "/v2/alerts/ZMON-12/close"]
    );
    let mails = mails.lock().map(|m| m.clone()).unwrap_or_default();
    assert_eq!(mails.len(), 3);
    for ((_, data), subject) in mails.iter().zip(subjects) {
        assert!(data.contains(&format!("Subject: {subject}")), "{data}");
    }
}

#[actix_web::test]
async fn messages_to_one_target_are_paced() {
    let (rx, base) = receiver();
    let bus: Arc<dyn Bus> = Arc::new(MemoryBus::default());
    let notifier = Arc::new(
        Notifier::new(
            NotifierConfig {
                slack_interval: Duration::from_millis(200),
                pagerduty_interval: Duration::from_millis(200),
                ..config(&base, None)
            },
            bus,
        )
        .expect("notifier"),
    );
    let mut sends = Vec::new();
    for expr in ["send_slack()", "notify_pagerduty()"] {
        for _ in 0..3 {
            let n = notifier.clone();
            sends.push(tokio::spawn(async move {
                n.deliver(&request(expr, NotifyEvent::New)).await
            }));
        }
    }
    for s in sends {
        assert!(delivered(&s.await.expect("joins")));
    }
    let got = rx.got();
    for path in ["/slack/hook", "/v2/enqueue"] {
        let mut times: Vec<_> = got
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.at)
            .collect();
        times.sort();
        assert_eq!(times.len(), 3, "{path}");
        for pair in times.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(gap >= Duration::from_millis(180), "{path}: {gap:?} apart");
        }
    }
}
