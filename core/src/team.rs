//! Team membership, as ZMON decides it.
//!
//! A user's team grants access to every object whose team *starts with* it,
//! compared case-insensitively: membership of `Platform` covers
//! `platform/System`. This is ZMON's rule (`AbstractZMonAuthority`) and users'
//! permissions depend on it, so it is kept as is, with one fix: an empty team
//! name grants nothing (in ZMON it was a prefix of every team).

/// True when one of `user_teams` is a case-insensitive prefix of `team`.
pub fn is_member<S: AsRef<str>>(user_teams: &[S], team: &str) -> bool {
    user_teams.iter().any(|t| team_covers(t.as_ref(), team))
}

fn team_covers(user_team: &str, team: &str) -> bool {
    let user_team = user_team.trim();
    if user_team.is_empty() || user_team.len() > team.len() {
        return false;
    }
    team.get(..user_team.len())
        .is_some_and(|head| head.to_lowercase() == user_team.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_match_is_case_insensitive() {
        assert!(is_member(&["Platform"], "platform/System"));
        assert!(is_member(&["Platform/System"], "PLATFORM/SYSTEM"));
        assert!(!is_member(&["Platform/System"], "Platform"));
        assert!(!is_member(&["Other"], "Platform"));
    }

    #[test]
    fn empty_team_grants_nothing() {
        assert!(!is_member(&[""], "Platform"));
        assert!(!is_member(&["  "], "Platform"));
        let none: [&str; 0] = [];
        assert!(!is_member(&none, "Platform"));
    }

    #[test]
    fn non_ascii_boundaries_do_not_panic() {
        assert!(!is_member(&["ü"], "xü"));
        assert!(is_member(&["Über"], "über-team"));
    }
}
