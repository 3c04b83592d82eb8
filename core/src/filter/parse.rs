//! The filter language: lexer and parser, with the column of every error.
//!
//! ```text
//! expr       := or
//! or         := and ("||" and)*
//! and        := unary ("&&" unary)*
//! unary      := "!" unary | "(" expr ")" | "failed" | "signal" | comparison
//! comparison := field op value | field "in" "{" value ("," value)* "}"
//! op         := "==" | "!=" | "<" | ">" | "<=" | ">="
//! value      := number | "string" | name
//! ```

use std::fmt;

/// A filter that does not parse or does not make sense, with the (1-based) column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column == 0 {
            // from a shorthand option, not from --filter's text
            write!(f, "filter: {}", self.message)
        } else {
            write!(f, "filter: column {}: {}", self.column, self.message)
        }
    }
}

impl std::error::Error for FilterError {}

fn error<T>(column: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        column,
        message: message.into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Pid,
    Tid,
    Comm,
    Ppid,
    Pcomm,
    Uid,
    Gid,
    Exe,
    Cgroup,
    Syscall,
    Class,
    Signal,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "pid" => Field::Pid,
            "tid" => Field::Tid,
            "comm" => Field::Comm,
            "ppid" => Field::Ppid,
            "pcomm" => Field::Pcomm,
            "uid" => Field::Uid,
            "gid" => Field::Gid,
            "exe" => Field::Exe,
            "cgroup" => Field::Cgroup,
            "syscall" => Field::Syscall,
            "class" => Field::Class,
            "signal" => Field::Signal,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Pid => "pid",
            Field::Tid => "tid",
            Field::Comm => "comm",
            Field::Ppid => "ppid",
            Field::Pcomm => "pcomm",
            Field::Uid => "uid",
            Field::Gid => "gid",
            Field::Exe => "exe",
            Field::Cgroup => "cgroup",
            Field::Syscall => "syscall",
            Field::Class => "class",
            Field::Signal => "signal",
        }
    }

    /// Numbers compare with all operators; names only with ==, != and in.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Field::Pid | Field::Tid | Field::Ppid | Field::Uid | Field::Gid
        )
    }
}

const FIELDS: &str =
    "pid, tid, comm, ppid, pcomm, uid, gid, exe, cgroup, syscall, class, failed, signal";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::In => "in",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Number(u64),
    /// A quoted string or a bare name.
    Text(String),
}

