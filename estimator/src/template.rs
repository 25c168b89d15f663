//! Request templates (`{{user}}`, `{{text 140}}`, `{{int 1 10}}`, `{{seq}}`, `{{pool}}`),
//! compiled once, when the scenario is validated, into a list of segments that the load
//! generator renders straight into a reusable buffer: the hot path never re-parses a template
//! string, and a bad template is a scenario error with its file position.
//!
//! Syntax: `{{` opens a template and the next `}}` closes it; anything else is literal text
//! (so JSON bodies such as `{"user_id": {{user}}}` need no escaping). Inside, the first word is
//! the name: a key space of `load.keys`, a capture pool, or one of `text N`, `int A B`, `seq`.

use std::fmt;

/// Names a template may refer to, resolved to indices at compile time.
pub(crate) struct Names<'a> {
    pub keys: &'a [String],
    pub pools: &'a [String],
}

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// A byte range of [`Template::text`]; see [`Template::literal`].
    Literal(usize, usize),
    /// An id from key space `n` (an index into `LoadSpec::keys`).
    Key(usize),
    /// A recent value of capture pool `n` (an index into `LoadSpec::pools`).
    Pool(usize),
    /// Random JSON-safe text of 1..=n characters.
    Text(u32),
    /// A uniform integer in `[lo, hi]`.
    Int(i64, i64),
    /// The lane's next sequence number (unique across lanes).
    Seq,
}

/// A compiled template: its text as written and the segments it renders as.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    text: String,
    segments: Vec<Segment>,
}

/// What is wrong with a template, without the where (the caller adds action and field).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateProblem {
    /// Byte offset of the template in the string.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Largest `{{text N}}` accepted; the reference server caps tweets at 280 characters, and a
/// body needs no more than a few KB of filler.
pub const MAX_TEXT: u32 = 65_536;

impl Template {
    /// Compiles `text`, resolving names against `names`.
    pub(crate) fn compile(text: &str, names: &Names<'_>) -> Result<Template, TemplateProblem> {
        let mut segments = Vec::new();
        let mut pos = 0;
        while let Some(found) = text[pos..].find("{{") {
            let open = pos + found;
            if open > pos {
                segments.push(Segment::Literal(pos, open));
            }
            let inner_start = open + 2;
            let Some(len) = text[inner_start..].find("}}") else {
                return Err(problem(
                    open,
                    format!(
                        "unbalanced braces: `{{{{` at character {} is never closed by `}}}}`; \
                         write e.g. `{{{{user}}}}`",
                        text[..open].chars().count() + 1
                    ),
                ));
            };
            let inner = &text[inner_start..inner_start + len];
            segments.push(parse_inner(inner, open, names)?);
            pos = inner_start + len + 2;
        }
        if pos < text.len() {
            segments.push(Segment::Literal(pos, text.len()));
        }
        Ok(Template {
            text: text.to_owned(),
            segments,
        })
    }

    /// The template as written, e.g. `/users/{{user}}/timeline`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The segments, in order: rendering them one after the other gives the value.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the template has no placeholders at all.
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(..)))
    }

    /// The literal bytes of a [`Segment::Literal`].
    pub fn literal(&self, start: usize, end: usize) -> &[u8] {
        &self.text.as_bytes()[start..end]
    }

    /// The pools this template draws from.
    pub fn pools(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Pool(p) => Some(*p),
            _ => None,
        })
    }
}

fn problem(offset: usize, message: String) -> TemplateProblem {
    TemplateProblem { offset, message }
}

fn parse_inner(inner: &str, offset: usize, names: &Names<'_>) -> Result<Segment, TemplateProblem> {
    let shown = format!("{{{{{inner}}}}}");
    if inner.contains("{{") || inner.contains('{') {
        return Err(problem(
            offset,
            format!("unbalanced braces in `{shown}`: a template cannot contain `{{`"),
        ));
    }
    let words: Vec<&str> = inner.split_whitespace().collect();
    match words.as_slice() {
        [] => Err(problem(
            offset,
            format!("empty template `{shown}`; write a name such as `{{{{user}}}}`"),
        )),
        ["text", n] => parse_text(n, &shown, offset),
        ["text", ..] => Err(problem(
            offset,
            format!("`{shown}` needs one length: `{{{{text 140}}}}`"),
        )),
        ["int", a, b] => parse_int(a, b, &shown, offset),
        ["int", ..] => Err(problem(
            offset,
            format!("`{shown}` needs two bounds: `{{{{int 1 100}}}}`"),
        )),
        ["seq"] => Ok(Segment::Seq),
        ["seq", ..] => Err(problem(
            offset,
            format!("`{shown}` takes no arguments: write `{{{{seq}}}}`"),
        )),
        [name] => resolve(name, &shown, offset, names),
        [name, ..] => Err(problem(
            offset,
            format!("`{shown}`: `{name}` takes no arguments (only text, int take arguments)"),
        )),
    }
}

