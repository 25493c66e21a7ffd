//! Stage `config`, YAML layer, typed reading: a [`serde::Deserializer`] over a located [`Node`],
//! so that the typed model is built straight from the tree, without an intermediate JSON value.
//! It reads a tree exactly as [`Node::to_json`] followed by `serde_json::from_value` would
//! (a non-finite float reads as null, as it becomes in JSON). Errors are `serde_json` errors.
//! Pure.

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::{Node, Value};

/// The error of a typed read.
pub type Error = serde_json::Error;

/// Reads a `T` from a tree (see the module documentation).
pub fn from_node<'de, T: serde::Deserialize<'de>>(node: &'de Node) -> Result<T, Error> {
    T::deserialize(node)
}

impl Node {
    /// Is this null as JSON sees it (`null`, or a float JSON cannot represent)?
    fn is_json_null(&self) -> bool {
        match &self.value {
            Value::Null => true,
            Value::Float(f) => !f.is_finite(),
            _ => false,
        }
    }
}

impl<'de> IntoDeserializer<'de, Error> for &'de Node {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_json_null() {
            return visitor.visit_unit();
        }
        match &self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Map(entries) => {
                let mut map =
                    MapDeserializer::new(entries.iter().map(|(k, v)| (k.name.as_str(), v)));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_json_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.value {
            // A unit variant by its name, or `{variant: content}`, as JSON writes enums.
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map(entries) => visitor.visit_enum(MapAccessDeserializer::new(
                MapDeserializer::new(entries.iter().map(|(k, v)| (k.name.as_str(), v))),
            )),
            other => Err(de::Error::invalid_type(
                de::Unexpected::Other(other.describe()),
                &"a string or a mapping",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigFile;
    use crate::config::yaml::parse;

    /// The typed read agrees with the JSON round trip it replaces.
    fn same_as_json<T>(text: &str)
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let doc = parse(text).unwrap().unwrap();
        let direct: Result<T, _> = from_node(&doc);
        let via_json: Result<T, _> = serde_json::from_value(doc.to_json());
        match (direct, via_json) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{text}: direct {a:?}, via JSON {b:?}"),
        }
    }

    #[test]
    fn reads_like_the_json_round_trip() {
        same_as_json::<ConfigFile>(
            "version: 1\npartner: {name: P, users: [{email: a@b.example, name: A, role: admin}]}\n\
             defaults: {country: GB, labels: {tier: gold}, services: [{type: cards, settings: \
             {a: 1, b: -2, c: 1.5, d: .nan, e: [x, ~, true], f: {g: h}}}]}\n\
             customers:\n  - {key: c, name: C, contact: {name: N, email: n@c.example}, \
             country: ~, protect: true, users: [{email: u@c.example, name: U}], \
             networks: [{key: n, name: N, sub_accounts: [{key: s, name: S}]}]}\n",
        );
        same_as_json::<ConfigFile>("customers: []\n");
        same_as_json::<ConfigFile>("version: 1\nversion2: 1\n");
        same_as_json::<ConfigFile>("version: -1\n");
        same_as_json::<ConfigFile>(
            "partner: {name: P, users: [{email: e, name: n, role: boss}]}\n",
        );
        same_as_json::<ConfigFile>("customers: {a: 1}\n");
        same_as_json::<serde_json::Value>("a: [1, 2.5, .inf, -.inf, x, {b: ~}]\n");
        same_as_json::<Vec<i64>>("[1, 2, 3]\n");
        same_as_json::<(i64, i64)>("[1, 2, 3]\n");
        same_as_json::<Option<String>>(".nan\n");
    }
}
