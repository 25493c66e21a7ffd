//! Stage `config`, YAML layer, the tree builder: receives yaml-rust2's marked events and
//! builds located [`Node`]s, resolving plain scalars with the YAML 1.2 core schema, expanding
//! aliases within a node budget and reporting duplicate keys with both places. Pure.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Key, Located, Node, Pos, Value, YamlError};

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        pending_key: Option<Key>,
    },
}

pub(super) struct Builder {
    stack: Vec<Frame>,
    pub(super) docs: Vec<Node>,
    anchors: Vec<Option<Node>>,
    pub(super) errors: Vec<Located<YamlError>>,
    nodes: usize,
    budget: usize,
    docs_seen: usize,
}

impl Builder {
    pub(super) fn new(input_len: usize) -> Self {
        Builder {
            stack: Vec::new(),
            docs: Vec::new(),
            anchors: Vec::new(),
            errors: Vec::new(),
            nodes: 0,
            // Generous for real configs, far below what an alias bomb would reach.
            budget: 1_000_000 + input_len.saturating_mul(4),
            docs_seen: 0,
        }
    }

    fn error(&mut self, pos: Pos, e: YamlError) {
        // Past the budget every further node would report the same thing.
        if matches!(e, YamlError::TooLarge(_))
            && self
                .errors
                .iter()
                .any(|(_, x)| matches!(x, YamlError::TooLarge(_)))
        {
            return;
        }
        self.errors.push((pos, e));
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node.clone());
    }

    fn count(node: &Node) -> usize {
        1 + match &node.value {
            Value::Seq(items) => items.iter().map(Builder::count).sum(),
            Value::Map(entries) => entries.iter().map(|(_, v)| Builder::count(v)).sum(),
            _ => 0,
        }
    }

    /// Attaches a finished node to its parent (or makes it a document).
    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                self.docs_seen += 1;
                if self.docs_seen == 2 {
                    self.errors.push((node.pos, YamlError::MultipleDocuments));
                }
                self.docs.push(node);
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    let name = match node.value {
                        Value::String(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        ref other => {
                            let what = other.describe();
                            self.errors.push((node.pos, YamlError::NonStringKey(what)));
                            // A placeholder keeps keys and values aligned; it is never looked up.
                            String::new()
                        }
                    };
                    *pending_key = Some(Key {
                        name,
                        pos: node.pos,
                    });
                }
                Some(key) => {
                    if let Some((first, _)) = entries
                        .iter()
                        .find(|(k, _)| k.name == key.name && !key.name.is_empty())
                    {
                        let first = first.pos;
                        self.errors.push((
                            key.pos,
                            YamlError::DuplicateKey {
                                key: key.name.clone(),
                                first,
                            },
                        ));
                    } else {
                        entries.push((key, node));
                    }
                }
            },
        }
    }

    fn scalar(&mut self, text: String, style: TScalarStyle, tag: Option<Tag>, pos: Pos) -> Value {
        if let Some(tag) = tag {
            let name = if tag.handle == "!!" {
                tag.suffix.clone()
            } else if tag.handle == "!" && tag.suffix.is_empty() {
                return Value::String(text);
            } else if tag.handle == "tag:yaml.org,2002:" {
                tag.suffix.clone()
            } else {
                self.error(
                    pos,
                    YamlError::UnsupportedTag(format!("{}{}", tag.handle, tag.suffix)),
                );
                return Value::Null;
            };
            let resolved = resolve_plain(&text);
            let ok = match (name.as_str(), &resolved) {
                ("str", _) => return Value::String(text),
                ("null", Some(Value::Null))
                | ("bool", Some(Value::Bool(_)))
                | ("int", Some(Value::Int(_)))
                | ("float", Some(Value::Float(_))) => true,
                ("float", Some(Value::Int(i))) => return Value::Float(*i as f64),
                ("null" | "bool" | "int" | "float", _) => false,
                _ => {
                    self.error(pos, YamlError::UnsupportedTag(format!("!!{name}")));
                    return Value::Null;
                }
            };
            if !ok {
                self.error(pos, YamlError::BadTaggedScalar { text, tag: name });
                return Value::Null;
            }
            return resolved.unwrap_or(Value::Null);
        }
        match style {
            // A plain string keeps the scanner's buffer: no copy.
            TScalarStyle::Plain => resolve_plain(&text).unwrap_or(Value::String(text)),
            _ => Value::String(text),
        }
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema: the null, boolean, integer or float it
/// is, or `None` for a string.
pub(super) fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        if digits(hex, 16) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Some(Value::Int(i));
            }
        }
        return None;
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if digits(oct, 8) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Some(Value::Int(i));
            }
        }
        return None;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        return Some(text.parse::<i64>().map_or_else(
            |_| Value::Float(text.parse().unwrap_or(f64::NAN)),
            Value::Int,
        ));
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let is_float = {
        let s = unsigned;
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some((a, b)) => {
                (a.is_empty() && digits(b, 10))
                    || (digits(a, 10) && (b.is_empty() || digits(b, 10)))
            }
            None => digits(mantissa, 10),
        };
        let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
        mantissa_ok && exp_ok && !bytes.is_empty()
    };
    if is_float {
        if let Ok(f) = text.parse::<f64>() {
            return Some(Value::Float(f));
        }
    }
    None
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from(mark);
        if self.nodes > self.budget {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.on_scalar(text, style, anchor, tag, pos)
            }
            Event::SequenceStart(anchor, tag) => {
                let frame = Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                };
                self.on_collection_start(frame, tag, pos);
            }
            Event::MappingStart(anchor, tag) => {
                let frame = Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                };
                self.on_collection_start(frame, tag, pos);
            }
            Event::SequenceEnd | Event::MappingEnd => self.on_collection_end(),
            Event::Alias(id) => self.on_alias(id, pos),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// One method per kind of event that makes a node.
