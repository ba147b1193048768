//! Validation errors that always name the offending field.

use std::fmt;

/// A request that breaks a domain rule. `Display` gives the message shown to
/// API users, which always starts with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub fn mandatory(field: impl Into<String>) -> Self {
        Self::new(field, "is mandatory")
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// Rejects a value that is present but blank.
pub(crate) fn non_blank(field: &str, value: Option<String>) -> Result<String, ValidationError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        Some(_) => Err(ValidationError::new(field, "must not be blank")),
        None => Err(ValidationError::mandatory(field)),
    }
}

pub(crate) fn max_len(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters long"),
        ));
    }
    Ok(())
}
