//! Integration tests of the controller over real HTTP, PostgreSQL and Redis.
//! One binary, so the crate is linked once.

mod helpers;

mod alerts;
mod auth;
mod bad_input;
mod checks;
mod cli_compat;
mod downtimes;
mod entities;
mod events;
mod groups;
mod hosts;
mod monitors;
mod nezha;
mod oauth;
mod operations;
mod permissions;
mod seed;
mod status;
mod ui;
