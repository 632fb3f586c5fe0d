//! The condition language of `when`: comparisons over bonds, traits, moods and event fields.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | flag | operand op operand
//! op      := "<" | "<=" | ">" | ">=" | "==" | "!="
//! operand := number | field
//!          | "bond(" ?x "," ?y ")." (affinity | trust | respect | attraction | familiarity)
//!          | "trait(" ?x ")." (openness | conscientiousness | extraversion | agreeableness | neuroticism)
//!          | "mood(" ?x ")." (pleasure | arousal | dominance)
//! flag    := a flag field of the event (`accepted`, `distorted`)
//! ```
//!
//! A comparison with an unknown side (no such bond, a variable bound to an alliance, an absent
//! field) is false; `not` negates that result. Parsed by hand so that errors point at a column.

use super::fact::{Fact, FactKind, FieldType, Slot, Value};
use super::pattern::{Bindings, character};
use super::sift::StateView;

/// Bond dimensions, as [`crate::bonds::Bond`] fields.
pub const BOND_DIMS: [&str; 5] = ["affinity", "trust", "respect", "attraction", "familiarity"];
/// Traits, as [`crate::personality::Personality`] fields.
pub const TRAITS: [&str; 5] = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"];
/// Mood axes, as [`crate::mood::Pad`] `p`, `a`, `d`.
pub const MOOD_AXES: [&str; 3] = ["pleasure", "arousal", "dominance"];
/// Deepest nesting of parentheses and `not` (bounds the recursive parser's stack).
const DEPTH_MAX: usize = 16;

/// A condition, compiled against one event kind and a pattern's variables.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Operand),
    Flag(u8),
}

/// One side of a comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Operand {
    Num(f32),
    Field(u8),
    Bond(u8, u8, u8),
    Trait(u8, u8),
    Mood(u8, u8),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// What a condition may refer to: the clause's event kind and the variables bound so far.
pub(crate) struct Scope<'a> {
    pub kind: FactKind,
    /// Index of a variable usable here, or why not.
    pub var: &'a dyn Fn(&str) -> Result<u8, String>,
}

/// A problem in a condition, at a byte offset within its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExprError {
    pub offset: usize,
    pub message: String,
}

/// Parses `text`; returns the condition when it has no problem, and every problem found (a syntax
/// error stops the parse; unknown names and variables are all reported).
pub(crate) fn parse(text: &str, scope: &Scope<'_>) -> (Option<Expr>, Vec<ExprError>) {
    let tokens = match lex(text) {
        Ok(t) => t,
        Err(e) => return (None, vec![e]),
    };
    let mut p = Parser { tokens, at: 0, end: text.len(), scope, errors: Vec::new(), depth: 0 };
    let expr = p.or().and_then(|e| match p.peek() {
        None => Some(e),
        Some(t) => {
            p.error(t.offset, format!("unexpected {}", t.tok.describe()));
            None
        }
    });
    let errors = p.errors;
    (expr.filter(|_| errors.is_empty()), errors)
}

impl Expr {
    /// Whether the condition holds for fact `f`, bindings `b` and state `s`.
    pub(crate) fn eval(&self, f: &Fact, b: &Bindings, s: &dyn StateView) -> bool {
        match self {
            Self::Or(xs) => xs.iter().any(|x| x.eval(f, b, s)),
            Self::And(xs) => xs.iter().all(|x| x.eval(f, b, s)),
            Self::Not(x) => !x.eval(f, b, s),
            Self::Flag(slot) => f.scalar(*slot) == Some(Value::Bool(true)),
            Self::Cmp(l, op, r) => match (l.eval(f, b, s), r.eval(f, b, s)) {
                (Some(l), Some(r)) => op.holds(l, r),
                _ => false,
            },
        }
    }
}

impl Operand {
    fn eval(self, f: &Fact, b: &Bindings, s: &dyn StateView) -> Option<f32> {
        let who = |v: u8| character(b[usize::from(v)]);
        match self {
            Self::Num(x) => Some(x),
            Self::Field(slot) => match f.scalar(slot)? {
                Value::Num(x) => Some(x),
                _ => None,
            },
            Self::Bond(x, y, d) => {
                let bond = s.bond(who(x)?, who(y)?)?;
                Some([bond.affinity, bond.trust, bond.respect, bond.attraction, bond.familiarity][usize::from(d)])
            }
            Self::Trait(x, t) => Some(s.personality(who(x)?)?.traits()[usize::from(t)]),
            Self::Mood(x, a) => {
                let m = s.mood(who(x)?)?;
                Some([m.p, m.a, m.d][usize::from(a)])
            }
        }
    }
}