impl Builder {
    /// A scalar: resolved, remembered under its anchor, attached to its parent.
    fn on_scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        pos: Pos,
    ) {
        self.nodes += 1;
        let value = self.scalar(text, style, tag, pos);
        let node = Node { value, pos };
        self.remember(anchor, &node);
        self.push_node(node);
    }

    /// Opens a sequence or mapping; its items arrive as the next events.
    fn on_collection_start(&mut self, frame: Frame, tag: Option<Tag>, pos: Pos) {
        let expected = match frame {
            Frame::Seq { .. } => "seq",
            Frame::Map { .. } => "map",
        };
        self.check_collection_tag(tag, expected, pos);
        self.nodes += 1;
        self.stack.push(frame);
    }

    /// Closes the innermost sequence or mapping and attaches it to its parent.
    fn on_collection_end(&mut self) {
        let (anchor, node) = match self.stack.pop() {
            Some(Frame::Seq { pos, anchor, items }) => (
                anchor,
                Node {
                    value: Value::Seq(items),
                    pos,
                },
            ),
            Some(Frame::Map {
                pos,
                anchor,
                entries,
                ..
            }) => {
                // A block mapping's start mark sits at its first `:`; its first key is
                // where a reader sees it begin.
                let pos = entries.first().map_or(pos, |(k, _)| pos.min(k.pos));
                let node = Node {
                    value: Value::Map(entries),
                    pos,
                };
                (anchor, node)
            }
            None => return,
        };
        self.remember(anchor, &node);
        self.push_node(node);
    }

    /// Expands an alias into a copy of its anchor's node, within the node budget.
    fn on_alias(&mut self, id: usize, pos: Pos) {
        let Some(node) = self.anchors.get(id).cloned().flatten() else {
            self.error(pos, YamlError::UnknownAlias);
            self.push_node(Node {
                value: Value::Null,
                pos,
            });
            return;
        };
        self.nodes += Builder::count(&node);
        if self.nodes > self.budget {
            let budget = self.budget;
            self.error(pos, YamlError::TooLarge(budget));
            return;
        }
        // The copy keeps the anchor's positions: errors point at the definition.
        self.push_node(node);
    }

    fn check_collection_tag(&mut self, tag: Option<Tag>, expected: &str, pos: Pos) {
        if let Some(tag) = tag {
            let ok = (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
                && tag.suffix == expected;
            if !ok {
                self.error(
                    pos,
                    YamlError::UnsupportedTag(format!("{}{}", tag.handle, tag.suffix)),
                );
            }
        }
    }
}
