//! One delivery attempt per notification kind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;
use zmon_core::notification::{NotificationRequest, NotifyEvent, NotifyKind};

use super::NotifierConfig;
use super::content::{alert_link, alertmanager, context, mail_html, mail_text};
use super::http;
use super::mail::{Mail, Mailer};

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Delivered {
        /// Who was addressed (resolved mail addresses, phone numbers, the
        /// webhook's host).
        targets: Vec<String>,
        status: Option<u16>,
    },
    /// Worth trying again (after `after`, when the target said).
    Retry {
        error: String,
        status: Option<u16>,
        after: Option<Duration>,
    },
    /// Trying again would fail the same way.
    Fatal { error: String, status: Option<u16> },
}

fn fatal(error: impl Into<String>) -> Attempt {
    Attempt::Fatal {
        error: error.into(),
        status: None,
    }
}

pub struct Targets {
    config: Arc<NotifierConfig>,
    bus: Arc<dyn zmon_bus::Bus>,
    client: Client,
    mailer: Option<Mailer>,
    /// Per rate-limited target (a Slack webhook, a PagerDuty routing
    /// key), when the next message may go.
    next_slot: Mutex<HashMap<String, Instant>>,
}

/// Where a URL points, for the record, without its secret path or query.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

impl Targets {
    pub fn new(config: Arc<NotifierConfig>, bus: Arc<dyn zmon_bus::Bus>) -> Result<Self, String> {
        let mailer = match &config.smtp_url {
            Some(url) => Some(Mailer::new(url, &config.smtp_from, config.timeout)?),
            None => None,
        };
        Ok(Self {
            client: http::client(config.timeout)?,
            mailer,
            next_slot: Mutex::new(HashMap::new()),
            config,
            bus,
        })
    }

    pub async fn send(&self, r: &NotificationRequest) -> Attempt {
        match r.spec.kind {
            NotifyKind::Mail => self.mail(r).await,
            NotifyKind::Sms => self.sms(r).await,
            NotifyKind::Slack => self.slack(r).await,
            NotifyKind::Http => self.webhook(r).await,
            NotifyKind::PagerDuty => self.pagerduty(r).await,
            NotifyKind::OpsGenie => self.opsgenie(r).await,
            NotifyKind::Nothing => Attempt::Delivered {
                targets: Vec::new(),
                status: None,
            },
        }
    }