impl Op {
    fn holds(self, l: f32, r: f32) -> bool {
        match self {
            Self::Lt => l < r,
            Self::Le => l <= r,
            Self::Gt => l > r,
            Self::Ge => l >= r,
            Self::Eq => l == r,
            Self::Ne => l != r,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'t> {
    Ident(&'t str),
    Var(&'t str),
    Num(f32),
    Op(Op),
    Open,
    Close,
    Comma,
    Dot,
}

impl Tok<'_> {
    fn describe(&self) -> String {
        match self {
            Self::Ident(s) => format!("{s:?}"),
            Self::Var(s) => format!("variable ?{s}"),
            Self::Num(x) => format!("number {x}"),
            Self::Op(_) => "comparison".to_owned(),
            Self::Open => "\"(\"".to_owned(),
            Self::Close => "\")\"".to_owned(),
            Self::Comma => "\",\"".to_owned(),
            Self::Dot => "\".\"".to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token<'t> {
    tok: Tok<'t>,
    offset: usize,
}

fn lex(text: &str) -> Result<Vec<Token<'_>>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word_end = |from: usize| {
        (from..bytes.len()).find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')).unwrap_or(bytes.len())
    };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' => {
                i += 1;
                continue;
            }
            b'(' => Tok::Open,
            b')' => Tok::Close,
            b',' => Tok::Comma,
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => Tok::Dot,
            b'<' | b'>' | b'=' | b'!' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', false) => Op::Lt,
                    (b'<', true) => Op::Le,
                    (b'>', false) => Op::Gt,
                    (b'>', true) => Op::Ge,
                    (b'=', true) => Op::Eq,
                    (b'!', true) => Op::Ne,
                    _ => return Err(ExprError { offset: i, message: "expected <, <=, >, >=, == or !=".into() }),
                };
                i += if eq { 2 } else { 1 };
                out.push(Token { tok: Tok::Op(op), offset: start });
                continue;
            }
            b'?' => {
                let end = word_end(i + 1);
                if end == i + 1 {
                    return Err(ExprError { offset: i, message: "expected a variable name after \"?\"".into() });
                }
                i = end;
                out.push(Token { tok: Tok::Var(&text[start + 1..end]), offset: start });
                continue;
            }
            b'0'..=b'9' | b'-' | b'.' => {
                let end = (i + 1..bytes.len())
                    .find(|&j| !(bytes[j].is_ascii_digit() || bytes[j] == b'.'))
                    .unwrap_or(bytes.len());
                let x = text[start..end].parse::<f32>().ok().filter(|x| x.is_finite());
                let Some(x) = x else {
                    return Err(ExprError { offset: start, message: format!("bad number {:?}", &text[start..end]) });
                };
                i = end;
                out.push(Token { tok: Tok::Num(x), offset: start });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                i = word_end(i);
                out.push(Token { tok: Tok::Ident(&text[start..i]), offset: start });
                continue;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ExprError { offset: i, message: format!("unexpected character {ch:?}") });
            }
        };
        i += 1;
        out.push(Token { tok, offset: start });
    }
    Ok(out)
}

struct Parser<'t, 's> {
    tokens: Vec<Token<'t>>,
    at: usize,
    /// Offset reported for "unexpected end".
    end: usize,
    scope: &'s Scope<'s>,
    errors: Vec<ExprError>,
    depth: usize,
}

