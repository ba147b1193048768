//! Turns the host registrations that workers publish on the bus into
//! `type: host` entities. Workers hold no database credentials, so the
//! controller writes for them.
//!
//! Attributes the registration owns are overwritten; anything else on the
//! entity (a team, a tag, a display index set by people) is kept.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::web;
use serde_json::{Map, Value, json};
use zmon_core::Role;
use zmon_core::host::HostRegistration;

use super::entities;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Who host entities are written as, in the audit log.
pub const REGISTRAR: &str = "zmon-host-registration";

/// An unchanged registration is still applied this often, so a host entity
/// someone deleted comes back while its worker lives.
const REAPPLY_AFTER: Duration = Duration::from_secs(300);

pub async fn sync_loop(state: web::Data<AppState>, interval: Duration) {
    let mut applied: HashMap<String, (HostRegistration, Instant)> = HashMap::new();
    let mut healthy = true;
    loop {
        let synced = match state.bus.host_registrations().await {
            Ok(registrations) => {
                sample_status(&state, &registrations).await;
                sync_once(&state, registrations, &mut applied).await
            }
            Err(e) => Err(e.into()),
        };
        match synced {
            Ok(()) if !healthy => {
                tracing::info!("host registrations are synchronised again");
                healthy = true;
            }
            Err(e) if healthy => {
                tracing::warn!(error = %e, "cannot synchronise host registrations; retrying");
                healthy = false;
            }
            _ => {}
        }
        tokio::time::sleep(interval).await;
    }
}

/// Keeps each registered host's latest report in the UI's history.
async fn sample_status(state: &AppState, registrations: &[HostRegistration]) {
    let ids: Vec<String> = registrations.iter().map(|r| r.id.clone()).collect();
    if let Ok(reports) = state.bus.host_reports(&ids).await {
        let reports: Vec<_> = reports.into_values().collect();
        state.host_history.record(&reports);
    }
}

async fn sync_once(
    state: &AppState,
    registrations: Vec<HostRegistration>,
    applied: &mut HashMap<String, (HostRegistration, Instant)>,
) -> Result<(), ApiError> {
    let caller = Caller {
        uid: REGISTRAR.into(),
        role: Role::Admin,
        teams: Vec::new(),
    };
    for registration in registrations {
        let fresh = applied
            .get(&registration.id)
            .is_some_and(|(seen, at)| *seen == registration && at.elapsed() < REAPPLY_AFTER);
        if fresh {
            continue;
        }
        match apply(state, &caller, &registration).await {
            Ok(()) => {
                applied.insert(registration.id.clone(), (registration, Instant::now()));
            }
            // One bad registration (say, an id taken by an entity of
            // another type) must not hold up the others.
            Err(e @ (ApiError::Conflict(_) | ApiError::BadRequest(_))) => {
                tracing::warn!(host = %registration.id, error = %e, "host registration refused");
                applied.insert(registration.id.clone(), (registration, Instant::now()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn apply(
    state: &AppState,
    caller: &Caller,
    registration: &HostRegistration,
) -> Result<(), ApiError> {
    let existing = state.store.entity(&registration.id).await?;
    let mut document = existing
        .map(|stored| stored.entity.into_document())
        .unwrap_or_default();
    document.extend(host_attributes(registration));
    entities::upsert(state, caller, Value::Object(document)).await
}

/// The entity attributes a registration owns.
pub fn host_attributes(registration: &HostRegistration) -> Map<String, Value> {
    let facts = &registration.facts;
    let mut attributes = json!({
        "id": registration.id,
        "type": "host",
        "host": facts.hostname,
        "queue": registration.queue,
        "worker": registration.worker,
        "os": facts.os,
        "platform": facts.platform,
        "platform_version": facts.platform_version,
        "kernel_version": facts.kernel_version,
        "arch": facts.arch,
        "cpu_model": facts.cpu_model,
        "cpu_logical_cores": facts.cpu_logical_cores,
        "cpu_physical_cores": facts.cpu_physical_cores,
        "mem_total": facts.mem_total,
        "swap_total": facts.swap_total,
        "disk_total": facts.disk_total,
        "boot_time": facts.boot_time,
        "agent_version": facts.agent_version,
        "ipv4": facts.ipv4,
        "ipv6": facts.ipv6,
    });
    if let Some(map) = attributes.as_object_mut() {
        // ZMON's host entities carry `ip`; filters and checks use it.
        if let Some(ip) = facts.ipv4.first().or(facts.ipv6.first()) {
            map.insert("ip".into(), Value::String(ip.clone()));
        }
        if let Some(virtualization) = &facts.virtualization {
            map.insert(
                "virtualization".into(),
                Value::String(virtualization.clone()),
            );
        }
    }
    match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