    /// `group:<g>` and `active:<g>` become the group's members or those on
    /// call (their phone numbers with `phones`), at send time so a handoff
    /// applies to the next repeat. An unknown or empty group is skipped
    /// with a warning, as in ZMON.
    async fn resolve(&self, targets: &[String], phones: bool) -> Result<Vec<String>, Attempt> {
        use zmon_core::group::{Recipient, recipient};
        let needs_groups = targets
            .iter()
            .any(|t| !matches!(recipient(t), Recipient::Direct(_)));
        let groups = if needs_groups {
            self.bus.groups().await.map_err(|e| Attempt::Retry {
                error: format!("cannot read groups: {e}"),
                status: None,
                after: None,
            })?
        } else {
            Vec::new()
        };
        let mut resolved: Vec<String> = Vec::new();
        for target in targets {
            let people: Vec<String> = match recipient(target) {
                Recipient::Direct(d) => {
                    resolved.push(d.to_string());
                    continue;
                }
                Recipient::Group(g) => groups
                    .iter()
                    .find(|x| x.id == g)
                    .map(|x| x.members.clone())
                    .unwrap_or_default(),
                Recipient::Active(g) => groups
                    .iter()
                    .find(|x| x.id == g)
                    .map(|x| x.active.clone())
                    .unwrap_or_default(),
            };
            if people.is_empty() {
                tracing::warn!(
                    target,
                    "notification group is unknown or empty; skipping it"
                );
            }
            for person in people {
                if phones {
                    let member =
                        self.bus
                            .group_member(&person)
                            .await
                            .map_err(|e| Attempt::Retry {
                                error: format!("cannot read {person}'s phones: {e}"),
                                status: None,
                                after: None,
                            })?;
                    resolved.extend(member.phones);
                } else {
                    resolved.push(person);
                }
            }
        }
        let mut unique = Vec::new();
        for r in resolved {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        if unique.is_empty() {
            return Err(fatal(format!(
                "no recipients: {} resolved to nobody",
                targets.join(", ")
            )));
        }
        Ok(unique)
    }

    fn link(&self, r: &NotificationRequest) -> String {
        alert_link(self.config.public_url.as_deref(), r.alert.id)
    }

    async fn mail(&self, r: &NotificationRequest) -> Attempt {
        let Some(mailer) = &self.mailer else {
            return fatal("mail is not configured: set ZMON_SMTP_URL");
        };
        let spec = &r.spec;
        let text = mail_text(r, &self.link(r));
        let cc = match spec.options.get("cc") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let to = match self.resolve(&r.spec.recipients, false).await {
            Ok(to) => to,
            Err(attempt) => return attempt,
        };
        mailer
            .send(Mail {
                to,
                cc,
                hide_recipients: spec.option_bool("hide_recipients", true),
                subject: r.subject(spec.option_str("subject")),
                html: spec.option_bool("html", false).then(|| mail_html(&text)),
                text,
            })
            .await
    }

    async fn sms(&self, r: &NotificationRequest) -> Attempt {
        let Some(url) = &self.config.sms_url else {
            return fatal("SMS is not configured: set ZMON_SMS_URL");
        };
        let message: String = r
            .subject(r.spec.option_str("message"))
            .chars()
            .take(2048)
            .collect();
        let numbers = match self.resolve(&r.spec.recipients, true).await {
            Ok(n) => n,
            Err(attempt) => return attempt,
        };
        let mut sent = Vec::new();
        for number in &numbers {
            let request = self.client.get(url).query(&[
                ("to", number.as_str()),
                ("from", "zmon"),
                ("message", &message),
            ]);
            match http::send(request, vec![number.clone()]).await {
                Attempt::Delivered { .. } => sent.push(number.clone()),
                // Numbers already sent to would get the message again on
                // a retry; say which ones failed instead.
                Attempt::Retry {
                    error,
                    status,
                    after,
                } if sent.is_empty() => {
                    return Attempt::Retry {
                        error,
                        status,
                        after,
                    };
                }
                Attempt::Retry { error, status, .. } | Attempt::Fatal { error, status } => {
                    return Attempt::Fatal {
                        error: format!("{number}: {error} (sent to {})", sent.join(", ")),
                        status,
                    };
                }
            }
        }
        Attempt::Delivered {
            targets: sent,
            status: None,
        }
    }

    async fn slack(&self, r: &NotificationRequest) -> Attempt {
        let spec = &r.spec;
        let Some(webhook) = spec
            .option_str("webhook")
            .map(str::to_string)
            .or_else(|| self.config.slack_webhook.clone())
        else {
            return fatal("no Slack webhook: set ZMON_SLACK_WEBHOOK or pass webhook=");
        };
        let text = match spec.option_str("message") {
            Some(m) => r.expanded_name(Some(m)),
            None => r.subject(None),
        };
        let body = json!({
            "username": "ZMON",
            "channel": spec.option_str("channel").unwrap_or("#general"),
            "text": text,
            "icon_emoji": ":bar_chart:",
        });
        self.pace(&format!("slack {webhook}"), self.config.slack_interval)
            .await;
        let request = self.client.post(&webhook).json(&body);
        http::send(request, vec![host_of(&webhook)]).await
    }

    /// Waits for the target's next slot, so messages to one target are
    /// at least `interval` apart however many deliveries run at once.
    async fn pace(&self, target: &str, interval: Duration) {
        let wait_until = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = next
                .get(target)
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            next.insert(target.to_string(), slot + interval);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    async fn webhook(&self, r: &NotificationRequest) -> Attempt {
        let spec = &r.spec;
        let Some(url) = spec.option_str("url") else {
            return fatal(format!("{}() needs url=", spec.function));
        };
        if !http::allowed(url, &self.config.http_allow) {
            return fatal(format!(
                "{url} is not allowed: list its prefix in ZMON_NOTIFY_HTTP_ALLOW"
            ));
        }
        let alertmanager_format =
            spec.function == "notify_webhook" || spec.option_str("format") == Some("alertmanager");
        if alertmanager_format
            && r.event == NotifyEvent::Ended
            && !spec.option_bool("send_resolved", true)
        {
            return Attempt::Delivered {
                targets: Vec::new(),
                status: None,
            };
        }
        let body = if alertmanager_format {
            alertmanager(r, self.config.public_url.as_deref())
        } else if spec.option_bool("include_alert", true) {
            json!({"alert": context(r), "body": spec.options.get("body").cloned().unwrap_or(Value::Null)})
        } else {
            spec.options.get("body").cloned().unwrap_or(Value::Null)
        };
        let mut request = self.client.post(url).json(&body);
        if let Some(Value::Object(headers)) = spec.options.get("headers") {
            for (name, value) in headers {
                request = request.header(name.as_str(), crate::notifier::literal_text(value));
            }
        }
        if let Some(Value::Object(params)) = spec.options.get("params") {
            let pairs: Vec<(String, String)> = params
                .iter()
                .map(|(k, v)| (k.clone(), crate::notifier::literal_text(v)))
                .collect();
            request = request.query(&pairs);
        }
        if let Some(secs) = spec.options.get("timeout").and_then(Value::as_f64)
            && secs > 0.0
        {
            request = request.timeout(Duration::from_secs_f64(secs.min(60.0)));
        }
        http::send(request, vec![host_of(url)]).await
    }

    async fn pagerduty(&self, r: &NotificationRequest) -> Attempt {
        let spec = &r.spec;
        let Some(key) = spec
            .option_str("routing_key")
            .map(str::to_string)
            .or_else(|| self.config.pagerduty_routing_key.clone())
        else {
            return fatal(
                "no PagerDuty routing key: set ZMON_PAGERDUTY_ROUTING_KEY or pass routing_key=",
            );
        };
        let dedup_key = r.dedup_key();
        let body = if r.event == NotifyEvent::Ended {
            json!({"routing_key": key, "event_action": "resolve", "dedup_key": dedup_key})
        } else {
            let summary: String = match spec.option_str("message") {
                Some(m) if !m.is_empty() => r.expanded_name(Some(m)),
                _ => format!("{} on {}", r.expanded_name(None), r.entity_id),
            }
            .chars()
            .take(1024)
            .collect();
            let details = if spec.option_bool("include_alert", true) {
                context(r)
            } else {
                json!({"alert_evaluation_ts": r.ts})
            };
            let link = self.link(r);
            let mut body = json!({
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": dedup_key,
                "client": "ZMON",
                "client_url": link,
                "payload": {
                    "summary": summary,
                    "source": r.worker,
                    "severity": if r.alert.priority == 1 { "critical" } else { "error" },
                    "timestamp": chrono::DateTime::from_timestamp_micros((r.ts * 1e6) as i64)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "component": r.entity_id,
                    "class": spec.option_str("alert_class").unwrap_or_default(),
                    "group": spec.option_str("alert_group").unwrap_or_default(),
                    "custom_details": details,
                },
            });
            if !link.is_empty() {
                body["links"] = json!([{"href": link, "text": "Alert in ZMON"}]);
            }
            body
        };
        self.pace(&format!("pagerduty {key}"), self.config.pagerduty_interval)
            .await;
        let request = self
            .client
            .post(&self.config.pagerduty_events_url)
            .json(&body);
        http::send(request, vec![dedup_key]).await
    }

    async fn opsgenie(&self, r: &NotificationRequest) -> Attempt {
        let spec = &r.spec;
        let Some(api_key) = spec
            .option_str("api_key")
            .map(str::to_string)
            .or_else(|| self.config.opsgenie_api_key.clone())
        else {
            return fatal("no OpsGenie API key: pass api_key=");
        };
        let alias = r.dedup_key();
        let base = self.config.opsgenie_url.trim_end_matches('/');
        let (url, body) = if r.event == NotifyEvent::Ended {
            (
                format!("{base}/v2/alerts/{alias}/close?identifierType=alias"),
                json!({"user": "ZMON", "source": r.worker, "note": "Alert ended in ZMON"}),
            )
        } else {
            let teams: Vec<Value> = match spec.options.get("teams") {
                Some(Value::Array(list)) => list.iter().map(|t| json!({"name": t})).collect(),
                Some(Value::String(t)) => vec![json!({"name": t})],
                _ => Vec::new(),
            };
            let message: String = match spec.option_str("message") {
                Some(m) if !m.is_empty() => r.expanded_name(Some(m)),
                _ => r.subject(None),
            }
            .chars()
            .take(130)
            .collect();
            let priority = spec
                .option_str("priority")
                .map(str::to_string)
                .unwrap_or_else(|| if r.alert.priority == 1 { "P1" } else { "P3" }.into());
            let mut details = serde_json::Map::new();
            details.insert("alert_evaluation_ts".into(), json!(r.ts.to_string()));
            details.insert("zmon_team".into(), json!(r.alert.team));
            details.insert("entity".into(), json!(r.entity_id));
            details.insert("alert_url".into(), json!(self.link(r)));
            if spec.option_bool("include_captures", false) {
                for (k, v) in &r.captures {
                    details.insert(
                        format!("captures.{k}"),
                        json!(zmon_core::notification::python_str(v)),
                    );
                }
            }
            (
                format!("{base}/v2/alerts"),
                json!({
                    "message": message,
                    "alias": alias,
                    "description": spec.option_str("description").unwrap_or_default(),
                    "responders": teams.iter().map(|t| json!({"type": "team", "name": t["name"]})).collect::<Vec<_>>(),
                    "teams": teams,
                    "source": r.worker,
                    "entity": r.entity_id,
                    "note": self.link(r),
                    "priority": priority,
                    "tags": [format!("alert:{}", r.alert.id)],
                    "details": details,
                }),
            )
        };
        let request = self
            .client
            .post(url)
            .header("Authorization", format!("GenieKey {api_key}"))
            .json(&body);
        http::send(request, vec![alias]).await
    }
}