impl<'t> Parser<'t, '_> {
    fn peek(&self) -> Option<&Token<'t>> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token<'t>> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.errors.push(ExprError { offset, message: message.into() });
    }

    /// Reports a syntax error at the next token (or the end) and returns `None`.
    fn expected<T>(&mut self, what: &str) -> Option<T> {
        let (offset, found) = match self.peek() {
            Some(t) => (t.offset, t.tok.describe()),
            None => (self.end, "the end".to_owned()),
        };
        self.error(offset, format!("expected {what}, found {found}"));
        None
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token { tok: Tok::Ident(w), .. }) if *w == word);
        self.at += usize::from(hit);
        hit
    }

    fn or(&mut self) -> Option<Expr> {
        let mut xs = vec![self.and()?];
        while self.keyword("or") {
            xs.push(self.and()?);
        }
        Some(if xs.len() == 1 { xs.remove(0) } else { Expr::Or(xs) })
    }

    fn and(&mut self) -> Option<Expr> {
        let mut xs = vec![self.unary()?];
        while self.keyword("and") {
            xs.push(self.unary()?);
        }
        Some(if xs.len() == 1 { xs.remove(0) } else { Expr::And(xs) })
    }

    fn unary(&mut self) -> Option<Expr> {
        self.depth += 1;
        let out = if self.depth > DEPTH_MAX {
            self.expected(&format!("at most {DEPTH_MAX} nested parentheses or \"not\""))
        } else if self.keyword("not") {
            self.unary().map(|x| Expr::Not(Box::new(x)))
        } else if matches!(self.peek(), Some(Token { tok: Tok::Open, .. })) {
            self.at += 1;
            let x = self.or()?;
            self.close().map(|()| x)
        } else {
            self.comparison()
        };
        self.depth -= 1;
        out
    }

    fn comparison(&mut self) -> Option<Expr> {
        let offset = self.peek().map_or(self.end, |t| t.offset);
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Token { tok: Tok::Op(op), .. }) => *op,
            _ => {
                return match left {
                    Side::Flag(slot) => Some(Expr::Flag(slot)),
                    Side::Value(_) => self.expected("a comparison (<, <=, >, >=, ==, !=)"),
                    Side::Bad => Some(Expr::And(Vec::new())),
                };
            }
        };
        self.at += 1;
        let right_offset = self.peek().map_or(self.end, |t| t.offset);
        let right = self.operand()?;
        match (left, right) {
            (Side::Value(l), Side::Value(r)) => Some(Expr::Cmp(l, op, r)),
            (Side::Flag(_), _) => {
                self.error(offset, "a flag is a condition by itself; write it alone or with \"not\"");
                Some(Expr::And(Vec::new()))
            }
            (_, Side::Flag(_)) => {
                self.error(right_offset, "a flag is a condition by itself; write it alone or with \"not\"");
                Some(Expr::And(Vec::new()))
            }
            // A mistake already reported: keep parsing to find the others.
            _ => Some(Expr::And(Vec::new())),
        }
    }

    fn operand(&mut self) -> Option<Side> {
        let Some(t) = self.next() else {
            return self.expected("a number, a field, bond(...), trait(...) or mood(...)");
        };
        match t.tok {
            Tok::Num(x) => Some(Side::Value(Operand::Num(x))),
            Tok::Ident(name @ ("bond" | "trait" | "mood")) => self.call(name),
            Tok::Ident(name) => Some(self.field(name, t.offset)),
            _ => {
                self.at -= 1;
                self.expected("a number, a field, bond(...), trait(...) or mood(...)")
            }
        }
    }

    /// An event field as an operand (numbers) or a condition (flags).
    fn field(&mut self, name: &str, offset: usize) -> Side {
        let kind = self.scope.kind;
        let Some(spec) = kind.field(name) else {
            let names: Vec<_> = kind.fields().iter().map(|f| f.name).collect();
            let m = format!("{} has no field {name:?}; it has {}", kind.name(), names.join(", "));
            self.error(offset, m);
            return Side::Bad;
        };
        match (spec.ty, spec.slot) {
            (FieldType::Num, Slot::Scalar(s)) => Side::Value(Operand::Field(s)),
            (FieldType::Bool, Slot::Scalar(s)) => Side::Flag(s),
            (ty, _) => {
                let m = format!(
                    "field {name:?} is {}; conditions use numbers and flags (match it in `where`)",
                    ty.describe()
                );
                self.error(offset, m);
                Side::Bad
            }
        }
    }

    /// `bond(?x, ?y).dim`, `trait(?x).name`, `mood(?x).axis`.
    fn call(&mut self, name: &str) -> Option<Side> {
        self.punct(Tok::Open, "\"(\"")?;
        let x = self.var()?;
        let y = if name == "bond" {
            self.punct(Tok::Comma, "\",\"")?;
            Some(self.var()?)
        } else {
            None
        };
        self.close()?;
        self.punct(Tok::Dot, "\".\"")?;
        let Some(Token { tok: Tok::Ident(dim), offset: dim_at }) = self.next() else {
            self.at -= 1;
            return self.expected("a dimension name");
        };
        let names: &[&str] = match name {
            "bond" => &BOND_DIMS,
            "trait" => &TRAITS,
            _ => &MOOD_AXES,
        };
        let Some(d) = names.iter().position(|n| *n == dim) else {
            self.error(dim_at, format!("{name}() has no {dim:?}; expected one of {}", names.join(", ")));
            return Some(Side::Bad);
        };
        let d = d as u8;
        Some(match (x, y) {
            (Some(x), Some(Some(y))) => Side::Value(Operand::Bond(x, y, d)),
            (Some(x), None) if name == "trait" => Side::Value(Operand::Trait(x, d)),
            (Some(x), None) => Side::Value(Operand::Mood(x, d)),
            _ => Side::Bad,
        })
    }

    /// A variable; `Some(None)` when it is named but not usable here (already reported).
    fn var(&mut self) -> Option<Option<u8>> {
        match self.next() {
            Some(Token { tok: Tok::Var(name), offset }) => match (self.scope.var)(name) {
                Ok(i) => Some(Some(i)),
                Err(m) => {
                    self.error(offset, m);
                    Some(None)
                }
            },
            _ => {
                self.at -= 1;
                self.expected("a variable like ?a")
            }
        }
    }

    fn punct(&mut self, want: Tok<'static>, what: &str) -> Option<()> {
        if self.peek().is_some_and(|t| t.tok == want) {
            self.at += 1;
            Some(())
        } else {
            self.expected(what)
        }
    }

    fn close(&mut self) -> Option<()> {
        self.punct(Tok::Close, "\")\"")
    }
}

