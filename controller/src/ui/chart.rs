//! Line charts as inline SVG, rendered on the server: no JavaScript, no
//! fonts to load. Each series gets its own colour *and* dash pattern, and
//! a legend names it, so colour is never the only way to tell them apart.
//!
//! Hand-written rather than plotters: a few dozen lines give the one chart
//! type the UI needs, text stays real (selectable, scalable) SVG text, and
//! no font-metrics machinery is linked into the controller.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
const STYLES: [(&str, &str); 6] = [
    ("#1f5fbf", ""),
    ("#c62828", "6 3"),
    ("#2e7d32", "2 3"),
    ("#e65100", "8 3 2 3"),
    ("#6a1b9a", "4 4"),
    ("#00838f", "1 2"),
];

/// One line: a name and (epoch seconds, value) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A short number for axis labels.
fn label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn clock(ts: f64) -> String {
    chrono::DateTime::from_timestamp(ts as i64, 0)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The chart, or `None` when there is nothing to draw.
pub fn line_chart(title: &str, series: &[Series]) -> Option<String> {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (t0, t1) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (t, _)| {
        (lo.min(*t), hi.max(*t))
    });
    let (mut v0, mut v1) = all().fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| {
        (lo.min(*v), hi.max(*v))
    });
    if t0 > t1 || !v0.is_finite() || !v1.is_finite() {
        return None;
    }
    if v0 == v1 {
        v0 -= 1.0;
        v1 += 1.0;
    }
    // Start at zero when the data is close to it: bars of usage read best so.
    if v0 > 0.0 && v0 < (v1 - v0) {
        v0 = 0.0;
    }
    let span_t = (t1 - t0).max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |t: f64| LEFT + (t - t0) / span_t * plot_w;
    let y = |v: f64| TOP + (1.0 - (v - v0) / (v1 - v0)) * plot_h;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        h = HEIGHT + 20.0 * series.len().div_ceil(3) as f64,
        t = escape(title)
    );
    for i in 0..=4 {
        let v = v0 + (v1 - v0) * f64::from(i) / 4.0;
        let py = y(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#dfe3ea"/><text x="{lx}" y="{ty:.1}" text-anchor="end" font-size="11" fill="#667085">{l}</text>"##,
            x2 = WIDTH - RIGHT,
            lx = LEFT - 6.0,
            ty = py + 4.0,
            l = label(v)
        );
    }
    for (t, anchor) in [(t0, "start"), ((t0 + t1) / 2.0, "middle"), (t1, "end")] {
        let _ = write!(
            svg,
            r##"<text x="{px:.1}" y="{ty}" text-anchor="{anchor}" font-size="11" fill="#667085">{c}</text>"##,
            px = x(t),
            ty = HEIGHT - 8.0,
            c = clock(t)
        );
    }
    for (i, s) in series.iter().enumerate() {
        let (colour, dash) = STYLES[i % STYLES.len()];
        let mut points: Vec<&(f64, f64)> = s.points.iter().collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            escape(&s.name)
        );
        if points.len() == 1 {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(points[0].0),
                y(points[0].1)
            );
        }
        let lx = 10.0 + (i % 3) as f64 * 240.0;
        let ly = HEIGHT + 14.0 + (i / 3) as f64 * 20.0;
        let _ = write!(
            svg,
            r#"<line x1="{lx}" x2="{x2}" y1="{ly2}" y2="{ly2}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{tx}" y="{ly}" font-size="12">{}</text>"#,
            escape(&s.name),
            x2 = lx + 24.0,
            ly2 = ly - 4.0,
            tx = lx + 30.0
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_draw_each_series_with_a_legend_and_escape_names() {
        let svg = line_chart(
            "load <1m>",
            &[
                Series {
                    name: "db-1".into(),
                    points: vec![(1000.0, 1.0), (1060.0, 3.5), (1030.0, 2.0)],
                },
                Series {
                    name: "db-<2>".into(),
                    points: vec![(1000.0, 7.0)],
                },
            ],
        )
        .expect("drawn");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("db-&lt;2&gt;") && svg.contains("load &lt;1m&gt;"));
        assert!(
            svg.contains(r#"stroke-dasharray="6 3""#),
            "the second series is dashed"
        );
        assert!(svg.contains("<circle"), "a single point is visible");
        assert!(line_chart("empty", &[]).is_none());
    }

    #[test]
    fn points_are_in_time_order_inside_the_plot() {
        let svg = line_chart(
            "t",
            &[Series {
                name: "a".into(),
                points: vec![(20.0, 5.0), (10.0, 0.0)],
            }],
        )
        .expect("drawn");
        let start = svg.find(r#"points=""#).expect("points") + 8;
        let first = &svg[start..start + 4];
        assert_eq!(first, "56.0", "the earliest point is on the left edge");
    }
}
