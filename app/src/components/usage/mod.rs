//! The usage and admin pages' pieces: charts drawn as SVG on the server.

pub mod bar_chart;
