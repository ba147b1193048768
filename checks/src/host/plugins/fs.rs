//! `fs`: statvfs over the mounted disk filesystems.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use super::Ctx;
use crate::host::read::{self, round1};

/// One line of `/proc/mounts`.
#[derive(Debug, Clone)]
pub struct Mount {
    pub device: String,
    pub mnt_point: String,
    pub fs_type: String,
    pub options: String,
}

/// `/proc/mounts`, with the octal escapes (`\040` for a space) decoded.
pub fn mounts(ctx: &Ctx) -> Vec<Mount> {
    let Some(text) = read::string(&ctx.root.proc.join("mounts")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            Some(Mount {
                device: unescape(f.next()?),
                mnt_point: unescape(f.next()?),
                fs_type: f.next()?.to_string(),
                options: f.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && let Some(code) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Filesystem types backed by a device (`/proc/filesystems` lines without
/// `nodev`), plus zfs, as psutil's `disk_partitions(all=False)`.
fn disk_fs_types(ctx: &Ctx) -> BTreeSet<String> {
    let mut types: BTreeSet<String> = read::string(&ctx.root.proc.join("filesystems"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    types.insert("zfs".into());
    types
}

/// Glances' default `hide=/boot.*,.*/snap.*`.
fn hidden(mnt_point: &str) -> bool {
    mnt_point.starts_with("/boot") || mnt_point.contains("/snap")
}

pub fn collect(ctx: &Ctx, mounts: &[Mount]) -> Value {
    let types = disk_fs_types(ctx);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in mounts {
        if m.device.is_empty() || m.device == "none" || !types.contains(&m.fs_type) {
            continue;
        }
        if hidden(&m.mnt_point) || !seen.insert(m.mnt_point.clone()) {
            continue;
        }
        let Some(usage) = ctx.probe.statvfs(Path::new(&m.mnt_point)) else {
            continue;
        };
        let size = usage.size;
        let used = size.saturating_sub(usage.free_root);
        let free = usage.avail;
        // As psutil: the reserved blocks count neither as used nor free.
        let percent = if used + free > 0 {
            round1(100.0 * used as f64 / (used + free) as f64)
        } else {
            0.0
        };
        out.push(json!({
            "device_name": m.device,
            "fs_type": m.fs_type,
            "mnt_point": m.mnt_point,
            "options": m.options,
            "size": size,
            "used": used,
            "free": free,
            "percent": percent,
            "key": "mnt_point",
        }));
    }
    Value::Array(out)
}

/// Nezha's disk filesystems.
const NEZHA_FS: &[&str] = &[
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "zfs",
    "f2fs",
    "reiserfs",
    "jfs",
    "fuseblk",
    "simfs",
    "ntfs",
    "fat32",
    "exfat",
    "apfs",
    "fuse.rclone",
];

/// `(used, total)` bytes over real disk filesystems, one mount per device.
pub fn nezha_disk(ctx: &Ctx, mounts: &[Mount]) -> (u64, u64) {
    let mut devices = BTreeSet::new();
    let (mut used, mut total) = (0u64, 0u64);
    for m in mounts {
        if !NEZHA_FS.contains(&m.fs_type.as_str())
            || m.mnt_point.starts_with("/var/lib/kubelet")
            || !devices.insert(m.device.clone())
        {
            continue;
        }
        if let Some(u) = ctx.probe.statvfs(Path::new(&m.mnt_point)) {
            total += u.size;
            used += u.size.saturating_sub(u.free_root);
        }
    }
    (used, total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn octal_escapes_decode() {
        assert_eq!(super::unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(super::unescape("/plain"), "/plain");
    }
}
