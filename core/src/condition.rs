//! Structural checks on alert conditions.
//!
//! Conditions are written in Rhai or in ZMON's Python subset. The language
//! itself is compiled by the checks crate; this module only rejects text that
//! no language could accept: unbalanced brackets and unterminated strings.

use crate::validation::{ValidationError, max_len};

pub const MAX_CONDITION_LEN: usize = 16 * 1024;

/// Rejects a condition that is clearly malformed, pointing at the problem.
pub fn check_structure(field: &str, condition: &str) -> Result<(), ValidationError> {
    max_len(field, condition, MAX_CONDITION_LEN)?;
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut chars = condition.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                let mut closed = false;
                while let Some((_, s)) = chars.next() {
                    if s == '\\' {
                        chars.next();
                    } else if s == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(ValidationError::new(
                        field,
                        format!("has an unterminated string starting at position {pos}"),
                    ));
                }
            }
            '(' | '[' | '{' => open.push((c, pos)),
            ')' | ']' | '}' => {
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match open.pop() {
                    Some((o, _)) if o == expected => {}
                    Some((o, at)) => {
                        return Err(ValidationError::new(
                            field,
                            format!(
                                "has '{c}' at position {pos} that does not close '{o}' at position {at}"
                            ),
                        ));
                    }
                    None => {
                        return Err(ValidationError::new(
                            field,
                            format!("has an unmatched '{c}' at position {pos}"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((o, at)) = open.pop() {
        return Err(ValidationError::new(
            field,
            format!("has an unclosed '{o}' at position {at}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_zmon_conditions() {
        for c in [
            "capture(longitude=float(value)) > longitude_param",
            ">100",
            "value['x'] > 5 and not value.get(\"y)\")",
            "!=True",
            "len([a for a in value if a > 3]) > {'k': 1}['k']",
        ] {
            assert!(check_structure("condition", c).is_ok(), "{c}");
        }
    }

    #[test]
    fn rejects_broken_structure() {
        let cases = [
            ("value > (1", "condition has an unclosed '(' at position 8"),
            ("value > 1)", "condition has an unmatched ')' at position 9"),
            (
                "value[1)",
                "condition has ')' at position 7 that does not close '[' at position 5",
            ),
            (
                "value == 'abc",
                "condition has an unterminated string starting at position 9",
            ),
        ];
        for (c, expected) in cases {
            let err = check_structure("condition", c).expect_err(c).to_string();
            assert_eq!(err, expected);
        }
    }
}
