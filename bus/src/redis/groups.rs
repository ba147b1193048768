//! On-call groups in ZMON's keys: `zmon:groups` (id → name),
//! `zmon:group:<g>:members|active` (sets), `zmon:member:<m>:phone` (set)
//! and `zmon:member:<m>:name`.

use std::collections::BTreeMap;

use ::redis::AsyncCommands;
use zmon_core::group::{Group, GroupChange, GroupSpec, Member};

use super::{RedisBus, run_pipe};
use crate::BusResult;

pub(super) async fn groups(bus: &RedisBus) -> BusResult<Vec<Group>> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let names: BTreeMap<String, String> = conn.hgetall(keys.groups()).await?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    for id in names.keys() {
        pipe.smembers(keys.group_members(id))
            .smembers(keys.group_active(id));
    }
    let sets: Vec<Vec<String>> = pipe.query_async(&mut conn).await?;
    let mut sets = sets.into_iter();
    Ok(names
        .into_iter()
        .map(|(id, name)| {
            let mut members = sets.next().unwrap_or_default();
            let mut active = sets.next().unwrap_or_default();
            members.sort();
            active.sort();
            Group {
                id,
                name,
                members,
                active,
            }
        })
        .collect())
}

pub(super) async fn member(bus: &RedisBus, member: &str) -> BusResult<Member> {
    let mut conn = bus.conn().await?;
    let (mut phones, name): (Vec<String>, Option<String>) = ::redis::pipe()
        .smembers(bus.keys.member_phones(member))
        .get(bus.keys.member_name(member))
        .query_async(&mut conn)
        .await?;
    phones.sort();
    Ok(Member {
        id: member.to_string(),
        email: member.to_string(),
        name,
        phones,
    })
}

pub(super) async fn change(bus: &RedisBus, change: &GroupChange) -> BusResult<i64> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    Ok(match change {
        GroupChange::AddMember { group, member } => {
            let (added, _): (i64, i64) = ::redis::pipe()
                .atomic()
                .sadd(keys.group_members(group), member)
                .hset_nx(keys.groups(), group, group)
                .query_async(&mut conn)
                .await?;
            added
        }
        GroupChange::RemoveMember { group, member } => {
            // ZMON left removed members on call; they kept being paged.
            let (removed, _): (i64, i64) = ::redis::pipe()
                .atomic()
                .srem(keys.group_members(group), member)
                .srem(keys.group_active(group), member)
                .query_async(&mut conn)
                .await?;
            removed
        }
        GroupChange::AddActive { group, member } => {
            let is_member: bool = conn.sismember(keys.group_members(group), member).await?;
            if !is_member {
                return Ok(-1);
            }
            conn.sadd(keys.group_active(group), member).await?
        }
        GroupChange::RemoveActive { group, member } => {
            conn.srem(keys.group_active(group), member).await?
        }
        GroupChange::ClearActive { group } => conn.del(keys.group_active(group)).await?,
        GroupChange::AddPhone { member, phone } => {
            conn.sadd(keys.member_phones(member), phone).await?
        }
        GroupChange::RemovePhone { member, phone } => {
            conn.srem(keys.member_phones(member), phone).await?
        }
        GroupChange::SetName { member, name } => {
            let _: () = conn.set(keys.member_name(member), name).await?;
            1
        }
    })
}

pub(super) async fn put(bus: &RedisBus, id: &str, spec: &GroupSpec) -> BusResult<()> {
    let keys = &bus.keys;
    let mut pipe = ::redis::pipe();
    pipe.atomic()
        .hset(keys.groups(), id, spec.name.as_deref().unwrap_or(id))
        .ignore()
        .del(keys.group_members(id))
        .ignore()
        .del(keys.group_active(id))
        .ignore();
    for m in &spec.members {
        pipe.sadd(keys.group_members(id), &m.id).ignore();
        pipe.del(keys.member_phones(&m.id)).ignore();
        for phone in &m.phones {
            pipe.sadd(keys.member_phones(&m.id), phone).ignore();
        }
        if let Some(name) = &m.name {
            pipe.set(keys.member_name(&m.id), name).ignore();
        }
    }
    for a in &spec.active {
        pipe.sadd(keys.group_active(id), a).ignore();
    }
    let mut conn = bus.conn().await?;
    run_pipe::<()>(&pipe, &mut conn).await
}

pub(super) async fn delete(bus: &RedisBus, id: &str) -> BusResult<bool> {
    let keys = &bus.keys;
    let mut conn = bus.conn().await?;
    let (removed, _, _): (i64, i64, i64) = ::redis::pipe()
        .atomic()
        .hdel(keys.groups(), id)
        .del(keys.group_members(id))
        .del(keys.group_active(id))
        .query_async(&mut conn)
        .await?;
    Ok(removed == 1)
}