fn parse_text(n: &str, shown: &str, offset: usize) -> Result<Segment, TemplateProblem> {
    match n.parse::<u32>() {
        Ok(n) if (1..=MAX_TEXT).contains(&n) => Ok(Segment::Text(n)),
        _ => Err(problem(
            offset,
            format!("`{shown}`: the length must be a whole number from 1 to {MAX_TEXT}, e.g. `{{{{text 140}}}}`"),
        )),
    }
}

fn parse_int(a: &str, b: &str, shown: &str, offset: usize) -> Result<Segment, TemplateProblem> {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(lo), Ok(hi)) if lo <= hi => Ok(Segment::Int(lo, hi)),
        (Ok(_), Ok(_)) => Err(problem(
            offset,
            format!("`{shown}`: the lower bound must not exceed the upper bound, e.g. `{{{{int 1 100}}}}`"),
        )),
        _ => Err(problem(
            offset,
            format!("`{shown}`: both bounds must be whole numbers, e.g. `{{{{int 1 100}}}}`"),
        )),
    }
}

fn resolve(
    name: &str,
    shown: &str,
    offset: usize,
    names: &Names<'_>,
) -> Result<Segment, TemplateProblem> {
    if let Some(i) = names.keys.iter().position(|k| k == name) {
        return Ok(Segment::Key(i));
    }
    if let Some(i) = names.pools.iter().position(|p| p == name) {
        return Ok(Segment::Pool(i));
    }
    let known: Vec<String> = names
        .keys
        .iter()
        .map(|k| format!("{k} (key space)"))
        .chain(names.pools.iter().map(|p| format!("{p} (capture pool)")))
        .collect();
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    Err(problem(
        offset,
        format!(
            "unknown template name `{name}` in `{shown}`; known names: {known}; also text N, \
             int A B, seq. Add a key space under `load.keys` or a `capture:` that fills pool `{name}`"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> (Vec<String>, Vec<String>) {
        (vec!["user".to_owned()], vec!["tweet".to_owned()])
    }

    fn compile(text: &str) -> Result<Template, TemplateProblem> {
        let (keys, pools) = names();
        Template::compile(
            text,
            &Names {
                keys: &keys,
                pools: &pools,
            },
        )
    }

    #[test]
    fn compiles_every_kind_of_segment() {
        let t = compile(r#"{"u": {{user}}, "t": {{ tweet }}, "x": "{{text 5}}", "i": {{int -2 7}}, "s": {{seq}}}"#)
            .unwrap();
        let kinds: Vec<&Segment> = t
            .segments
            .iter()
            .filter(|s| !matches!(s, Segment::Literal(..)))
            .collect();
        assert_eq!(
            kinds,
            [
                &Segment::Key(0),
                &Segment::Pool(0),
                &Segment::Text(5),
                &Segment::Int(-2, 7),
                &Segment::Seq
            ]
        );
        assert_eq!(
            t.segments.last(),
            Some(&Segment::Literal(t.text.len() - 1, t.text.len()))
        );
        assert!(compile("/healthz").unwrap().is_literal());
    }

    #[test]
    fn nested_json_closing_braces_stay_literal() {
        let t = compile(r#"{"a": {"b": {{user}}}}"#).unwrap();
        assert_eq!(t.segments.len(), 3);
        let Segment::Literal(s, e) = t.segments[2] else {
            panic!()
        };
        assert_eq!(t.literal(s, e), b"}}");
    }

    #[test]
    fn malformed_templates_say_what_is_wrong() {
        let err = |s: &str| compile(s).unwrap_err().message;
        assert!(
            err("/users/{{usr}}").contains("unknown template name `usr`"),
            "{}",
            err("/users/{{usr}}")
        );
        assert!(err("/users/{{usr}}").contains("user (key space), tweet (capture pool)"));
        assert!(err("/users/{{user").contains("unbalanced braces"));
        assert!(err("/users/{{user}").contains("unbalanced braces"));
        assert!(err("/users/{{{user}}").contains("unbalanced braces"));
        assert!(err("{{text 0}}").contains("from 1 to"));
        assert!(err("{{text x}}").contains("from 1 to"));
        assert!(err("{{text}}").contains("needs one length"));
        assert!(err("{{int 5 1}}").contains("must not exceed"));
        assert!(err("{{int a 1}}").contains("whole numbers"));
        assert!(err("{{int 1}}").contains("two bounds"));
        assert!(err("{{}}").contains("empty template"));
        assert!(err("{{user 3}}").contains("takes no arguments"));
        assert_eq!(compile("ab{{usr}}").unwrap_err().offset, 2);
    }
}
