//! The condition language of `[[trigger]] when = "..."` and `[experiment] stop_when = "..."`:
//! comparisons over world state combined with `and`, `or`, `not`.
//!
//! ```text
//! condition := or
//! or        := and ("or" and)*
//! and       := not ("and" not)*
//! not       := "not" not | compare
//! compare   := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum       := product (("+" | "-") product)*
//! product   := unary (("*" | "/") unary)*
//! unary     := "-" unary | atom
//! atom      := number | "true" | "false" | "(" condition ")" | "tick" | "tension" | "arcs_open"
//!            | "metric" "." name | "mood" "(" who ")" "." axis | "emotion" "(" who "," kind ")"
//!            | "bond" "(" who "," who ")" "." dimension
//! who       := name | "quoted-name"
//! ```
//!
//! Types are checked when parsing (a number where a truth value is needed is an error with its
//! column). Reading a character or relationship that does not exist gives NaN, so every comparison
//! with it is false: a trigger about someone absent simply does not fire.

use crate::bonds::Bond;
use crate::emotion::EmotionKind;
use crate::mood::Pad;

/// Longest condition text, in bytes.
pub const COND_BYTES_MAX: usize = 2048;
/// Deepest nesting of a condition.
const DEPTH_MAX: usize = 32;

/// Metrics a condition may read (`metric.<name>`): the `TickMetrics` of the last tick.
pub const METRICS: &[&str] =
    &["interactions", "mean_pleasure", "mean_arousal", "mean_dominance", "mean_affinity", "mean_trust", "events"];

/// A mood axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Pleasure.
    Pleasure,
    /// Arousal.
    Arousal,
    /// Dominance.
    Dominance,
}

/// A bond dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Affinity.
    Affinity,
    /// Trust.
    Trust,
    /// Respect.
    Respect,
    /// Attraction.
    Attraction,
    /// Familiarity.
    Familiarity,
}

/// Comparison and arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A parsed condition (or numeric sub-expression).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Num(f64),
    /// `true` / `false`.
    Bool(bool),
    /// Ticks completed.
    Tick,
    /// The drama manager's measured tension.
    Tension,
    /// Open (and climaxed) story arcs.
    ArcsOpen,
    /// `metric.<name>`: index into [`METRICS`].
    Metric(usize),
    /// `mood(who).axis`.
    Mood(String, Axis),
    /// `emotion(who, kind)`.
    Emotion(String, EmotionKind),
    /// `bond(from, to).dimension`.
    Bond(String, String, Dim),
    /// `-x`.
    Neg(Box<Expr>),
    /// `not x`.
    Not(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// A binary comparison or arithmetic operation.
    Bin(Op, Box<Expr>, Box<Expr>),
}

/// What a condition reads from a world.
pub trait Env {
    /// Ticks completed.
    fn tick(&self) -> u64;
    /// Measured tension.
    fn tension(&self) -> f32;
    /// Open and climaxed arcs.
    fn arcs_open(&self) -> usize;
    /// A metric of the last tick, by [`METRICS`] index.
    fn metric(&self, index: usize) -> f64;
    /// A character's mood.
    fn mood(&self, who: &str) -> Option<Pad>;
    /// A character's emotion intensity.
    fn emotion(&self, who: &str, kind: EmotionKind) -> Option<f32>;
    /// How `from` feels about `to`.
    fn bond(&self, from: &str, to: &str) -> Option<Bond>;
}

