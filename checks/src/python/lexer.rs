//! Tokens of the ZMON Python subset.

use super::TranslateError;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// Operators and punctuation, e.g. `<=`, `//`, `(`, `,`.
    Op(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub token: Token,
    /// 1-based character column where the token starts.
    pub column: usize,
}

const OPERATORS: &[&str] = &[
    "**", "//", "<=", ">=", "==", "!=", "<>", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "(",
    ")", "[", "]", "{", "}", ",", ":", ".", "=", "&", "|", "^", "~", "@", ";",
];

pub fn tokenize(src: &str) -> Result<Vec<Spanned>, TranslateError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() || c == '\\' && chars.get(i + 1) == Some(&'\n') {
            i += if c == '\\' { 2 } else { 1 };
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let (token, next) = number(&chars, i)?;
            tokens.push(Spanned { token, column });
            i = next;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_ascii_lowercase();
            // String prefixes: r'..', u'..', b'..' and combinations.
            if i < chars.len()
                && (chars[i] == '\'' || chars[i] == '"')
                && lower.len() <= 2
                && lower.chars().all(|p| matches!(p, 'r' | 'u' | 'b' | 'f'))
            {
                if lower.contains('f') {
                    return Err(TranslateError::at(column, "f-strings are not supported"));
                }
                let (value, next) = string(&chars, i, lower.contains('r'))?;
                push_string(&mut tokens, value, column);
                i = next;
                continue;
            }
            tokens.push(Spanned {
                token: Token::Name(word),
                column,
            });
            continue;
        }
        if c == '\'' || c == '"' {
            let (value, next) = string(&chars, i, false)?;
            push_string(&mut tokens, value, column);
            i = next;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op = OPERATORS
            .iter()
            .find(|op| rest.starts_with(**op))
            .ok_or_else(|| TranslateError::at(column, format!("unexpected character '{c}'")))?;
        tokens.push(Spanned {
            token: Token::Op(op),
            column,
        });
        i += op.chars().count();
    }
    tokens.push(Spanned {
        token: Token::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// Adjacent string literals concatenate, as in Python.
fn push_string(tokens: &mut Vec<Spanned>, value: String, column: usize) {
    if let Some(Spanned {
        token: Token::Str(prev),
        ..
    }) = tokens.last_mut()
    {
        prev.push_str(&value);
        return;
    }
    tokens.push(Spanned {
        token: Token::Str(value),
        column,
    });
}

fn number(chars: &[char], start: usize) -> Result<(Token, usize), TranslateError> {
    let column = start + 1;
    let mut i = start;
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B')) {
        let radix = match chars[i + 1] {
            'x' | 'X' => 16,
            'o' | 'O' => 8,
            _ => 2,
        };
        i += 2;
        let digits_start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let digits: String = chars[digits_start..i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        let value = i64::from_str_radix(&digits, radix)
            .map_err(|_| TranslateError::at(column, "invalid integer literal"))?;
        return Ok((Token::Int(value), i));
    }
    let mut is_float = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '_' {
            i += 1;
        } else if c == '.' && !is_float {
            is_float = true;
            i += 1;
        } else if (c == 'e' || c == 'E')
            && (chars.get(i + 1).is_some_and(char::is_ascii_digit)
                || (matches!(chars.get(i + 1), Some('+' | '-'))
                    && chars.get(i + 2).is_some_and(char::is_ascii_digit)))
        {
            is_float = true;
            i += 2;
        } else {
            break;
        }
    }
    // Python 2 long suffix.
    let text: String = chars[start..i].iter().filter(|c| **c != '_').collect();
    if matches!(chars.get(i), Some('l' | 'L')) {
        i += 1;
    }
    if chars
        .get(i)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    {
        return Err(TranslateError::at(column, "invalid number literal"));
    }
    if is_float {
        let value: f64 = text
            .parse()
            .map_err(|_| TranslateError::at(column, "invalid float literal"))?;
        return Ok((Token::Float(value), i));
    }
    let value: i64 = text
        .parse()
        .map_err(|_| TranslateError::at(column, "integer literal out of range"))?;
    Ok((Token::Int(value), i))
}

fn string(chars: &[char], start: usize, raw: bool) -> Result<(String, usize), TranslateError> {
    let column = start + 1;
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(TranslateError::at(column, "unterminated string"));
        };
        if c == quote {
            if !triple {
                return Ok((out, i + 1));
            }
            if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                return Ok((out, i + 3));
            }
        }
        if c == '\n' && !triple {
            return Err(TranslateError::at(column, "unterminated string"));
        }
        if c == '\\' && !raw {
            let Some(&e) = chars.get(i + 1) else {
                return Err(TranslateError::at(column, "unterminated string"));
            };
            i += 2;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' | '\'' | '"' => out.push(e),
                '\n' => {}
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = chars.get(i..i + len).unwrap_or_default().iter().collect();
                    let decoded = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == len)
                        .and_then(char::from_u32)
                        .ok_or_else(|| TranslateError::at(i - 1, "invalid escape in string"))?;
                    out.push(decoded);
                    i += len;
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        if c == '\\' && raw && chars.get(i + 1) == Some(&quote) {
            out.push('\\');
            out.push(quote);
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token> {
        tokenize(src)
            .expect("tokenizes")
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    #[test]
    fn tokens_of_a_zmon_condition() {
        assert_eq!(
            kinds("capture(x=float(value)) >= 1.5e3"),
            [
                Token::Name("capture".into()),
                Token::Op("("),
                Token::Name("x".into()),
                Token::Op("="),
                Token::Name("float".into()),
                Token::Op("("),
                Token::Name("value".into()),
                Token::Op(")"),
                Token::Op(")"),
                Token::Op(">="),
                Token::Float(1500.0),
                Token::End
            ]
        );
    }

    #[test]
    fn strings_numbers_and_errors() {
        assert_eq!(
            kinds(r#"'a\'b' "c" r'\d'"#)[0],
            Token::Str("a'bc\\d".into())
        );
        assert_eq!(
            kinds("0x1F 10L 1_000")[..3],
            [Token::Int(31), Token::Int(10), Token::Int(1000)]
        );
        assert!(tokenize("'open").is_err());
        assert!(tokenize("a $ b").is_err());
        assert!(tokenize("f'{x}'").is_err());
        assert!(tokenize("99999999999999999999").is_err());
    }
}
