//! SQLite errors in the words PostgreSQL's would have.

use sqlx::error::ErrorKind;

use crate::{StoreError, unique_conflict_message};

/// SQLITE_CONSTRAINT_PRIMARYKEY, an extended result code.
const PRIMARY_KEY_VIOLATION: &str = "1555";
/// SQLITE_BUSY and SQLITE_LOCKED, with their extended codes: another
/// connection held the lock past the busy timeout.
const BUSY_CODES: [&str; 6] = ["5", "261", "517", "6", "262", "774"];

pub(super) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Turns constraint violations into the errors `PostgresStore` returns.
/// The constraints carry PostgreSQL's names (see migrations/sqlite), so
/// the messages match.
pub(super) fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let message = db.message();
        match db.kind() {
            ErrorKind::UniqueViolation => {
                let primary = db.code().as_deref() == Some(PRIMARY_KEY_VIOLATION);
                let constraint = unique_constraint_name(message, primary);
                return StoreError::Conflict(unique_conflict_message(&constraint));
            }
            // SQLite does not say which foreign key failed.
            ErrorKind::ForeignKeyViolation => {
                return StoreError::Conflict(
                    "the change conflicts with a reference (foreign key)".into(),
                );
            }
            ErrorKind::CheckViolation => {
                let constraint = message
                    .strip_prefix("CHECK constraint failed: ")
                    .unwrap_or(message);
                return StoreError::Invalid(format!("check constraint violated ({constraint})"));
            }
            _ => {}
        }
        if db.code().is_some_and(|c| BUSY_CODES.contains(&c.as_ref())) {
            return unavailable(e);
        }
    }
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => unavailable(e),
        other => StoreError::Database(other),
    }
}

/// PostgreSQL's name for the constraint behind a SQLite uniqueness error:
/// an index by its own name, a column constraint as `<table>_pkey` or
/// `<table>_<columns>_key`.
fn unique_constraint_name(message: &str, primary: bool) -> String {
    let detail = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or(message);
    if let Some(index) = detail
        .strip_prefix("index '")
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return index.to_string();
    }
    let mut table = "";
    let mut columns = Vec::new();
    for qualified in detail.split(", ") {
        let (t, column) = qualified.split_once('.').unwrap_or(("", qualified));
        table = t;
        columns.push(column);
    }
    if primary {
        format!("{table}_pkey")
    } else {
        format!("{table}_{}_key", columns.join("_"))
    }
}

#[cfg(test)]
mod tests {
    use super::unique_constraint_name;

    #[test]
    fn names_follow_postgres() {
        assert_eq!(
            unique_constraint_name(
                "UNIQUE constraint failed: index 'check_definitions_name_team'",
                false
            ),
            "check_definitions_name_team"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: users.name", true),
            "users_pkey"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: api_tokens.token_hash", false),
            "api_tokens_token_hash_key"
        );
    }
}
