//! `/usage`: what the signed-in user has spent — per day for the last 30 days, per model, the
//! dearest conversations, and this month against the budget. Charts are SVG drawn here on the
//! server, each with its table of exact figures; the CSV export is a plain link. No script.

use leptos::prelude::*;

use crate::{
    components::{
        format,
        usage::bar_chart::{Bar, BarChart, HBarChart},
    },
    layout::page_shell::{PageShell, Unavailable},
    page_data::{page_data, UsagePageData},
    wire::{Micros, UsageDay, UsageReport, UsageTotals},
};

#[component]
pub fn UsagePage() -> impl IntoView {
    let body = match page_data::<UsagePageData>() {
        Some(data) => view! { <UsageReportView report=data.report/> }.into_any(),
        None => view! {
            <Unavailable
                heading="Usage is not available"
                text="We could not load your usage. Reload the page to try again."
            />
        }
        .into_any(),
    };
    view! {
        <PageShell title="Usage" main_id="usage" main_class="usage-page">
            {body}
        </PageShell>
    }
}

fn cost(micros: i64) -> String {
    Micros(micros).cost()
}

fn tokens(n: i64) -> String {
    format::tokens(n)
}

/// `2026-11-21` → `Nov 21`.
fn short_date(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = date.split('-').skip(1);
    match (
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next().and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(m @ 1..=12), Some(d)) => format!("{} {d}", MONTHS[m - 1]),
        _ => date.to_owned(),
    }
}

#[component]
fn Stat(
    label: &'static str,
    value: String,
    #[prop(optional)] sub: Option<String>,
    test_id: &'static str,
) -> impl IntoView {
    view! {
        <div class="usage-stat">
            <span class="stat-label">{label}</span>
            <strong class="usage-stat-value" data-testid=test_id>{value}</strong>
            {sub.map(|s| view! { <span class="muted">{s}</span> })}
        </div>
    }
}

fn totals_cells(t: &UsageTotals) -> impl IntoView {
    view! {
        <td class="num">{tokens(t.requests)}</td>
        <td class="num">{tokens(t.total_tokens)}</td>
        <td class="num">{cost(t.cost_micros)}</td>
    }
}

/// One bar a day, labelled once a week counting back from today (so today is labelled).
fn daily_bars(days: &[UsageDay], value: fn(&UsageTotals) -> i64) -> Vec<Bar> {
    days.iter()
        .enumerate()
        .map(|(i, d)| Bar {
            label: if (days.len() - 1 - i).is_multiple_of(7) {
                short_date(&d.date)
            } else {
                String::new()
            },
            tooltip: short_date(&d.date),
            value: value(&d.totals),
        })
        .collect()
}

/// One named thing of a breakdown (a model, a conversation): its bar, how its name shows in
/// the table, and its figures.
struct BreakdownRow {
    bar: Bar,
    name: AnyView,
    totals: UsageTotals,
}