/// A condition that could not be parsed: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct CondError {
    /// 1-based column (in characters) in the condition text.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Expr {
    /// Parses a condition that must be true or false.
    pub fn parse_condition(text: &str) -> Result<Self, CondError> {
        let e = Self::parse(text)?;
        if !e.is_bool() {
            return Err(CondError { column: 1, message: "a condition must be true or false, not a number".into() });
        }
        Ok(e)
    }

    /// Parses any expression (number or truth value).
    pub fn parse(text: &str) -> Result<Self, CondError> {
        if text.len() > COND_BYTES_MAX {
            return Err(CondError { column: 1, message: format!("{} bytes; at most {COND_BYTES_MAX}", text.len()) });
        }
        let tokens = lex(text)?;
        let mut p = Parser { tokens, at: 0, depth: 0, end: text.chars().count() + 1 };
        let e = p.or()?;
        if let Some((col, t)) = p.tokens.get(p.at) {
            return Err(CondError { column: *col, message: format!("unexpected {}", t.show()) });
        }
        Ok(e)
    }

    /// Whether the expression is a truth value (otherwise a number).
    pub fn is_bool(&self) -> bool {
        match self {
            Self::Bool(_) | Self::Not(_) | Self::And(..) | Self::Or(..) => true,
            Self::Bin(op, ..) => matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne),
            _ => false,
        }
    }

    /// Character names the expression reads, in order of appearance (with repeats).
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk_names(&mut out);
        out
    }

    fn walk_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::Mood(w, _) | Self::Emotion(w, _) => out.push(w),
            Self::Bond(a, b, _) => out.extend([a.as_str(), b.as_str()]),
            Self::Neg(x) | Self::Not(x) => x.walk_names(out),
            Self::And(a, b) | Self::Or(a, b) | Self::Bin(_, a, b) => {
                a.walk_names(out);
                b.walk_names(out);
            }
            _ => {}
        }
    }

    /// Evaluates a truth value.
    pub fn holds(&self, env: &dyn Env) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Not(x) => !x.holds(env),
            Self::And(a, b) => a.holds(env) && b.holds(env),
            Self::Or(a, b) => a.holds(env) || b.holds(env),
            Self::Bin(op, a, b) => {
                let (x, y) = (a.value(env), b.value(env));
                match op {
                    Op::Lt => x < y,
                    Op::Le => x <= y,
                    Op::Gt => x > y,
                    Op::Ge => x >= y,
                    Op::Eq => x == y,
                    Op::Ne => x != y,
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Evaluates a number (NaN for an absent character or relationship).
    pub fn value(&self, env: &dyn Env) -> f64 {
        let nan = f64::NAN;
        match self {
            Self::Num(x) => *x,
            Self::Tick => env.tick() as f64,
            Self::Tension => env.tension() as f64,
            Self::ArcsOpen => env.arcs_open() as f64,
            Self::Metric(i) => env.metric(*i),
            Self::Mood(w, axis) => env.mood(w).map_or(nan, |m| match axis {
                Axis::Pleasure => m.p as f64,
                Axis::Arousal => m.a as f64,
                Axis::Dominance => m.d as f64,
            }),
            Self::Emotion(w, k) => env.emotion(w, *k).map_or(nan, f64::from),
            Self::Bond(a, b, dim) => env.bond(a, b).map_or(nan, |b| {
                f64::from(match dim {
                    Dim::Affinity => b.affinity,
                    Dim::Trust => b.trust,
                    Dim::Respect => b.respect,
                    Dim::Attraction => b.attraction,
                    Dim::Familiarity => b.familiarity,
                })
            }),
            Self::Neg(x) => -x.value(env),
            Self::Bin(op, a, b) => {
                let (x, y) = (a.value(env), b.value(env));
                match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    _ => nan,
                }
            }
            Self::Bool(_) | Self::Not(_) | Self::And(..) | Self::Or(..) => nan,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Word(String),
    Quoted(String),
    Sym(&'static str),
}

impl Tok {
    fn show(&self) -> String {
        match self {
            Self::Num(x) => format!("number {x}"),
            Self::Word(w) => format!("{w:?}"),
            Self::Quoted(q) => format!("\"{q}\""),
            Self::Sym(s) => format!("{s:?}"),
        }
    }
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, CondError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let x = s.parse().map_err(|_| CondError { column: col, message: format!("bad number {s:?}") })?;
            out.push((col, Tok::Num(x)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((col, Tok::Word(chars[start..i].iter().collect())));
        } else if c == '"' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            if i == chars.len() {
                return Err(CondError { column: col, message: "unterminated quoted name".into() });
            }
            out.push((col, Tok::Quoted(chars[start..i].iter().collect())));
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = ["<=", ">=", "==", "!="].into_iter().find(|s| *s == two);
            let sym = sym
                .or_else(|| ["<", ">", "+", "-", "*", "/", "(", ")", ",", "."].into_iter().find(|s| s.starts_with(c)));
            match sym {
                Some(s) => {
                    i += s.len();
                    out.push((col, Tok::Sym(s)));
                }
                None => return Err(CondError { column: col, message: format!("unexpected character {c:?}") }),
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Tok)>,
    at: usize,
    depth: usize,
    /// Column just past the end (for "expected ... at end" messages).
    end: usize,
}

impl Parser {
    fn col(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, CondError> {
        Err(CondError { column: self.col(), message: message.into() })
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.1)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.peek() == Some(&Tok::Sym(leak(s))) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(x)) if x == w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), CondError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            let found = self.peek().map_or("the end".to_owned(), Tok::show);
            self.err(format!("expected {s:?}, found {found}"))
        }
    }

    fn word(&mut self, what: &str) -> Result<String, CondError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                self.at += 1;
                Ok(w)
            }
            other => self.err(format!("expected {what}, found {}", other.map_or("the end".to_owned(), |t| t.show()))),
        }
    }

    fn bool_operand(&self, e: Expr, col: usize, op: &str) -> Result<Expr, CondError> {
        if e.is_bool() {
            Ok(e)
        } else {
            Err(CondError { column: col, message: format!("`{op}` needs true/false operands, not a number") })
        }
    }

    fn or(&mut self) -> Result<Expr, CondError> {
        let col = self.col();
        let mut left = self.and()?;
        while self.eat_word("or") {
            let rc = self.col();
            let right = self.and()?;
            left =
                Expr::Or(Box::new(self.bool_operand(left, col, "or")?), Box::new(self.bool_operand(right, rc, "or")?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, CondError> {
        let col = self.col();
        let mut left = self.not()?;
        while self.eat_word("and") {
            let rc = self.col();
            let right = self.not()?;
            left = Expr::And(
                Box::new(self.bool_operand(left, col, "and")?),
                Box::new(self.bool_operand(right, rc, "and")?),
            );
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, CondError> {
        if self.eat_word("not") {
            let col = self.col();
            let x = self.nested(Self::not)?;
            return Ok(Expr::Not(Box::new(self.bool_operand(x, col, "not")?)));
        }
        self.compare()
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Expr, CondError>) -> Result<Expr, CondError> {
        self.depth += 1;
        if self.depth > DEPTH_MAX {
            return self.err(format!("nested more than {DEPTH_MAX} deep"));
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn compare(&mut self) -> Result<Expr, CondError> {
        let col = self.col();
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Sym("==")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            _ => return Ok(left),
        };
        self.at += 1;
        let rc = self.col();
        let right = self.sum()?;
        for (e, c) in [(&left, col), (&right, rc)] {
            if e.is_bool() {
                return Err(CondError { column: c, message: "comparisons need numbers, not true/false".into() });
            }
        }
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    fn arith(&mut self, ops: &[(&str, Op)], next: fn(&mut Self) -> Result<Expr, CondError>) -> Result<Expr, CondError> {
        let col = self.col();
        let mut left = next(self)?;
        'outer: loop {
            for (s, op) in ops {
                if self.eat_sym(s) {
                    let rc = self.col();
                    let right = next(self)?;
                    for (e, c) in [(&left, col), (&right, rc)] {
                        if e.is_bool() {
                            return Err(CondError { column: c, message: format!("`{s}` needs numbers") });
                        }
                    }
                    left = Expr::Bin(*op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn sum(&mut self) -> Result<Expr, CondError> {
        self.arith(&[("+", Op::Add), ("-", Op::Sub)], Self::product)
    }

    fn product(&mut self) -> Result<Expr, CondError> {
        self.arith(&[("*", Op::Mul), ("/", Op::Div)], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr, CondError> {
        if self.eat_sym("-") {
            let x = self.nested(Self::unary)?;
            return Ok(Expr::Neg(Box::new(x)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, CondError> {
        let col = self.col();
        let Some(tok) = self.peek().cloned() else {
            return self.err("expected a value, found the end");
        };
        self.at += 1;
        let w = match tok {
            Tok::Num(x) => return Ok(Expr::Num(x)),
            Tok::Sym("(") => {
                let e = self.nested(Self::or)?;
                self.expect_sym(")")?;
                return Ok(e);
            }
            Tok::Word(w) => w,
            t => return Err(CondError { column: col, message: format!("unexpected {}", t.show()) }),
        };
        match w.as_str() {
            "true" => Ok(Expr::Bool(true)),
            "false" => Ok(Expr::Bool(false)),
            "tick" => Ok(Expr::Tick),
            "tension" => Ok(Expr::Tension),
            "arcs_open" => Ok(Expr::ArcsOpen),
            "metric" => {
                self.expect_sym(".")?;
                let c = self.col();
                let m = self.word("a metric name")?;
                match METRICS.iter().position(|x| *x == m) {
                    Some(i) => Ok(Expr::Metric(i)),
                    None => Err(CondError {
                        column: c,
                        message: format!("unknown metric {m:?}; one of {}", METRICS.join(", ")),
                    }),
                }
            }
            "mood" => {
                self.expect_sym("(")?;
                let who = self.word("a character")?;
                self.expect_sym(")")?;
                self.expect_sym(".")?;
                let c = self.col();
                let axis = match self.word("a mood axis")?.as_str() {
                    "pleasure" => Axis::Pleasure,
                    "arousal" => Axis::Arousal,
                    "dominance" => Axis::Dominance,
                    a => {
                        let message = format!("unknown mood axis {a:?}; one of pleasure, arousal, dominance");
                        return Err(CondError { column: c, message });
                    }
                };
                Ok(Expr::Mood(who, axis))
            }
            "emotion" => {
                self.expect_sym("(")?;
                let who = self.word("a character")?;
                self.expect_sym(",")?;
                let c = self.col();
                let k = self.word("an emotion")?;
                self.expect_sym(")")?;
                match super::from_name::<EmotionKind>(&k) {
                    Some(kind) => Ok(Expr::Emotion(who, kind)),
                    None => Err(CondError { column: c, message: format!("unknown emotion {k:?}") }),
                }
            }
            "bond" => {
                self.expect_sym("(")?;
                let from = self.word("a character")?;
                self.expect_sym(",")?;
                let to = self.word("a character")?;
                self.expect_sym(")")?;
                self.expect_sym(".")?;
                let c = self.col();
                let dim = match self.word("a bond dimension")?.as_str() {
                    "affinity" => Dim::Affinity,
                    "trust" => Dim::Trust,
                    "respect" => Dim::Respect,
                    "attraction" => Dim::Attraction,
                    "familiarity" => Dim::Familiarity,
                    d => {
                        let message = format!(
                            "unknown bond dimension {d:?}; one of affinity, trust, respect, attraction, familiarity"
                        );
                        return Err(CondError { column: c, message });
                    }
                };
                Ok(Expr::Bond(from, to, dim))
            }
            other => Err(CondError {
                column: col,
                message: format!(
                    "unknown name {other:?}; expected a number, true, false, tick, tension, arcs_open, metric.<name>, \
                     mood(..), emotion(..), bond(..), not, or a parenthesis"
                ),
            }),
        }
    }
}

/// The static symbol equal to `s` (symbols are a closed set).
fn leak(s: &str) -> &'static str {
    ["<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", ",", "."]
        .into_iter()
        .find(|x| *x == s)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Env for Fixed {
        fn tick(&self) -> u64 {
            12
        }
        fn tension(&self) -> f32 {
            0.25
        }
        fn arcs_open(&self) -> usize {
            2
        }
        fn metric(&self, i: usize) -> f64 {
            i as f64
        }
        fn mood(&self, who: &str) -> Option<Pad> {
            (who == "alice").then(|| Pad::new(0.5, -0.5, 0.0))
        }
        fn emotion(&self, who: &str, _: EmotionKind) -> Option<f32> {
            (who == "alice").then_some(0.3)
        }
        fn bond(&self, from: &str, to: &str) -> Option<Bond> {
            (from == "alice" && to == "bob-2").then(|| Bond { trust: 0.7, ..Bond::default() })
        }
    }

    fn holds(text: &str) -> bool {
        Expr::parse_condition(text).unwrap_or_else(|e| panic!("{text}: {e}")).holds(&Fixed)
    }

    #[test]
    fn conditions_read_the_world() {
        assert!(holds("tick >= 12 and tension < 0.3"));
        assert!(holds("mood(alice).pleasure > 0.4 and not mood(alice).arousal > 0"));
        assert!(holds("bond(alice, \"bob-2\").trust > 0.69 - 0 * 3 or false"));
        assert!(holds("arcs_open == 2 and arcs_open != 3"));
        assert!(holds("metric.mean_trust == 5 and emotion(alice, joy) > 0.2"));
        assert!(holds("-(tick) / 4 == -3"));
        // An absent character makes every comparison false, including `!=`'s complement.
        assert!(!holds("mood(zed).pleasure > -2"));
        assert!(!holds("mood(zed).pleasure <= 2"));
        assert!(holds("not mood(zed).pleasure > 0"));
    }

    #[test]
    fn mistakes_name_their_column() {
        let err = |t: &str| Expr::parse_condition(t).unwrap_err();
        assert_eq!(err("tick > ").column, 8);
        assert_eq!(err("tick and true").column, 1);
        assert_eq!(err("mood(alice).joy > 0").column, 13);
        assert!(err("metric.speed > 1").message.contains("unknown metric \"speed\""));
        assert!(err("tick + 1").message.contains("true or false"));
        assert_eq!(err("tick > 1 )").column, 10);
        assert_eq!(err("tick ? 1").column, 6);
        assert!(err(&"(".repeat(40)).message.contains("nested"));
    }
}
