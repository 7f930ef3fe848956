//! Server-side SVG charts for the desk (no script, no library): a horizontal bar chart and a
//! line chart with several series, each a `role="img"` SVG with an `aria-label` and a
//! `<title>`, labelled axes and a legend, in Chinese. Every label is data and is escaped by
//! [`maud`].

use maud::{Markup, html};

/// The series colours, in order (distinct for the usual colour blindness).
const COLOURS: [&str; 8] = [
    "#1f5fa8", "#c62828", "#2f7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#616e7c",
];

/// A series' colour.
pub fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// A "nice" upper bound for an axis holding `max`: 1, 2 or 5 times a power of ten.
fn nice_max(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= max.max(1) {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A horizontal bar chart: one bar per `(label, value)`, in the given order, the value at
/// its end; `title` names it (and is its accessible name), `unit` the values' unit.
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, u64)]) -> Markup {
    let row_h = 22.0;
    let left = 140.0;
    let width = 560.0;
    let plot_w = width - left - 60.0;
    let top = 10.0;
    let height = top + row_h * bars.len().max(1) as f64 + 30.0;
    let max = nice_max(bars.iter().map(|b| b.1).max().unwrap_or(0));
    let x = |v: u64| left + plot_w * v as f64 / max as f64;
    let summary = bars
        .iter()
        .map(|(l, v)| format!("{l} {v}{unit}"))
        .collect::<Vec<_>>()
        .join("，");
    let label = format!("{title}：{summary}");
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) {
            title { (title) }
            @if bars.is_empty() {
                text x=(left) y=(top + 14.0) font-size="12" fill="#616e7c" { "暂无数据" }
            }
            @for (i, (l, v)) in bars.iter().enumerate() {
                @let y = top + row_h * i as f64;
                text x=(left - 6.0) y=(y + 15.0) font-size="12" text-anchor="end" { (l) }
                rect x=(left) y=(y + 4.0) width=(x(*v) - left) height=(row_h - 8.0) fill=(colour(0)) {}
                text x=(x(*v) + 4.0) y=(y + 15.0) font-size="12" { (v) }
            }
            @let base = top + row_h * bars.len().max(1) as f64;
            line x1=(left) y1=(base) x2=(left + plot_w) y2=(base) stroke="#9aa5b1" {}
            text x=(left) y=(base + 16.0) font-size="11" fill="#616e7c" { "0" }
            text x=(left + plot_w) y=(base + 16.0) font-size="11" fill="#616e7c" text-anchor="end" { (max) }
            text x=(left + plot_w / 2.0) y=(base + 28.0) font-size="11" fill="#616e7c" text-anchor="middle" { "数量（" (unit) "）" }
        }
    }
}

/// A line chart: the x axis labelled by `days` (shown every few), one line per series
/// `(name, values)` (each as long as `days`), with a legend; `title` names it.
pub fn line_chart(
    title: &str,
    unit: &str,
    days: &[String],
    series: &[(String, Vec<u64>)],
) -> Markup {
    let left = 44.0;
    let width = 640.0;
    let plot_w = width - left - 16.0;
    let top = 10.0;
    let plot_h = 180.0;
    let legend_rows = series.len().div_ceil(3);
    let height = top + plot_h + 40.0 + 18.0 * legend_rows as f64;
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .max()
            .unwrap_or(0),
    );
    let n = days.len().max(2);
    let x = |i: usize| left + plot_w * i as f64 / (n - 1) as f64;
    let y = |v: u64| top + plot_h - plot_h * v as f64 / max as f64;
    let every = days.len().div_ceil(6).max(1);
    let totals = series
        .iter()
        .map(|(name, vs)| format!("{name} 共 {}{unit}", vs.iter().sum::<u64>()))
        .collect::<Vec<_>>()
        .join("，");
    let label = format!(
        "{title}（{} 至 {}）：{totals}",
        days.first().map(String::as_str).unwrap_or(""),
        days.last().map(String::as_str).unwrap_or("")
    );
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) {
            title { (title) }
            @for k in 0..=4u64 {
                @let v = max * k / 4;
                line x1=(left) y1=(y(v)) x2=(left + plot_w) y2=(y(v)) stroke="#e4e7eb" {}
                text x=(left - 4.0) y=(y(v) + 4.0) font-size="11" fill="#616e7c" text-anchor="end" { (v) }
            }
            line x1=(left) y1=(top + plot_h) x2=(left + plot_w) y2=(top + plot_h) stroke="#9aa5b1" {}
            @for (i, d) in days.iter().enumerate() {
                @if i % every == 0 || i + 1 == days.len() {
                    text x=(x(i)) y=(top + plot_h + 14.0) font-size="11" fill="#616e7c" text-anchor="middle" { (d) }
                }
            }
            text x="4" y=(top + 8.0) font-size="11" fill="#616e7c" { (unit) }
            @for (si, (_, vs)) in series.iter().enumerate() {
                @let points = vs.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect::<Vec<_>>().join(" ");
                polyline points=(points) fill="none" stroke=(colour(si)) stroke-width="2" {}
            }
            @for (si, (name, _)) in series.iter().enumerate() {
                @let lx = left + 200.0 * (si % 3) as f64;
                @let ly = top + plot_h + 32.0 + 18.0 * (si / 3) as f64;
                rect x=(lx) y=(ly - 9.0) width="12" height="4" fill=(colour(si)) {}
                text x=(lx + 16.0) y=(ly - 4.0) font-size="12" { (name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_an_accessible_image_with_its_labels_escaped() {
        let svg = bar_chart(
            "近30天各网格新增",
            "件",
            &[("<script>网格</script>".into(), 12), ("二网格".into(), 3)],
        )
        .into_string();
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(
            svg.contains("aria-label=\"近30天各网格新增：&lt;script&gt;网格&lt;/script&gt; 12件"),
            "{svg}"
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("<title>近30天各网格新增</title>"));
    }

    #[test]
    fn a_line_chart_draws_one_line_per_series_and_names_them() {
        let days: Vec<String> = (1..=30).map(|d| format!("11-{d:02}")).collect();
        let svg = line_chart(
            "近30天各分类新增",
            "件",
            &days,
            &[("井盖".into(), vec![1; 30]), ("占道".into(), vec![2; 30])],
        )
        .into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(
            svg.contains("井盖 共 30件") && svg.contains("占道 共 60件"),
            "{svg}"
        );
        assert!(svg.contains(">11-01<") && svg.contains(">11-30<"), "{svg}");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(13), 20);
        assert_eq!(nice_max(40), 50);
    }
}
