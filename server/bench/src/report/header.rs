//! The title, the run's one-line summary and the machine it ran on.

use super::format::table;
use crate::{environment::Environment, measurements::Setup};

/// Which run, when, by what command, at which commit, for how long.
pub fn title(setup: &Setup, environment: &Environment) -> String {
    format!(
        "# Rustchat benchmarks ({} run)\n\nRun on {} by `{}` at commit {}; the run took {:.0} s.\n\n",
        setup.plan.name,
        environment.finished.format("%Y-%m-%d %H:%M UTC"),
        environment.command.join(" "),
        environment.commit,
        setup.duration.as_secs_f64()
    )
}

/// The machine, and the load other work put on it.
pub fn machine(environment: &Environment) -> String {
    let mut rows: Vec<Vec<String>> = environment
        .machine
        .iter()
        .map(|(what, value)| vec![what.clone(), value.clone()])
        .collect();
    rows.push(vec![
        "load average (1, 5, 15 min) before / after the run".into(),
        format!("{} / {}", environment.load.0, environment.load.1),
    ]);
    format!("## Machine\n\n{}\n", table(&["", ""], &rows))
}