/// Cost per named thing: horizontal bars beside a table of the exact figures.
#[component]
fn BreakdownCard(
    id: &'static str,
    heading: &'static str,
    /// The table's first column.
    column: &'static str,
    chart_title: &'static str,
    chart_id: &'static str,
    table_id: &'static str,
    rows: Vec<BreakdownRow>,
) -> impl IntoView {
    let (bars, cells): (Vec<Bar>, Vec<(AnyView, UsageTotals)>) = rows
        .into_iter()
        .map(|r| (r.bar, (r.name, r.totals)))
        .unzip();
    view! {
        <section class="usage-card" aria-labelledby=id>
            <h2 id=id>{heading}</h2>
            <div class="usage-grid">
                <div class="usage-charts">
                    <HBarChart title=chart_title.into() bars format=cost test_id=chart_id/>
                </div>
                <div class="usage-table-wrap">
                    <table class="usage-table" data-testid=table_id>
                        <thead><tr><th>{column}</th><th class="num">"Replies"</th><th class="num">"Tokens"</th><th class="num">"Cost"</th></tr></thead>
                        <tbody>
                            {cells.into_iter().map(|(name, totals)| view! {
                                <tr><td>{name}</td>{totals_cells(&totals)}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </div>
        </section>
    }
}

#[component]
fn UsageReportView(report: UsageReport) -> impl IntoView {
    let budget = report.budget.clone();
    let budget_stat = match budget.budget_micros {
        Some(cap) => view! {
            <Stat
                label="Monthly budget"
                value=format!("{} left", cost(budget.remaining_micros().unwrap_or(0)))
                sub=format!("of {} this month", cost(cap))
                test_id="usage-budget"
            />
        }
        .into_any(),
        None => {
            view! { <Stat label="Monthly budget" value="No limit".into() test_id="usage-budget"/> }
                .into_any()
        }
    };
    let cost_bars = daily_bars(&report.days, |t| t.cost_micros);
    let token_bars = daily_bars(&report.days, |t| t.total_tokens);
    let model_rows: Vec<BreakdownRow> = report
        .models
        .iter()
        .map(|m| BreakdownRow {
            bar: Bar {
                label: m.display_name.clone(),
                tooltip: format!("{} ({})", m.display_name, m.provider),
                value: m.totals.cost_micros,
            },
            name: view! {
                {m.display_name.clone()}
                <span class="muted usage-provider">{m.provider.as_str()}</span>
            }
            .into_any(),
            totals: m.totals.clone(),
        })
        .collect();
    let conversation_rows: Vec<BreakdownRow> = report
        .top_conversations
        .iter()
        .map(|c| BreakdownRow {
            bar: Bar {
                label: c.title.clone(),
                tooltip: c.title.clone(),
                value: c.totals.cost_micros,
            },
            name: match c.conversation_id.filter(|_| !c.deleted) {
                Some(id) => view! { <a href=format!("/c/{id}")>{c.title.clone()}</a> }.into_any(),
                None => view! { <span class="muted">{c.title.clone()}</span> }.into_any(),
            },
            totals: c.totals.clone(),
        })
        .collect();
    let active_days: Vec<_> = report
        .days
        .iter()
        .rev()
        .filter(|d| d.totals.requests > 0)
        .cloned()
        .collect();
    let empty = report.period_totals.requests == 0;

    view! {
        <div class="usage-wrap">
            <section class="usage-summary" aria-label="This month">
                <Stat label="Spent this month" value=cost(report.month_totals.cost_micros) test_id="usage-month-cost"/>
                <Stat label="Tokens this month" value=tokens(report.month_totals.total_tokens) sub=format!("{} replies", tokens(report.month_totals.requests)) test_id="usage-month-tokens"/>
                {budget_stat}
                <Stat label="Last 30 days" value=cost(report.period_totals.cost_micros) sub=format!("{} tokens", tokens(report.period_totals.total_tokens)) test_id="usage-period-cost"/>
            </section>
            <div class="usage-actions">
                <span class="muted">{format!("{} to {} (UTC). Deleted conversations still count.", report.from, report.to)}</span>
                <a class="btn btn-ghost usage-export" href="/api/usage.csv" download data-testid="usage-csv">"Export CSV"</a>
            </div>
            {empty.then(|| view! {
                <p class="usage-empty muted">"No usage yet in the last 30 days. Replies you get will show here with what they cost."</p>
            })}

            <section class="usage-card" aria-labelledby="usage-daily">
                <h2 id="usage-daily">"Per day"</h2>
                <div class="usage-grid">
                    <div class="usage-charts">
                        <figure>
                            <figcaption>"Cost"</figcaption>
                            <BarChart title="Cost per day".into() bars=cost_bars format=|m| Micros(m).cost_exact() test_id="chart-daily-cost"/>
                        </figure>
                        <figure>
                            <figcaption>"Tokens"</figcaption>
                            <BarChart title="Tokens per day".into() bars=token_bars format=tokens test_id="chart-daily-tokens"/>
                        </figure>
                    </div>
                    <div class="usage-table-wrap">
                        <table class="usage-table" data-testid="table-daily">
                            <thead><tr><th>"Day"</th><th class="num">"Replies"</th><th class="num">"Tokens"</th><th class="num">"Cost"</th></tr></thead>
                            <tbody>
                                {active_days.into_iter().map(|d| view! {
                                    <tr><td>{short_date(&d.date)}</td>{totals_cells(&d.totals)}</tr>
                                }).collect_view()}
                            </tbody>
                            <tfoot><tr><th>"Total"</th>{totals_cells(&report.period_totals)}</tr></tfoot>
                        </table>
                    </div>
                </div>
            </section>

            <BreakdownCard
                id="usage-models"
                heading="Per model"
                column="Model"
                chart_title="Cost per model"
                chart_id="chart-models"
                table_id="table-models"
                rows=model_rows
            />
            <BreakdownCard
                id="usage-conversations"
                heading="Top conversations"
                column="Conversation"
                chart_title="Cost per conversation"
                chart_id="chart-conversations"
                table_id="table-conversations"
                rows=conversation_rows
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::short_date;

    #[test]
    fn dates_read_short() {
        assert_eq!(short_date("2026-11-21"), "Nov 21");
        assert_eq!(short_date("2026-01-05"), "Jan 5");
        assert_eq!(short_date("garbage"), "garbage");
    }
}
