//! Medians with min and max, as Markdown table rows.

/// (median, min, max); NaNs (failed runs) are left out.
pub fn stats(xs: &[f64]) -> Option<(f64, f64, f64)> {
    let mut xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    Some((median, xs[0], xs[n - 1]))
}

pub fn median(xs: &[f64]) -> Option<f64> {
    stats(xs).map(|(m, _, _)| m)
}

/// Two decimals below 10, one below 1000, none above.
pub fn num(x: f64) -> String {
    if x.abs() < 10.0 {
        format!("{x:.2}")
    } else if x.abs() < 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// `| name | median unit | min – max | n |`.
pub fn row(name: &str, unit: &str, xs: &[f64]) -> String {
    match stats(xs) {
        Some((median, min, max)) => format!(
            "| {name} | {} {unit} | {} – {} | {} |",
            num(median),
            num(min),
            num(max),
            xs.iter().filter(|x| x.is_finite()).count()
        ),
        None => format!("| {name} | not measured | | 0 |"),
    }
}

/// A row of the ratio of two medians.
pub fn ratio_row(name: &str, ours: &[f64], theirs: &[f64]) -> Option<String> {
    median_ratio(ours, theirs).map(|r| format!("| {name} | {}× | | |", num(r)))
}

/// A line for the summary of targets `bench/run` collects from every
/// binary's output (the lines starting with `TARGET |`):
/// `TARGET | comparison | figure | measured | target | met, missed or not measured |`.
pub fn target(
    comparison: u8,
    figure: &str,
    measured: Option<f64>,
    unit: &str,
    target: &str,
    met: impl Fn(f64) -> bool,
) -> String {
    let (value, verdict) = match measured.filter(|m| m.is_finite()) {
        Some(m) => (
            format!("{}{unit}", num(m)),
            if met(m) { "met" } else { "**missed**" },
        ),
        None => ("not measured".to_string(), "not measured"),
    };
    format!("TARGET | {comparison} | {figure} | {value} | {target} | {verdict} |")
}

/// The ratio of two medians, if both were measured.
pub fn median_ratio(ours: &[f64], theirs: &[f64]) -> Option<f64> {
    let (a, b) = (median(ours)?, median(theirs)?);
    (b != 0.0).then(|| a / b)
}

/// Prints `rows` as a Markdown table, then the [`target`] lines among
/// them (each its own line, for `bench/run`), then `notes` as a list.
pub fn print_report(rows: &[String], notes: &[String]) {
    let (targets, rows): (Vec<&String>, Vec<&String>) =
        rows.iter().partition(|r| r.starts_with("TARGET |"));
    println!("| measure | median | min – max | runs |");
    println!("|---|---|---|---|");
    for line in rows {
        println!("{line}");
    }
    if !targets.is_empty() {
        println!();
        for line in targets {
            println!("{line}");
        }
    }
    if !notes.is_empty() {
        println!();
        for note in notes {
            println!("- {note}");
        }
    }
}
