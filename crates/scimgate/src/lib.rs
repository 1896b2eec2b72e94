//! The scimgate binary's wiring: configuration, telemetry, the application and the support
//! commands. No business rules here.

pub mod app;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod telemetry;
pub mod tokens;