/// One value in the filter, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub literal: Literal,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// The syscall failed.
    Failed,
    /// The event is a signal (sent or delivered), any signal.
    Signal,
    Compare {
        field: Field,
        op: Op,
        values: Vec<Value>,
        column: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Number(u64),
    Text(String),
    Symbol(&'static str),
    End,
}

struct Lexer<'a> {
    chars: Vec<(usize, char)>,
    pos: usize,
    _source: &'a str,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Lexer {
            chars: source
                .chars()
                .enumerate()
                .map(|(i, c)| (i + 1, c))
                .collect(),
            pos: 0,
            _source: source,
        }
    }

    fn peek_char(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    fn column(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.chars.len() + 1, |&(col, _)| col)
    }

    /// The next token and its column.
    fn next(&mut self) -> Result<(Token, usize), FilterError> {
        while self.peek_char(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let column = self.column();
        let Some(c) = self.peek_char(0) else {
            return Ok((Token::End, column));
        };
        const SYMBOLS: [&str; 13] = [
            "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "{", "}",
        ];
        for symbol in SYMBOLS {
            if symbol
                .chars()
                .enumerate()
                .all(|(i, s)| self.peek_char(i) == Some(s))
            {
                self.pos += symbol.len();
                return Ok((Token::Symbol(symbol), column));
            }
        }
        if c == ',' {
            self.pos += 1;
            return Ok((Token::Symbol(","), column));
        }
        if c == '"' {
            self.pos += 1;
            let mut text = String::new();
            loop {
                match self.peek_char(0) {
                    None => return error(column, "unterminated string"),
                    Some('"') => {
                        self.pos += 1;
                        return Ok((Token::Text(text), column));
                    }
                    Some('\\') => {
                        match self.peek_char(1) {
                            Some(e @ ('"' | '\\')) => text.push(e),
                            _ => return error(self.column(), "only \\\" and \\\\ escapes exist"),
                        }
                        self.pos += 2;
                    }
                    Some(other) => {
                        text.push(other);
                        self.pos += 1;
                    }
                }
            }
        }
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(d) = self.peek_char(0).filter(|d| d.is_ascii_alphanumeric()) {
                digits.push(d);
                self.pos += 1;
            }
            let value = if let Some(hex) = digits.strip_prefix("0x") {
                u64::from_str_radix(hex, 16)
            } else {
                digits.parse()
            };
            return match value {
                Ok(n) => Ok((Token::Number(n), column)),
                Err(_) => error(column, format!("'{digits}' is not a number")),
            };
        }
        if c.is_alphanumeric() || c == '_' || c == '/' || c == '*' || c == '.' || c == '-' {
            let mut name = String::new();
            while let Some(d) = self
                .peek_char(0)
                .filter(|d| d.is_alphanumeric() || matches!(d, '_' | '/' | '*' | '.' | '-' | '?'))
            {
                name.push(d);
                self.pos += 1;
            }
            return Ok((Token::Name(name), column));
        }
        error(column, format!("unexpected '{c}'"))
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    current: (Token, usize),
}

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Result<(Token, usize), FilterError> {
        let next = self.lexer.next()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn is(&self, symbol: &str) -> bool {
        matches!(&self.current.0, Token::Symbol(s) if *s == symbol)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.is("||") {
            self.bump()?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.is("&&") {
            self.bump()?;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let (token, column) = self.current.clone();
        match token {
            Token::Symbol("!") => {
                self.bump()?;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Token::Symbol("(") => {
                self.bump()?;
                let inner = self.or()?;
                if !self.is(")") {
                    return error(self.current.1, "expected ')'");
                }
                self.bump()?;
                Ok(inner)
            }
            Token::Name(name) if name == "failed" => {
                self.bump()?;
                Ok(Expr::Failed)
            }
            Token::Name(name) => {
                let Some(field) = Field::parse(&name) else {
                    return error(column, format!("unknown field '{name}' (fields: {FIELDS})"));
                };
                self.bump()?;
                if field == Field::Signal && !self.at_operator() {
                    return Ok(Expr::Signal);
                }
                self.comparison(field, column)
            }
            Token::End => error(column, "expected a condition"),
            other => error(
                column,
                format!("expected a field, found {}", describe(&other)),
            ),
        }
    }

    /// Whether the current token is a comparison operator.
    fn at_operator(&self) -> bool {
        match &self.current.0 {
            Token::Symbol(s) => matches!(*s, "==" | "!=" | "<" | ">" | "<=" | ">="),
            Token::Name(n) => n == "in",
            _ => false,
        }
    }

    fn comparison(&mut self, field: Field, column: usize) -> Result<Expr, FilterError> {
        let (token, op_column) = self.bump()?;
        let op = match token {
            Token::Symbol("==") => Op::Eq,
            Token::Symbol("!=") => Op::Ne,
            Token::Symbol("<") => Op::Lt,
            Token::Symbol(">") => Op::Gt,
            Token::Symbol("<=") => Op::Le,
            Token::Symbol(">=") => Op::Ge,
            Token::Name(n) if n == "in" => Op::In,
            other => {
                return error(
                    op_column,
                    format!(
                        "expected an operator after '{}' (==, !=, <, >, <=, >=, in), found {}",
                        field.name(),
                        describe(&other)
                    ),
                );
            }
        };
        if !field.is_numeric() && !matches!(op, Op::Eq | Op::Ne | Op::In) {
            return error(
                op_column,
                format!(
                    "'{}' compares with ==, != or in, not {}",
                    field.name(),
                    op.symbol()
                ),
            );
        }
        let values = if op == Op::In {
            if !self.is("{") {
                return error(self.current.1, "expected '{' after 'in'");
            }
            self.bump()?;
            let mut values = vec![self.value(op)?];
            while self.is(",") {
                self.bump()?;
                values.push(self.value(op)?);
            }
            if !self.is("}") {
                return error(self.current.1, "expected ',' or '}'");
            }
            self.bump()?;
            values
        } else {
            vec![self.value(op)?]
        };
        Ok(Expr::Compare {
            field,
            op,
            values,
            column,
        })
    }

    fn value(&mut self, op: Op) -> Result<Value, FilterError> {
        let (token, column) = self.bump()?;
        let literal = match token {
            Token::Number(n) => Literal::Number(n),
            Token::Text(t) | Token::Name(t) => Literal::Text(t),
            Token::End => {
                return error(column, format!("expected a value after '{}'", op.symbol()));
            }
            other => {
                return error(
                    column,
                    format!(
                        "expected a value after '{}', found {}",
                        op.symbol(),
                        describe(&other)
                    ),
                );
            }
        };
        Ok(Value { literal, column })
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(n) => format!("'{n}'"),
        Token::Number(n) => format!("'{n}'"),
        Token::Text(t) => format!("\"{t}\""),
        Token::Symbol(s) => format!("'{s}'"),
        Token::End => "the end".to_owned(),
    }
}

/// Parses a filter expression.
pub fn parse(source: &str) -> Result<Expr, FilterError> {
    let mut lexer = Lexer::new(source);
    let first = lexer.next()?;
    let mut parser = Parser {
        lexer,
        current: first,
    };
    let expr = parser.or()?;
    match &parser.current {
        (Token::End, _) => Ok(expr),
        (token, column) => error(
            *column,
            format!("expected '&&', '||' or the end, found {}", describe(token)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(source: &str) -> String {
        parse(source).unwrap_err().to_string()
    }

    #[test]
    fn precedence_and_grouping() {
        let e = parse("pid == 1 || comm == \"a\" && !failed").unwrap();
        let Expr::Or(_, right) = e else {
            panic!("|| binds loosest")
        };
        assert!(matches!(*right, Expr::And(_, _)));
        let e = parse("(pid == 1 || pid == 2) && failed").unwrap();
        assert!(matches!(e, Expr::And(_, _)));
    }

    #[test]
    fn sets_and_globs() {
        let e = parse("syscall in {read, openat} && comm == \"nginx*\"").unwrap();
        let Expr::And(left, right) = e else { panic!() };
        let Expr::Compare { values, op, .. } = *left else {
            panic!()
        };
        assert_eq!(op, Op::In);
        assert_eq!(values.len(), 2);
        let Expr::Compare { values, .. } = *right else {
            panic!()
        };
        assert_eq!(values[0].literal, Literal::Text("nginx*".into()));
        assert!(parse("uid >= 1000 && pid < 0x100").is_ok());
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            err("comm == \"a\" && pid =="),
            "filter: column 22: expected a value after '=='"
        );
        assert_eq!(
            err("pid == 1 && size > 3"),
            "filter: column 13: unknown field 'size' (fields: pid, tid, comm, ppid, pcomm, uid, gid, exe, cgroup, syscall, class, failed, signal)"
        );
        assert_eq!(
            err("comm < \"a\""),
            "filter: column 6: 'comm' compares with ==, != or in, not <"
        );
        assert_eq!(err("(pid == 1"), "filter: column 10: expected ')'");
        assert_eq!(
            err("pid == 1 pid"),
            "filter: column 10: expected '&&', '||' or the end, found 'pid'"
        );
        assert_eq!(
            err("comm == \"abc"),
            "filter: column 9: unterminated string"
        );
        assert_eq!(
            err("syscall in {read,"),
            "filter: column 18: expected a value after 'in'"
        );
        assert_eq!(err("pid $ 3"), "filter: column 5: unexpected '$'");
        assert_eq!(err(""), "filter: column 1: expected a condition");
    }
}
