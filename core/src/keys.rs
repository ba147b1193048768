//! The Redis key space. Every `zmon:*` key name is built here and nowhere
//! else.
//!
//! The names are ZMON's, so its tooling and habits carry over. A prefix other
//! than `zmon` lets several installations (or parallel test runs) share one
//! Redis without seeing each other's keys.

use std::fmt::Display;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    prefix: String,
}

impl Default for KeySpace {
    fn default() -> Self {
        Self::new("zmon")
    }
}

impl KeySpace {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, parts: &[&dyn Display]) -> String {
        let mut key = self.prefix.clone();
        for part in parts {
            key.push(':');
            key.push_str(&part.to_string());
        }
        key
    }

    /// Pattern matching every key of this key space, for cleanup.
    pub fn all_pattern(&self) -> String {
        format!("{}:*", self.prefix)
    }

    /// `zmon:queue:<name>`: a task queue.
    pub fn queue(&self, name: &str) -> String {
        self.key(&[&"queue", &name])
    }

    /// `zmon:queue:<name>:processing:<consumer>`: tasks a worker claimed
    /// and has not finished.
    pub fn queue_processing(&self, name: &str, consumer: &str) -> String {
        self.key(&[&"queue", &name, &"processing", &consumer])
    }

    /// `zmon:queue:<name>:consumers`: workers that claim from a queue.
    pub fn queue_consumers(&self, name: &str) -> String {
        self.key(&[&"queue", &name, &"consumers"])
    }

    /// `zmon:queue:<name>:alive:<consumer>`: present (with a TTL) while the
    /// consumer lives; its tasks are handed back once it expires.
    pub fn queue_consumer_alive(&self, name: &str, consumer: &str) -> String {
        self.key(&[&"queue", &name, &"alive", &consumer])
    }

    /// `zmon:checks`: ids of checks that have results.
    pub fn checks(&self) -> String {
        self.key(&[&"checks"])
    }

    /// `zmon:checks:<check>`: entities that have results for a check.
    pub fn check_entities(&self, check_id: i64) -> String {
        self.key(&[&"checks", &check_id])
    }

    /// `zmon:checks:<check>:<entity>`: the last results, newest first.
    pub fn check_results(&self, check_id: i64, entity: &str) -> String {
        self.key(&[&"checks", &check_id, &entity])
    }

    /// `zmon:alerts`: ids of alerts raised on at least one entity.
    pub fn active_alerts(&self) -> String {
        self.key(&[&"alerts"])
    }

    /// `zmon:alerts:<alert>`: entities the alert is raised on.
    pub fn alert_raised_entities(&self, alert_id: i64) -> String {
        self.key(&[&"alerts", &alert_id])
    }

    /// `zmon:alerts:<alert>:entities`: hash of every evaluated entity to its
    /// captures.
    pub fn alert_evaluated_entities(&self, alert_id: i64) -> String {
        self.key(&[&"alerts", &alert_id, &"entities"])
    }

    /// `zmon:alerts:<alert>:<entity>`: the alert state served by
    /// `/api/v1/status/alert/<ids>/`.
    pub fn alert_state(&self, alert_id: i64, entity: &str) -> String {
        self.key(&[&"alerts", &alert_id, &entity])
    }

    /// `zmon:notifications:<alert>:<entity>`: next send time per notification.
    pub fn notifications(&self, alert_id: i64, entity: &str) -> String {
        self.key(&[&"notifications", &alert_id, &entity])
    }

    /// `zmon:notifications:<alert>`: marks of notifications sent for the
    /// alert as a whole (`per_entity=False`).
    pub fn alert_notifications(&self, alert_id: i64) -> String {
        self.key(&[&"notifications", &alert_id])
    }

    /// `zmon:notify`: stream of notifications for the notifier.
    pub fn notify_stream(&self) -> String {
        self.key(&[&"notify"])
    }

    /// `zmon:groups`: group id → name.
    pub fn groups(&self) -> String {
        self.key(&[&"groups"])
    }

    /// `zmon:group:<g>:members`: member ids (e-mail addresses).
    pub fn group_members(&self, group: &str) -> String {
        self.key(&[&"group", &group, &"members"])
    }

    /// `zmon:group:<g>:active`: members on call.
    pub fn group_active(&self, group: &str) -> String {
        self.key(&[&"group", &group, &"active"])
    }

    /// `zmon:member:<m>:phone`: a member's phone numbers.
    pub fn member_phones(&self, member: &str) -> String {
        self.key(&[&"member", &member, &"phone"])
    }

    /// `zmon:member:<m>:name`: a member's name.
    pub fn member_name(&self, member: &str) -> String {
        self.key(&[&"member", &member, &"name"])
    }

    /// `zmon:alert-acks`: acknowledged alert ids.
    pub fn alert_acks(&self) -> String {
        self.key(&[&"alert-acks"])
    }

    /// `zmon:downtimes`: alert ids with downtimes.
    pub fn downtime_alerts(&self) -> String {
        self.key(&[&"downtimes"])
    }

    /// `zmon:downtimes:<alert>`: entities with downtimes for an alert.
    pub fn downtime_entities(&self, alert_id: i64) -> String {
        self.key(&[&"downtimes", &alert_id])
    }

    /// `zmon:downtimes:<alert>:<entity>`: hash of downtime id to downtime JSON.
    pub fn downtimes(&self, alert_id: i64, entity: &str) -> String {
        self.key(&[&"downtimes", &alert_id, &entity])
    }

    /// `zmon:downtime-groups:<group>`: downtime ids of one request.
    pub fn downtime_group(&self, group_id: &str) -> String {
        self.key(&[&"downtime-groups", &group_id])
    }

    /// `zmon:active_downtimes`: `<alert>:<entity>:<id>` of downtimes in force.
    pub fn active_downtimes(&self) -> String {
        self.key(&[&"active_downtimes"])
    }

    /// `zmon:downtimes-mirror`: set while the downtime keys mirror the
    /// database; its absence (a Redis restart) triggers a rebuild.
    pub fn downtime_mirror_marker(&self) -> String {
        self.key(&[&"downtimes-mirror"])
    }

    /// `zmon:trial_run:<id>`: entities a trial run covers.
    pub fn trial_run(&self, id: &str) -> String {
        self.key(&[&"trial_run", &id])
    }

    /// `zmon:trial_run:<id>:results`: trial run results per entity.
    pub fn trial_run_results(&self, id: &str) -> String {
        self.key(&[&"trial_run", &id, &"results"])
    }

    /// `zmon:metrics`: names of workers and schedulers reporting metrics.
    pub fn metrics(&self) -> String {
        self.key(&[&"metrics"])
    }

    /// `zmon:metrics:<name>:ts`: last heartbeat, epoch seconds (float).
    pub fn metrics_ts(&self, name: &str) -> String {
        self.key(&[&"metrics", &name, &"ts"])
    }

    /// `zmon:metrics:<name>:check.count`: checks run by a worker.
    pub fn metrics_check_count(&self, name: &str) -> String {
        self.key(&[&"metrics", &name, &"check.count"])
    }

    /// `zmon:events`: stream of alert state changes for the controller.
    pub fn events(&self) -> String {
        self.key(&[&"events"])
    }

    /// `zmon:probe-samples`: stream of monitor probe outcomes for the
    /// controller.
    pub fn probe_samples(&self) -> String {
        self.key(&[&"probe-samples"])
    }

    /// `zmon:leader:<role>`: who leads a role, e.g. the scheduler.
    pub fn leader(&self, role: &str) -> String {
        self.key(&[&"leader", &role])
    }

    /// `zmon:instant-evaluations`: check ids to run now.
    pub fn instant_evaluations(&self) -> String {
        self.key(&[&"instant-evaluations"])
    }

    /// `zmon:hosts`: hash of host entity id to the registration its worker
    /// last published.
    pub fn host_registrations(&self) -> String {
        self.key(&[&"hosts"])
    }

    /// `zmon:host-status:<id>`: the host's latest compact status, with a TTL.
    pub fn host_status(&self, id: &str) -> String {
        self.key(&[&"host-status", &id])
    }

    /// `zmon:counters:<check>:<entity>:<key>`: state of `counter()`.
    pub fn counter(&self, check_id: i64, entity: &str, key: &str) -> String {
        self.key(&[&"counters", &check_id, &entity, &key])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_zmons() {
        let k = KeySpace::default();
        assert_eq!(k.queue("default"), "zmon:queue:default");
        assert_eq!(k.check_results(510, "host01"), "zmon:checks:510:host01");
        assert_eq!(k.active_alerts(), "zmon:alerts");
        assert_eq!(k.alert_raised_entities(69), "zmon:alerts:69");
        assert_eq!(k.alert_evaluated_entities(69), "zmon:alerts:69:entities");
        assert_eq!(
            k.alert_state(69, "elsn01:5827"),
            "zmon:alerts:69:elsn01:5827"
        );
        assert_eq!(
            k.downtimes(704, "cn-peking"),
            "zmon:downtimes:704:cn-peking"
        );
        assert_eq!(k.downtime_entities(704), "zmon:downtimes:704");
        assert_eq!(k.downtime_alerts(), "zmon:downtimes");
        assert_eq!(
            k.metrics_check_count("plocal.h"),
            "zmon:metrics:plocal.h:check.count"
        );
        assert_eq!(k.trial_run_results("x"), "zmon:trial_run:x:results");
    }

    #[test]
    fn prefix_isolates_installations() {
        let k = KeySpace::new("t-1:zmon");
        assert_eq!(k.active_alerts(), "t-1:zmon:alerts");
        assert_eq!(k.all_pattern(), "t-1:zmon:*");
    }
}
