//! Field descriptions and units, as Glances' `fields_description`.

use super::FieldInfo;

const fn info(description: &'static str, unit: Option<&'static str>) -> FieldInfo {
    FieldInfo { description, unit }
}

const PERCENT: Option<&str> = Some("percent");
const BYTES: Option<&str> = Some("bytes");
const BYTE: Option<&str> = Some("byte");
const NUMBER: Option<&str> = Some("number");
const SECONDS: Option<&str> = Some("seconds");

/// The description and unit of `field` in `plugin`, or `None` when the
/// field is unknown. Rate companions (`X_gauge`, `X_rate_per_sec`) take
/// their base field's description; `_rate_per_sec` appends `/s` to the unit.
pub fn field_info(plugin: &str, field: &str) -> Option<FieldInfo> {
    if field == "time_since_update" {
        return Some(info("Number of seconds since last update", SECONDS));
    }
    if let Some(base) = field.strip_suffix("_gauge") {
        let b = field_info(plugin, base)?;
        return Some(info(b.description, b.unit));
    }
    if let Some(base) = field.strip_suffix("_rate_per_sec") {
        let b = field_info(plugin, base)?;
        let unit = match b.unit {
            Some("byte" | "bytes") => Some("bytepersecond"),
            _ => Some("numberpersecond"),
        };
        return Some(info(b.description, unit));
    }
    if plugin == "cpu" && matches!(field, "total_min" | "total_max" | "total_mean") {
        return Some(info("Statistics of the CPU total since start", PERCENT));
    }
    Some(match (plugin, field) {
        ("cpu" | "percpu", "total") => info("Sum of all CPU percentages (except idle)", PERCENT),
        ("cpu" | "percpu", "user") => info("CPU percent time spent in user space", PERCENT),
        ("cpu" | "percpu", "system") => info("Percent time spent in kernel space", PERCENT),
        ("cpu" | "percpu", "idle") => info("Percent time the CPU was idle", PERCENT),
        ("cpu" | "percpu", "nice") => {
            info("Percent time occupied by niced user processes", PERCENT)
        }
        ("cpu" | "percpu", "iowait") => info("Percent time waiting for I/O to complete", PERCENT),
        ("cpu" | "percpu", "irq") => info("Percent time servicing hardware interrupts", PERCENT),
        ("cpu" | "percpu", "softirq") => {
            info("Percent time servicing software interrupts", PERCENT)
        }
        ("cpu" | "percpu", "steal") => {
            info("Percent time a virtual CPU waited for a real CPU", PERCENT)
        }
        ("cpu" | "percpu", "guest") => {
            info("Percent time running a virtual CPU for guests", PERCENT)
        }
        ("cpu" | "percpu", "guest_nice") => info("Percent time running a niced guest", PERCENT),
        ("cpu", "ctx_switches") => info("Number of context switches", NUMBER),
        ("cpu", "interrupts") => info("Number of interrupts", NUMBER),
        ("cpu", "soft_interrupts") => info("Number of software interrupts", NUMBER),
        ("cpu", "syscalls") => info("Number of system calls (always 0 on Linux)", NUMBER),
        ("cpu" | "load", "cpucore") => info("Total number of CPU core", NUMBER),
        ("percpu", "cpu_number") => info("CPU number", None),
        ("core", "phys") => info("Number of physical cores", NUMBER),
        ("core", "log") => info("Number of logical CPU cores", NUMBER),
        ("load", "min1") => info("Load average over 1 minute", Some("float")),
        ("load", "min5") => info("Load average over 5 minutes", Some("float")),
        ("load", "min15") => info("Load average over 15 minutes", Some("float")),
        ("mem", "total") => info("Total physical memory available", BYTES),
        ("mem", "available") => info("Memory that can be given instantly to processes", BYTES),
        ("mem" | "memswap", "percent") => info("The percentage usage", PERCENT),
        ("mem", "used") => info("Memory used (total - available)", BYTES),
        ("mem", "free") => info("Memory not being used at all", BYTES),
        ("mem", "active") => info("Memory currently in use or very recently used", BYTES),
        ("mem", "inactive") => info("Memory that is marked as not used", BYTES),
        ("mem", "buffers") => info("Cache for things like file system metadata", BYTES),
        ("mem", "cached") => info("Cache for various things", BYTES),
        ("mem", "shared") => info("Memory that may be accessed by multiple processes", BYTES),
        ("memswap", "total") => info("Total swap memory", BYTES),
        ("memswap", "used") => info("Used swap memory", BYTES),
        ("memswap", "free") => info("Free swap memory", BYTES),
        ("memswap", "sin") => info("Bytes swapped in from disk (cumulative)", BYTES),
        ("memswap", "sout") => info("Bytes swapped out to disk (cumulative)", BYTES),
        ("fs", "device_name") => info("Device name", None),
        ("fs", "fs_type") => info("File system type", None),
        ("fs", "mnt_point") => info("Mount point", None),
        ("fs", "options") => info("Mount options", None),
        ("fs", "size") => info("Total size", BYTE),
        ("fs", "used") => info("Used size", BYTE),
        ("fs", "free") => info("Free size", BYTE),
        ("fs", "percent") => info("File system usage in percent", PERCENT),
        ("diskio", "disk_name") => info("Disk name", None),
        ("diskio", "read_count") => info("Number of reads", NUMBER),
        ("diskio", "write_count") => info("Number of writes", NUMBER),
        ("diskio", "read_bytes") => info("Number of bytes read", BYTE),
        ("diskio", "write_bytes") => info("Number of bytes written", BYTE),
        ("diskio", "read_time") => info("Time spent reading", Some("millisecond")),
        ("diskio", "write_time") => info("Time spent writing", Some("millisecond")),
        ("diskio", "read_latency") => info("Mean time per read", Some("millisecond")),
        ("diskio", "write_latency") => info("Mean time per write", Some("millisecond")),
        ("network", "interface_name") => info("Interface name", None),
        ("network", "alias") => info("Interface alias name", None),
        ("network", "bytes_recv") => info("Number of bytes received", BYTES),
        ("network", "bytes_sent") => info("Number of bytes sent", BYTES),
        ("network", "bytes_all") => info("Number of bytes received and sent", BYTES),
        ("network", "speed") => info(
            "Maximum interface speed (bits per second)",
            Some("bitpersecond"),
        ),
        ("network", "is_up") => info("Is the interface up?", Some("bool")),
        ("processcount", "total") => info("Total number of processes", NUMBER),
        ("processcount", "running") => info("Total number of running processes", NUMBER),
        ("processcount", "sleeping") => info("Total number of sleeping processes", NUMBER),
        ("processcount", "thread") => info("Total number of threads", NUMBER),
        ("processcount", "pid_max") => info("Maximum number of processes", NUMBER),
        ("processlist" | "programlist", "pid") => info("Process identifier (ID)", NUMBER),
        ("processlist" | "programlist", "name") => info("Process name", Some("string")),
        ("processlist" | "programlist", "cmdline") => {
            info("Command line with arguments", Some("list"))
        }
        ("processlist" | "programlist", "username") => info("Process owner", Some("string")),
        ("processlist" | "programlist", "num_threads") => info("Number of threads", NUMBER),
        ("processlist" | "programlist", "cpu_percent") => info("Process CPU consumption", PERCENT),
        ("processlist" | "programlist", "memory_percent") => {
            info("Process memory consumption", PERCENT)
        }
        ("processlist" | "programlist", "memory_info") => info(
            "Process memory information (rss, vms, shared, text, lib, data, dirty)",
            BYTE,
        ),
        ("processlist" | "programlist", "status") => info("Process status", Some("string")),
        ("processlist" | "programlist", "nice") => info("Process nice value", NUMBER),
        ("processlist" | "programlist", "cpu_times") => info(
            "Process CPU times (user, system, children_user, children_system, iowait)",
            Some("second"),
        ),
        ("processlist" | "programlist", "gids") => {
            info("Process group IDs (real, effective, saved)", NUMBER)
        }
        ("processlist" | "programlist", "io_counters") => info(
            "Process IO counters (read_bytes, write_bytes, previous read_bytes, previous write_bytes, io_tag)",
            BYTE,
        ),
        ("sensors", "label") => info("Sensor label", None),
        ("sensors", "unit") => info("Sensor unit", None),
        ("sensors", "value") => info("Sensor value", NUMBER),
        ("sensors", "warning") => info("Warning threshold", NUMBER),
        ("sensors", "critical") => info("Critical threshold", NUMBER),
        ("sensors", "type") => info(
            "Sensor type (battery, temperature_core, temperature_hdd, fan_speed)",
            None,
        ),
        ("system", "os_name") => info("Operating system name", None),
        ("system", "hostname") => info("Hostname", None),
        ("system", "platform") => info("Platform (32 or 64 bits)", None),
        ("system", "linux_distro") => info("Linux distribution", None),
        ("system", "os_version") => info("Operating system version", None),
        ("system", "hr_name") => info("Human readable operating system name", None),
        ("ip", "address") => info("Private IP address", None),
        ("ip", "mask") => info("Private IP mask", None),
        ("ip", "mask_cidr") => info("Private IP mask in CIDR format", NUMBER),
        ("ip", "gateway") => info("Private IP gateway", None),
        ("ip", "public_address") => info("Public IP address", None),
        ("ip", "public_info_human") => info("Public IP information", None),
        ("now", "iso") => info("Current date in ISO 8601 format", None),
        ("now", "custom") => info("Current date in custom format", None),
        ("quicklook", "cpu") => info("CPU percent usage", PERCENT),
        ("quicklook", "mem") => info("MEM percent usage", PERCENT),
        ("quicklook", "swap") => info("SWAP percent usage", PERCENT),
        ("quicklook", "load") => info("LOAD percent usage", PERCENT),
        ("quicklook", "cpu_name") => info("CPU name", None),
        ("quicklook", "cpu_hz_current") => info("CPU current frequency", Some("hertz")),
        ("quicklook", "cpu_hz") => info("CPU max frequency", Some("hertz")),
        ("quicklook", "cpu_log_core") => info("Number of logical CPU cores", NUMBER),
        ("quicklook", "cpu_phys_core") => info("Number of physical CPU cores", NUMBER),
        ("quicklook", "percpu") => info("Per CPU usage", None),
        ("connections", "LISTEN") => info("Number of TCP connections in LISTEN state", NUMBER),
        ("connections", "ESTABLISHED") => {
            info("Number of TCP connections in ESTABLISHED state", NUMBER)
        }
        ("connections", "SYN_SENT") => info("Number of TCP connections in SYN_SENT state", NUMBER),
        ("connections", "SYN_RECV") => info("Number of TCP connections in SYN_RECV state", NUMBER),
        ("connections", "initiated") => info("Number of TCP connections initiated", NUMBER),
        ("connections", "terminated") => info("Number of TCP connections terminated", NUMBER),
        ("connections", "nf_conntrack_count") => info("Number of tracked connections", NUMBER),
        ("connections", "nf_conntrack_max") => {
            info("Maximum number of tracked connections", NUMBER)
        }
        ("connections", "nf_conntrack_percent") => {
            info("Percentage of tracked connections", PERCENT)
        }
        ("ports", "host") => info("Measurement is done on this host (or IP address)", None),
        ("ports", "port") => info("Measurement is done on this port", None),
        ("ports", "description") => info("Human readable description for the host/port", None),
        ("ports", "status") => info("Measurement result (in seconds)", Some("second")),
        ("ports", "indice") => info("Unique indice for the host/port", None),
        ("irq", "irq_line") => info("IRQ line name", None),
        ("irq", "irq_rate") => info("IRQ rate per second", Some("numberpersecond")),
        ("wifi", "ssid") => info("Wi-Fi interface", None),
        ("wifi", "quality_link") => info("Link quality", NUMBER),
        ("wifi", "quality_level") => info("Signal level", Some("dBm")),
        ("alert", "begin") => info("Begin timestamp of the event", Some("timestamp")),
        ("alert", "end") => info(
            "End timestamp of the event (or -1 if ongoing)",
            Some("timestamp"),
        ),
        ("alert", "state") => info("State of the event (WARNING|CRITICAL)", Some("string")),
        ("alert", "type") => info(
            "Type of the event (CPU_TOTAL|LOAD|MEM|MEMSWAP)",
            Some("string"),
        ),
        ("containers", "name") => info("Container name", None),
        ("containers", "status") => info("Container status", None),
        ("gpu", "proc") => info("GPU processor consumption", PERCENT),
        ("gpu", "mem") => info("GPU memory consumption", PERCENT),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_glances() {
        assert_eq!(
            field_info("cpu", "total").and_then(|f| f.unit),
            Some("percent")
        );
        assert_eq!(
            field_info("mem", "total").and_then(|f| f.unit),
            Some("bytes")
        );
        assert_eq!(
            field_info("network", "bytes_recv").and_then(|f| f.unit),
            Some("bytes")
        );
        assert_eq!(
            field_info("network", "bytes_recv_rate_per_sec").and_then(|f| f.unit),
            Some("bytepersecond")
        );
        assert!(field_info("cpu", "nope").is_none());
    }
}
