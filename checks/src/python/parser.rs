//! A recursive-descent parser for one Python expression, following Python's
//! precedence: lambda, conditional, or, and, not, comparisons, `|`, `^`,
//! `&`, shifts, `+ -`, `* / // %`, unary, `**`, then calls, indexing and
//! attributes.

use super::TranslateError;
use super::lexer::{Spanned, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    None,
    Name(String),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
        column: usize,
    },
    Attr(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Lambda(Vec<String>, Box<Expr>),
}

/// Keyword arguments of a call, in order.
pub type Keywords = Vec<(String, Expr)>;

pub struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    depth: usize,
}

/// Deeper nesting is refused before it can exhaust the stack.
const MAX_DEPTH: usize = 64;

impl Parser {
    pub fn new(tokens: Vec<Spanned>) -> Self {
        Self {
            tokens,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].token
    }

    fn peek_at(&self, offset: usize) -> &Token {
        &self.tokens[(self.pos + offset).min(self.tokens.len() - 1)].token
    }

    fn column(&self) -> usize {
        self.tokens[self.pos.min(self.tokens.len() - 1)].column
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Token::Op(o) if *o == op)
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Name(n) if n == word)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        if self.is_keyword(word) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> Result<(), TranslateError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{op}'")))
        }
    }

    fn unexpected(&self, wanted: &str) -> TranslateError {
        let found = match self.peek() {
            Token::End => "the end".to_string(),
            Token::Name(n) => format!("'{n}'"),
            Token::Int(i) => format!("'{i}'"),
            Token::Float(f) => format!("'{f}'"),
            Token::Str(_) => "a string".to_string(),
            Token::Op(o) => format!("'{o}'"),
        };
        TranslateError::at(self.column(), format!("expected {wanted}, found {found}"))
    }

    /// The whole input must be one expression.
    pub fn parse_all(mut self) -> Result<Expr, TranslateError> {
        if matches!(self.peek(), Token::End) {
            return Err(TranslateError::at(1, "the expression is empty"));
        }
        let expr = self.expression()?;
        if !matches!(self.peek(), Token::End) {
            return Err(self.unexpected("the end of the expression"));
        }
        Ok(expr)
    }

    fn enter(&mut self) -> Result<(), TranslateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(TranslateError::at(
                self.column(),
                "the expression is nested too deeply",
            ));
        }
        Ok(())
    }

    fn expression(&mut self) -> Result<Expr, TranslateError> {
        self.enter()?;
        let result = if self.eat_keyword("lambda") {
            self.lambda()
        } else {
            self.conditional()
        };
        self.depth -= 1;
        result
    }

    fn lambda(&mut self) -> Result<Expr, TranslateError> {
        let mut params = Vec::new();
        while !self.is_op(":") {
            let start = self.pos;
            match self.advance() {
                Token::Name(n) => params.push(n),
                _ => {
                    self.pos = start;
                    return Err(self.unexpected("a parameter name"));
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(":")?;
        let body = self.expression()?;
        Ok(Expr::Lambda(params, Box::new(body)))
    }

    fn conditional(&mut self) -> Result<Expr, TranslateError> {
        let then = self.or()?;
        if self.eat_keyword("if") {
            let cond = self.or()?;
            if !self.eat_keyword("else") {
                return Err(self.unexpected("'else'"));
            }
            let otherwise = self.expression()?;
            return Ok(Expr::IfElse {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            });
        }
        Ok(then)
    }

    fn or(&mut self) -> Result<Expr, TranslateError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, TranslateError> {
        let mut left = self.not()?;
        while self.eat_keyword("and") {
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, TranslateError> {
        if self.eat_keyword("not") {
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison_op(&mut self) -> Option<CmpOp> {
        let op = match self.peek() {
            Token::Op("<") => CmpOp::Lt,
            Token::Op("<=") => CmpOp::Le,
            Token::Op(">") => CmpOp::Gt,
            Token::Op(">=") => CmpOp::Ge,
            Token::Op("==") => CmpOp::Eq,
            Token::Op("!=" | "<>") => CmpOp::Ne,
            Token::Name(n) if n == "in" => CmpOp::In,
            Token::Name(n)
                if n == "not" && matches!(self.peek_at(1), Token::Name(m) if m == "in") =>
            {
                self.advance();
                CmpOp::NotIn
            }
            Token::Name(n) if n == "is" => {
                if matches!(self.peek_at(1), Token::Name(m) if m == "not") {
                    self.advance();
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            }
            _ => return None,
        };
        self.advance();
        Some(op)
    }

    fn comparison(&mut self) -> Result<Expr, TranslateError> {
        let first = self.bitwise()?;
        let mut rest = Vec::new();
        while let Some(op) = self.comparison_op() {
            rest.push((op, self.bitwise()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), rest))
        }
    }

    fn bitwise(&mut self) -> Result<Expr, TranslateError> {
        let left = self.arith()?;
        for op in ["|", "^", "&", "<<", ">>", "@"] {
            if self.is_op(op) {
                return Err(TranslateError::at(
                    self.column(),
                    format!("the operator '{op}' is not supported"),
                ));
            }
        }
        Ok(left)
    }

    fn arith(&mut self) -> Result<Expr, TranslateError> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat_op("+") {
                BinOp::Add
            } else if self.eat_op("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            let right = self.term()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn term(&mut self) -> Result<Expr, TranslateError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_op("*") {
                BinOp::Mul
            } else if self.eat_op("//") {
                BinOp::FloorDiv
            } else if self.eat_op("/") {
                BinOp::Div
            } else if self.eat_op("%") {
                BinOp::Mod
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, TranslateError> {
        if self.eat_op("-") {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(match inner {
                Expr::Int(i) => Expr::Int(-i),
                Expr::Float(f) => Expr::Float(-f),
                other => Expr::Neg(Box::new(other)),
            });
        }
        if self.eat_op("+") {
            return self.unary();
        }
        if self.is_op("~") {
            return Err(TranslateError::at(
                self.column(),
                "the operator '~' is not supported",
            ));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, TranslateError> {
        let base = self.postfix()?;
        if self.eat_op("**") {
            self.enter()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, TranslateError> {
        let mut expr = self.atom()?;
        loop {
            if self.is_op("(") {
                let column = self.column();
                self.advance();
                let (args, kwargs) = self.arguments()?;
                expr = Expr::Call {
                    func: Box::new(expr),
                    args,
                    kwargs,
                    column,
                };
            } else if self.eat_op("[") {
                let index = self.expression()?;
                if self.is_op(":") {
                    return Err(TranslateError::at(
                        self.column(),
                        "slices are not supported",
                    ));
                }
                self.expect_op("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else if self.eat_op(".") {
                let start = self.pos;
                match self.advance() {
                    Token::Name(n) => expr = Expr::Attr(Box::new(expr), n),
                    _ => {
                        self.pos = start;
                        return Err(self.unexpected("an attribute name"));
                    }
                }
            } else {
                return Ok(expr);
            }
        }
    }

    fn arguments(&mut self) -> Result<(Vec<Expr>, Keywords), TranslateError> {
        let mut args = Vec::new();
        let mut kwargs: Keywords = Vec::new();
        while !self.is_op(")") {
            if self.is_op("*") || self.is_op("**") {
                return Err(TranslateError::at(
                    self.column(),
                    "*args and **kwargs are not supported",
                ));
            }
            let is_keyword =
                matches!(self.peek(), Token::Name(_)) && matches!(self.peek_at(1), Token::Op("="));
            if is_keyword {
                let column = self.column();
                let Token::Name(name) = self.advance() else {
                    return Err(self.unexpected("an argument name"));
                };
                self.advance();
                if kwargs.iter().any(|(k, _)| *k == name) {
                    return Err(TranslateError::at(
                        column,
                        format!("keyword argument '{name}' is repeated"),
                    ));
                }
                kwargs.push((name, self.expression()?));
            } else {
                if !kwargs.is_empty() {
                    return Err(TranslateError::at(
                        self.column(),
                        "a positional argument follows a keyword argument",
                    ));
                }
                let arg = self.expression()?;
                if self.is_keyword("for") {
                    return Err(TranslateError::at(
                        self.column(),
                        "generator expressions are not supported",
                    ));
                }
                args.push(arg);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok((args, kwargs))
    }

    fn atom(&mut self) -> Result<Expr, TranslateError> {
        let column = self.column();
        let start = self.pos;
        match self.advance() {
            Token::Int(i) => Ok(Expr::Int(i)),
            Token::Float(f) => Ok(Expr::Float(f)),
            Token::Str(s) => Ok(Expr::Str(s)),
            Token::Name(n) => match n.as_str() {
                "True" => Ok(Expr::Bool(true)),
                "False" => Ok(Expr::Bool(false)),
                "None" => Ok(Expr::None),
                "and" | "or" | "not" | "in" | "is" | "if" | "else" | "for" | "lambda" | "def"
                | "class" | "import" | "from" | "return" | "yield" | "while" | "with" | "del"
                | "global" | "exec" | "print" | "assert" | "raise" | "try" | "except" | "pass" => {
                    Err(TranslateError::at(
                        column,
                        format!("'{n}' is not allowed here"),
                    ))
                }
                _ => Ok(Expr::Name(n)),
            },
            Token::Op("(") => {
                if self.eat_op(")") {
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expression()?;
                if self.is_keyword("for") {
                    return Err(TranslateError::at(
                        self.column(),
                        "generator expressions are not supported",
                    ));
                }
                if self.eat_op(")") {
                    return Ok(first);
                }
                // A tuple: Rhai has arrays, which serve the same purposes here.
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.is_op(")") {
                        break;
                    }
                    items.push(self.expression()?);
                }
                self.expect_op(")")?;
                Ok(Expr::List(items))
            }
            Token::Op("[") => {
                let mut items = Vec::new();
                while !self.is_op("]") {
                    items.push(self.expression()?);
                    if self.is_keyword("for") {
                        return Err(TranslateError::at(
                            self.column(),
                            "list comprehensions are not supported",
                        ));
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("]")?;
                Ok(Expr::List(items))
            }
            Token::Op("{") => {
                let mut entries = Vec::new();
                while !self.is_op("}") {
                    let key = self.expression()?;
                    if !self.is_op(":") {
                        return Err(TranslateError::at(self.column(), "sets are not supported"));
                    }
                    self.advance();
                    let value = self.expression()?;
                    entries.push((key, value));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_op("}")?;
                Ok(Expr::Dict(entries))
            }
            _ => {
                self.pos = start;
                Err(self.unexpected("a value"))
            }
        }
    }
}
