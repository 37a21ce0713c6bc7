//! The markdown report: the machine, the run, every figure with its target and whether it
//! holds, then the detail tables. Each section is one function, called in the order the
//! report reads; each takes only the measurements it shows.

mod figure;
mod format;
mod header;
mod memory;
mod notes;
mod page;
mod streaming;
mod targets;
#[cfg(test)]
mod tests;
mod writes;

use crate::measurements::Measurements;

/// The whole report.
pub fn markdown(measured: &Measurements) -> String {
    let plan = &measured.setup.plan;
    [
        header::title(&measured.setup, &measured.environment),
        header::machine(&measured.environment),
        targets::section(measured),
        streaming::time_to_first_token(&measured.levels, &plan.shape, &plan.unpaced_shape),
        streaming::server_time_split(&measured.levels),
        streaming::throughput_and_cpu(&measured.levels),
        streaming::first_errors(&measured.levels),
        memory::section(&measured.memory, &measured.idle, plan.users),
        writes::section(&measured.writes, plan),
        page::render(&measured.render),
        page::wasm(&measured.wasm),
        notes::server_log(&measured.complaints),
        notes::how_it_was_run(&measured.setup),
    ]
    .concat()
}
