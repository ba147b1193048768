//! Conditions, commands and periods are compiled when they are saved, so a
//! mistake is a 400 that says where, not an alert that fails at 3 a.m.

use crate::error::ApiError;

/// Compiles a condition or command; the error names the field.
pub fn check_script(field: &str, source: &str) -> Result<(), ApiError> {
    zmon_checks::compile(source)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("{field} {e}")))
}

pub fn check_period(period: &str) -> Result<(), ApiError> {
    zmon_checks::Period::parse(period)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("period: {e}")))
}

/// A notification entry must call a known function with literal
/// arguments; the error names the entry.
pub fn check_notification(field: &str, entry: &str) -> Result<(), ApiError> {
    zmon_checks::notification::parse(entry)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}
