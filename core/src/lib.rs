//! Domain model shared by every ZMON component.
//!
//! Everything in this crate is pure: no I/O, no clocks except where a caller
//! passes `now` in. That keeps the rules (validation, inheritance, filter
//! matching, key names) testable in isolation and identical in the
//! controller, the scheduler and the workers.

pub mod alert;
pub mod check;
pub mod condition;
pub mod dashboard;
pub mod downtime;
pub mod entity;
pub mod event;
pub mod filter;
pub mod group;
pub mod host;
pub mod inheritance;
pub mod keys;
pub mod message;
pub mod monitor;
pub mod notification;
pub mod role;
pub mod status;
pub mod task;
pub mod team;
pub mod time;
pub mod validation;

pub use alert::{AlertDefinition, AlertDefinitionInput, Parameter, ParameterType};
pub use check::{CheckDefinition, CheckDefinitionInput, DefinitionStatus};
pub use downtime::{Downtime, DowntimeGroup, DowntimeRequest};
pub use entity::Entity;
pub use filter::EntityFilter;
pub use keys::KeySpace;
pub use role::Role;
pub use status::AlertStatus;
pub use task::{Task, TaskAlert, TaskCheck, TaskKind};
pub use validation::ValidationError;
