//! Which notifications a check run causes: ZMON's rules, with its gaps
//! fixed (see `reference/alerting.md` §1.1).
//!
//! - NEW when an entity enters the alert, ENDED when it leaves, ONGOING
//!   every `repeat` seconds in between. `per_entity=False` entries speak
//!   for the alert as a whole: NEW with the first entity, ENDED with the
//!   last, no repeats.
//! - Only inside the alert's period and outside downtimes. A NEW held
//!   back by a downtime goes out when the downtime is over and the alert
//!   still holds (Icinga's replay), because the entry has no mark yet.
//!   An ENDED goes out exactly when a NEW did, downtime or not, so pagers
//!   are never left open and never hear of an alert they were not told of.
//! - Leaving the period ends the alert (ZMON hides it): incident trackers
//!   (PagerDuty, OpsGenie) still get their ENDED; others hear nothing.
//!
//! Marks live on the bus: entry → time the next repeat is due (0: sent,
//! no repeats). Deciding is pure; [`decide`] is tested without a bus.

pub mod dispatch;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use zmon_core::notification::{NotificationSpec, NotifyEvent};

/// Parsed entries kept at most; beyond, the cache starts over.
const CAPACITY: usize = 10_000;

/// Parsed notification entries, per text. Entries were parsed when the
/// definition was saved; one that fails here (an older definition) is
/// skipped with a warning.
#[derive(Default)]
pub struct NotificationCache {
    entries: Mutex<HashMap<String, Option<NotificationSpec>>>,
}

impl NotificationCache {
    pub fn get(&self, entry: &str) -> Option<NotificationSpec> {
        if let Ok(entries) = self.entries.lock()
            && let Some(hit) = entries.get(entry)
        {
            return hit.clone();
        }
        let parsed = match zmon_checks::notification::parse(entry) {
            Ok(spec) => Some(spec),
            Err(e) => {
                tracing::warn!(entry, error = %e, "skipping a notification entry that does not parse");
                None
            }
        };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(entry.to_string(), parsed.clone());
        }
        parsed
    }
}

/// One alert's situation on one entity after a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    /// Raised now (the condition holds, inside the period).
    pub raised: bool,
    /// The condition holds but the period does not.
    pub out_of_period: bool,
    /// The alert started or ended on this entity with this run.
    pub entity_changed: bool,
    /// The alert started or ended as a whole with this run.
    pub alert_changed: bool,
    /// An active downtime covers the alert on this entity.
    pub in_downtime: bool,
    pub now: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub event: NotifyEvent,
    pub expr: String,
    pub spec: NotificationSpec,
    pub reason: Option<&'static str>,
}

/// Mark changes for one scope (an entity, or the alert as a whole).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarkChanges {
    pub set: Vec<(String, f64)>,
    pub remove: Vec<String>,
}

impl MarkChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub sends: Vec<Send>,
    /// Entries held back, with why (`downtime`, `period`).
    pub suppressed: Vec<(String, &'static str)>,
    pub entity_marks: MarkChanges,
    pub alert_marks: MarkChanges,
}

