//! Field path -> `line:column`. The value tree of yaml_serde (the maintained serde_yaml fork) has
//! no positions: only its syntax errors carry one. So an error found while validating is placed
//! by walking yaml-rust2's marked parse events of the same text, read a second time only when a
//! scenario has an error (a valid scenario is parsed once). Aliases resolve to their anchored
//! node, so an error inside `stored: *tweet` points at the anchor.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Splits `actions[1].request.headers.content-type` into segments. `None` when malformed.
pub(crate) fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return None;
        }
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let close = rest.find(']')?;
            let n: usize = rest.get(1..close)?.trim().parse().ok()?;
            segs.push(Seg::Index(n));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    Some(segs)
}

#[derive(Debug)]
enum Node {
    Scalar(String),
    Seq(Vec<usize>),
    /// (key text, key position, value node)
    Map(Vec<(String, (usize, usize), usize)>),
}

/// Positions of every node of a YAML document (the first one in the text).
#[derive(Debug, Default)]
pub(crate) struct Locator {
    nodes: Vec<(Node, (usize, usize))>,
    root: Option<usize>,
}

#[derive(Default)]
struct Builder {
    loc: Locator,
    stack: Vec<usize>,
    /// For each open mapping: the pending key (text, position), if a key was just read.
    pending_key: Vec<Option<(String, (usize, usize))>>,
    anchors: HashMap<usize, usize>,
    done: bool,
}

fn pos(m: Marker) -> (usize, usize) {
    (m.line(), m.col() + 1)
}

impl Builder {
    /// Attaches a finished node to its parent (as a key or value in a mapping).
    fn attach(&mut self, id: usize) {
        let Some(&parent) = self.stack.last() else {
            if self.loc.root.is_none() {
                self.loc.root = Some(id);
            }
            return;
        };
        let at = self.loc.nodes[id].1;
        let text = match &self.loc.nodes[id].0 {
            Node::Scalar(s) => s.clone(),
            _ => String::new(),
        };
        let key_slot = self.pending_key.last_mut();
        let mut first_key = false;
        match &mut self.loc.nodes[parent].0 {
            Node::Seq(items) => items.push(id),
            Node::Map(entries) => {
                let Some(slot) = key_slot else { return };
                match slot.take() {
                    Some((k, kpos)) => entries.push((k, kpos, id)),
                    None => {
                        first_key = entries.is_empty();
                        *slot = Some((text, at));
                    }
                }
            }
            Node::Scalar(_) => {}
        }
        if first_key {
            // A block mapping's start event sits at its first `:`; its first key reads better.
            self.loc.nodes[parent].1 = at;
        }
    }

    fn push(&mut self, node: Node, m: Marker, anchor: usize) -> usize {
        let id = self.loc.nodes.len();
        self.loc.nodes.push((node, pos(m)));
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
        id
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, m: Marker) {
        if self.done {
            return;
        }
        match ev {
            Event::Scalar(text, _, anchor, _) => {
                let id = self.push(Node::Scalar(text), m, anchor);
                self.attach(id);
            }
            Event::Alias(anchor) => {
                // Point at the anchored node; a dangling alias becomes an empty scalar here.
                let id = match self.anchors.get(&anchor) {
                    Some(&id) => id,
                    None => self.push(Node::Scalar(String::new()), m, 0),
                };
                self.attach(id);
            }
            Event::SequenceStart(anchor, _) => {
                let id = self.push(Node::Seq(Vec::new()), m, anchor);
                self.stack.push(id);
                self.pending_key.push(None);
            }
            Event::MappingStart(anchor, _) => {
                let id = self.push(Node::Map(Vec::new()), m, anchor);
                self.stack.push(id);
                self.pending_key.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.pending_key.pop();
                if let Some(id) = self.stack.pop() {
                    self.attach(id);
                }
            }
            Event::DocumentEnd => self.done = self.loc.root.is_some(),
            _ => {}
        }
    }
}

impl Locator {
    /// Builds the locator; a text that yaml-rust2 cannot parse yields whatever was read before
    /// the error (yaml_serde reports the syntax error itself).
    pub fn new(text: &str) -> Locator {
        let mut b = Builder::default();
        let _ = Parser::new_from_str(text).load(&mut b, false);
        b.loc
    }

    /// Position of the node at `path` (its key when `at_key`), or of the deepest existing
    /// ancestor when the path leads nowhere. `None` for an empty document.
    pub fn find(&self, path: &str, at_key: bool) -> Option<(usize, usize)> {
        let mut id = self.root?;
        let mut here = self.nodes[id].1;
        let segs = parse_path(path.trim_start_matches('.')).unwrap_or_default();
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            match (&self.nodes[id].0, seg) {
                (Node::Map(entries), Seg::Key(k)) => {
                    let Some((_, kpos, v)) = entries.iter().find(|(name, _, _)| name == k) else {
                        return Some(here);
                    };
                    id = *v;
                    here = if last && at_key {
                        *kpos
                    } else {
                        self.nodes[id].1
                    };
                }
                (Node::Seq(items), Seg::Index(n)) => match items.get(*n) {
                    Some(&v) => {
                        id = v;
                        here = self.nodes[id].1;
                    }
                    None => return Some(here),
                },
                _ => return Some(here),
            }
        }
        Some(here)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: x\nactions:\n  - name: a\n    ingress: &p\n      - {name: t, bytes: 3}\n  - name: b\n    stored: *p\n    request:\n      headers: {content-type: text/plain}\n";

    #[test]
    fn paths_parse_into_keys_and_indices() {
        assert_eq!(
            parse_path("actions[1].request.headers.content-type"),
            Some(vec![
                Seg::Key("actions".into()),
                Seg::Index(1),
                Seg::Key("request".into()),
                Seg::Key("headers".into()),
                Seg::Key("content-type".into()),
            ])
        );
        assert_eq!(
            parse_path("a[0][2]"),
            Some(vec![Seg::Key("a".into()), Seg::Index(0), Seg::Index(2)])
        );
        assert_eq!(parse_path("a..b"), None);
        assert_eq!(parse_path("a[x]"), None);
        assert_eq!(parse_path("a[1]b"), None);
    }

    #[test]
    fn finds_values_keys_and_aliased_nodes() {
        let loc = Locator::new(DOC);
        assert_eq!(loc.find("name", false), Some((1, 7)));
        assert_eq!(loc.find("name", true), Some((1, 1)));
        assert_eq!(loc.find("actions[1].name", false), Some((6, 11)));
        assert_eq!(loc.find("actions[1]", false), Some((6, 5)));
        // The alias resolves to the anchored list: its first component's bytes.
        assert_eq!(loc.find("actions[1].stored[0].bytes", false), Some((5, 26)));
        assert_eq!(
            loc.find("actions[1].request.headers.content-type", false),
            Some((9, 31))
        );
        // Missing leaf: the deepest existing ancestor.
        assert_eq!(loc.find("actions[1].per_day", false), Some((6, 5)));
        assert_eq!(loc.find("actions[7].name", false), Some((3, 3)));
        assert_eq!(loc.find("", false), Some((1, 1)));
    }

    #[test]
    fn broken_text_does_not_panic() {
        for t in [
            "",
            "a: [",
            ": :",
            "- *nope",
            "a: &x 1\nb: *x\n",
            "---\n...\n---\n",
        ] {
            let loc = Locator::new(t);
            let _ = loc.find("a.b[0]", false);
        }
    }
}