/// A parsed operand: a value, a flag (a condition on its own), or a reported mistake.
enum Side {
    Value(Operand),
    Flag(u8),
    Bad,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_vars(name: &str) -> Result<u8, String> {
        match name {
            "a" => Ok(0),
            "b" => Ok(1),
            _ => Err(format!("unbound variable ?{name}")),
        }
    }

    fn check(text: &str) -> Result<Expr, Vec<(usize, String)>> {
        let scope = Scope { kind: FactKind::InteractionResolved, var: &scope_vars };
        match parse(text, &scope) {
            (Some(e), errs) if errs.is_empty() => Ok(e),
            (_, errs) => Err(errs.into_iter().map(|e| (e.offset, e.message)).collect()),
        }
    }

    #[test]
    fn precedence_and_operands() {
        let e = check("bond(?a, ?b).trust > 0.4 or not accepted and mood(?a).pleasure <= -0.5").unwrap();
        let Expr::Or(xs) = e else { panic!("or at the top: {e:?}") };
        assert_eq!(xs[0], Expr::Cmp(Operand::Bond(0, 1, 1), Op::Gt, Operand::Num(0.4)));
        let Expr::And(ys) = &xs[1] else { panic!("and binds tighter") };
        assert_eq!(ys[0], Expr::Not(Box::new(Expr::Flag(6))));
        assert_eq!(ys[1], Expr::Cmp(Operand::Mood(0, 0), Op::Le, Operand::Num(-0.5)));
        let e = check("(valence != .5) and trait(?b).neuroticism >= initiator_valence").unwrap();
        assert!(matches!(e, Expr::And(_)));
    }

    #[test]
    fn every_name_problem_is_reported_with_its_offset() {
        let errs = check("bond(?a, ?c).trust > 0 and trait(?a).charm < 1 and victim > 0").unwrap_err();
        let offsets: Vec<usize> = errs.iter().map(|e| e.0).collect();
        assert_eq!(offsets, [9, 37, 51], "{errs:?}");
        assert!(errs[0].1.contains("unbound variable ?c"));
        assert!(errs[1].1.contains("no \"charm\""));
        assert!(errs[2].1.contains("has no field \"victim\""));
    }

    #[test]
    fn syntax_errors_stop_at_the_first() {
        assert_eq!(check("valence >").unwrap_err()[0].0, 9);
        assert_eq!(check("valence").unwrap_err()[0].1, "expected a comparison (<, <=, >, >=, ==, !=), found the end");
        assert_eq!(check("valence > 0 0").unwrap_err()[0], (12, "unexpected number 0".to_owned()));
        assert_eq!(check("valence = 0").unwrap_err()[0].0, 8);
        assert!(check("accepted > 0").unwrap_err()[0].1.contains("a flag is a condition"));
        assert!(check("action == 1").unwrap_err()[0].1.contains("is a name"));
        let deep = format!("{}accepted{}", "(".repeat(20), ")".repeat(20));
        assert!(check(&deep).unwrap_err()[0].1.contains("nested"));
    }
}