pub fn decide(
    entries: &[(String, NotificationSpec)],
    moment: Moment,
    entity_marks: &BTreeMap<String, f64>,
    alert_marks: &BTreeMap<String, f64>,
) -> Decision {
    let mut d = Decision::default();
    for (expr, spec) in entries {
        let per_entity = spec.per_entity();
        let marks = if per_entity {
            entity_marks
        } else {
            alert_marks
        };
        let mark = marks.get(expr).copied();
        let changes = if per_entity {
            &mut d.entity_marks
        } else {
            &mut d.alert_marks
        };
        let send = |event, reason| Send {
            event,
            expr: expr.clone(),
            spec: spec.clone(),
            reason,
        };
        let repeat = if per_entity { spec.repeat_secs() } else { 0 };
        let next_due = |now: f64| {
            if repeat > 0 { now + repeat as f64 } else { 0.0 }
        };
        if moment.raised {
            if moment.in_downtime {
                if mark.is_none() && (moment.entity_changed || !per_entity) {
                    d.suppressed.push((expr.clone(), "downtime"));
                }
                continue;
            }
            match mark {
                None => {
                    d.sends.push(send(NotifyEvent::New, None));
                    changes.set.push((expr.clone(), next_due(moment.now)));
                }
                Some(due) if due > 0.0 && moment.now >= due => {
                    d.sends.push(send(NotifyEvent::Ongoing, None));
                    changes.set.push((expr.clone(), next_due(moment.now)));
                }
                Some(_) => {}
            }
            continue;
        }
        let ended_here = if per_entity {
            moment.entity_changed
        } else {
            moment.alert_changed
        };
        if !ended_here || mark.is_none() {
            continue;
        }
        changes.remove.push(expr.clone());
        if !moment.out_of_period {
            d.sends.push(send(NotifyEvent::Ended, None));
        } else if spec.tracks_incidents() {
            d.sends
                .push(send(NotifyEvent::Ended, Some("out_of_period")));
        } else {
            d.suppressed.push((expr.clone(), "period"));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[&str]) -> Vec<(String, NotificationSpec)> {
        list.iter()
            .map(|e| {
                (
                    e.to_string(),
                    zmon_checks::notification::parse(e).expect("parses"),
                )
            })
            .collect()
    }

    fn moment(raised: bool, entity_changed: bool, now: f64) -> Moment {
        Moment {
            raised,
            out_of_period: false,
            entity_changed,
            alert_changed: entity_changed,
            in_downtime: false,
            now,
        }
    }

    fn marks(list: &[(&str, f64)]) -> BTreeMap<String, f64> {
        list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn events(d: &Decision) -> Vec<(NotifyEvent, &str)> {
        d.sends.iter().map(|s| (s.event, s.expr.as_str())).collect()
    }

    const MAIL: &str = "send_mail('a@b.c', repeat=60)";
    const SLACK: &str = "send_slack()";
    const PD: &str = "notify_pagerduty()";

    #[test]
    fn new_then_repeats_then_ended() {
        let e = entries(&[MAIL, SLACK]);
        let none = BTreeMap::new();
        let d = decide(&e, moment(true, true, 100.0), &none, &none);
        assert_eq!(
            events(&d),
            [(NotifyEvent::New, MAIL), (NotifyEvent::New, SLACK)]
        );
        assert_eq!(
            d.entity_marks.set,
            [(MAIL.into(), 160.0), (SLACK.into(), 0.0)]
        );

        let sent = marks(&[(MAIL, 160.0), (SLACK, 0.0)]);
        let early = decide(&e, moment(true, false, 130.0), &sent, &none);
        assert!(early.sends.is_empty(), "no repeat before it is due");
        let due = decide(&e, moment(true, false, 161.0), &sent, &none);
        assert_eq!(
            events(&due),
            [(NotifyEvent::Ongoing, MAIL)],
            "slack has no repeat"
        );
        assert_eq!(due.entity_marks.set, [(MAIL.into(), 221.0)]);

        let ended = decide(&e, moment(false, true, 200.0), &sent, &none);
        assert_eq!(
            events(&ended),
            [(NotifyEvent::Ended, MAIL), (NotifyEvent::Ended, SLACK)]
        );
        assert_eq!(
            ended.entity_marks.remove,
            [MAIL.to_string(), SLACK.to_string()]
        );
    }

    #[test]
    fn per_alert_entries_speak_for_the_alert() {
        let e = entries(&[PD]);
        let none = BTreeMap::new();
        let first = Moment {
            alert_changed: true,
            ..moment(true, true, 1.0)
        };
        let d = decide(&e, first, &none, &none);
        assert_eq!(events(&d), [(NotifyEvent::New, PD)]);
        assert_eq!(d.alert_marks.set, [(PD.into(), 0.0)]);
        assert!(d.entity_marks.is_empty());
        let sent = marks(&[(PD, 0.0)]);
        let second_entity = Moment {
            alert_changed: false,
            ..moment(true, true, 2.0)
        };
        assert!(decide(&e, second_entity, &none, &sent).sends.is_empty());
        let one_left = Moment {
            alert_changed: false,
            ..moment(false, true, 3.0)
        };
        assert!(
            decide(&e, one_left, &none, &sent).sends.is_empty(),
            "not the last one out"
        );
        let last = Moment {
            alert_changed: true,
            ..moment(false, true, 4.0)
        };
        assert_eq!(
            events(&decide(&e, last, &none, &sent)),
            [(NotifyEvent::Ended, PD)]
        );
    }

    #[test]
    fn downtimes_hold_new_back_and_replay_it() {
        let e = entries(&[MAIL]);
        let none = BTreeMap::new();
        let start = Moment {
            in_downtime: true,
            ..moment(true, true, 1.0)
        };
        let d = decide(&e, start, &none, &none);
        assert!(d.sends.is_empty());
        assert_eq!(d.suppressed, [(MAIL.to_string(), "downtime")]);
        assert!(d.entity_marks.is_empty(), "nothing marked, so it replays");
        let still = Moment {
            in_downtime: true,
            ..moment(true, false, 30.0)
        };
        assert!(
            decide(&e, still, &none, &none).suppressed.is_empty(),
            "said once"
        );
        let over = decide(&e, moment(true, false, 90.0), &none, &none);
        assert_eq!(
            events(&over),
            [(NotifyEvent::New, MAIL)],
            "the replay after the downtime"
        );
        let quiet_end = decide(&e, moment(false, true, 95.0), &none, &none);
        assert!(quiet_end.sends.is_empty(), "no ENDED for a NEW never sent");

        // A NEW sent before the downtime gets its ENDED inside it.
        let sent = marks(&[(MAIL, 0.0)]);
        let end_in_downtime = Moment {
            in_downtime: true,
            ..moment(false, true, 100.0)
        };
        assert_eq!(
            events(&decide(&e, end_in_downtime, &sent, &none)),
            [(NotifyEvent::Ended, MAIL)]
        );
        let repeat_in_downtime = Moment {
            in_downtime: true,
            ..moment(true, false, 1000.0)
        };
        let marked = marks(&[(MAIL, 500.0)]);
        assert!(
            decide(&e, repeat_in_downtime, &marked, &none)
                .sends
                .is_empty(),
            "no repeats"
        );
    }

    #[test]
    fn leaving_the_period_ends_incidents_only() {
        let e = entries(&[MAIL, "notify_pagerduty(per_entity=True)"]);
        let sent = marks(&[(MAIL, 0.0), ("notify_pagerduty(per_entity=True)", 0.0)]);
        let left = Moment {
            out_of_period: true,
            ..moment(false, true, 5.0)
        };
        let d = decide(&e, left, &sent, &BTreeMap::new());
        assert_eq!(
            events(&d),
            [(NotifyEvent::Ended, "notify_pagerduty(per_entity=True)")]
        );
        assert_eq!(d.sends[0].reason, Some("out_of_period"));
        assert_eq!(d.suppressed, [(MAIL.to_string(), "period")]);
        assert_eq!(
            d.entity_marks.remove.len(),
            2,
            "both start afresh next period"
        );
    }

    #[test]
    fn the_cache_skips_entries_that_do_not_parse() {
        let cache = NotificationCache::default();
        assert!(cache.get(MAIL).is_some());
        assert!(cache.get("send_fax(1)").is_none());
        assert!(cache.get("send_fax(1)").is_none());
    }
}
