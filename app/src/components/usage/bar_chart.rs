//! A bar chart as plain SVG, drawn on the server: no script, no chart library in the bundle.
//! Bars scale to a "nice" maximum (1, 2 or 5 × 10ⁿ) with three grid lines; every bar has a
//! `<title>` tooltip, and the chart has a text summary for screen readers. The exact figures
//! are in the table printed beside each chart.

use leptos::prelude::*;

/// One bar: its axis label (may be empty), tooltip label and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub tooltip: String,
    pub value: i64,
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (at least 1).
pub fn nice_ceiling(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = step.checked_mul(m) {
                if v >= max {
                    return v;
                }
            }
        }
        match step.checked_mul(10) {
            Some(next) => step = next,
            None => return i64::MAX,
        }
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

/// `format` turns a value into axis and tooltip text (dollars, tokens).
#[component]
pub fn BarChart(
    /// Accessible name, e.g. "Cost per day".
    title: String,
    bars: Vec<Bar>,
    format: fn(i64) -> String,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    let highest = bars.iter().map(|b| b.value).max().unwrap_or(0);
    let ceiling = nice_ceiling(highest);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.72).max(1.0);
    let total: i64 = bars.iter().map(|b| b.value).sum();
    let summary = format!(
        "{title}: {} bars, total {}, highest {}.",
        bars.len(),
        format(total),
        format(bars.iter().map(|b| b.value).max().unwrap_or(0))
    );
    // With nothing to show, one baseline and a word instead of a scale of zeros.
    let fractions: &[f64] = if highest > 0 {
        &[0.0, 0.5, 1.0]
    } else {
        &[0.0]
    };
    let empty = (highest <= 0).then(|| {
        view! {
            <text class="chart-empty" x=LEFT + plot_w / 2.0 y=TOP + plot_h / 2.0 text-anchor="middle">"Nothing in this period"</text>
        }
    });
    let grid = fractions
        .iter()
        .map(|&f| {
            let y = TOP + plot_h * (1.0 - f);
            let label = format((ceiling as f64 * f).round() as i64);
            view! {
                <line class="chart-grid" x1=LEFT y1=y x2=WIDTH - RIGHT y2=y></line>
                <text class="chart-axis" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
            }
        })
        .collect_view();
    let rects = bars
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let h = if bar.value <= 0 {
                0.0
            } else {
                (bar.value as f64 / ceiling as f64 * plot_h).max(1.5)
            };
            let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
            let tooltip = format!("{}: {}", bar.tooltip, format(bar.value));
            let label = (!bar.label.is_empty()).then(|| {
                view! {
                    <text class="chart-axis" x=x + bar_w / 2.0 y=HEIGHT - 8.0 text-anchor="middle">{bar.label.clone()}</text>
                }
            });
            view! {
                <g class="chart-bar">
                    <rect x=x y=TOP + plot_h - h width=bar_w height=h rx=2.0>
                        <title>{tooltip}</title>
                    </rect>
                    {label}
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="chart"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-label=summary
            data-testid=test_id
        >
            {grid}
            {empty}
            {rects}
        </svg>
    }
}

const ROW: f64 = 30.0;
const LABEL_W: f64 = 200.0;
const VALUE_W: f64 = 90.0;

/// Horizontal bars for named things (models, conversations): label, bar, value.
#[component]
pub fn HBarChart(
    title: String,
    bars: Vec<Bar>,
    format: fn(i64) -> String,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len().max(1) as f64 + 4.0;
    let plot_w = WIDTH - LABEL_W - VALUE_W;
    let summary = format!("{title}: {} rows.", bars.len());
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let y = 2.0 + ROW * i as f64;
            let w = if bar.value <= 0 {
                0.0
            } else {
                (bar.value as f64 / max as f64 * plot_w).max(1.5)
            };
            let label: String = if bar.label.chars().count() > 28 {
                format!("{}…", bar.label.chars().take(27).collect::<String>())
            } else {
                bar.label.clone()
            };
            let value = format(bar.value);
            view! {
                <g class="chart-bar">
                    <text class="chart-label" x=LABEL_W - 8.0 y=y + ROW / 2.0 + 4.0 text-anchor="end">{label}</text>
                    <rect x=LABEL_W y=y + 6.0 width=w height=ROW - 12.0 rx=2.0>
                        <title>{format!("{}: {value}", bar.tooltip)}</title>
                    </rect>
                    <text class="chart-axis" x=LABEL_W + w + 6.0 y=y + ROW / 2.0 + 4.0>{value.clone()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart chart-h" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=summary data-testid=test_id>
            {rows}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_are_round_numbers_at_or_above_the_maximum() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(1_999_999), 2_000_000);
        assert_eq!(nice_ceiling(2_000_001), 5_000_000);
        assert_eq!(nice_ceiling(i64::MAX), i64::MAX);
    }
}
