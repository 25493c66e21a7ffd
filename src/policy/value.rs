//! Stage `policy`, documents as the engine's values: a serde serializer that builds regorus
//! values directly, without JSON text in between (the input of a large plan is tens of
//! megabytes of it), each struct field name made a value once and shared, and so are short
//! strings and empty arrays and objects. The values are those the document's JSON would parse
//! to: maps and structs become objects, sequences and tuples arrays, `None` and units `null`,
//! an enum variant its name (or an object of one member, as serde_json writes it). Pure.

use std::collections::{BTreeMap, HashMap, HashSet};

use regorus::{Rc, Value};
use serde::Serialize;
use serde::ser::{self, Impossible};

use super::PolicyError;
use super::reach::Reach;

impl ser::Error for PolicyError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        PolicyError::Input(message.to_string())
    }
}

/// `document` as the engine's value, with what `reach` reaches of it: the members it does
/// not reach are left out (and never serialized).
pub(super) fn to_value(document: &impl Serialize, reach: &Reach) -> Result<Value, PolicyError> {
    let mut builder = Builder::new(reach);
    document.serialize(&mut builder)
}

/// `items` as the engine's values, one each (their struct field names shared), with what
/// `reach` reaches of each.
pub(super) fn to_values<T: Serialize>(
    items: &[T],
    reach: &Reach,
) -> Result<Vec<Value>, PolicyError> {
    let mut builder = Builder::new(reach);
    items
        .iter()
        .map(|i| {
            builder.reach = restricted(reach);
            i.serialize(&mut builder)
        })
        .collect()
}

/// A reach as the builder keeps it: `None` for everything (nothing to look up below).
fn restricted(reach: &Reach) -> Option<&Reach> {
    (!reach.is_everything()).then_some(reach)
}

/// The longest string [`Builder`] shares between the values equal to it.
const SHARED_LENGTH: usize = 32;

/// How many different strings [`Builder`] shares, at most: the strings that repeat through a
/// large document (an action, a kind, a country, a role) are met early, the table holds them,
/// and strings met once do not grow it without end.
const SHARED_STRINGS: usize = 4096;

/// The hash of the builder's tables: their keys are short strings of partnerctl's own documents
/// (names, actions, kinds, countries), made by no adversary, for which the standard library's
/// SipHash costs more than the look-up it serves; foldhash's (hashbrown's own) is made for them.
type Quick = foldhash::fast::FixedState;

/// Builds values, keeping one value of each struct field name, and sharing short strings
/// and empty arrays and objects between the values equal to them: a large document repeats
/// them on every element, and each would be an allocation of its own.
struct Builder<'r> {
    names: HashMap<&'static str, Value, Quick>,
    strings: HashSet<Rc<str>, Quick>,
    empty_array: Option<Value>,
    empty_object: Option<Value>,
    /// What is reached of the value being built (`None`: all of it).
    reach: Option<&'r Reach>,
}

impl<'r> Builder<'r> {
    fn new(reach: &'r Reach) -> Self {
        Builder {
            names: HashMap::default(),
            strings: HashSet::default(),
            empty_array: None,
            empty_object: None,
            reach: restricted(reach),
        }
    }

    /// What is reached of member `name` of the value being built: `None` when nothing,
    /// `Some(None)` when all of it.
    fn member(&self, name: &str) -> Option<Option<&'r Reach>> {
        match self.reach {
            None => Some(None),
            Some(r) => r.member(name).map(restricted),
        }
    }

    fn name(&mut self, name: &'static str) -> Value {
        self.names
            .entry(name)
            .or_insert_with(|| Value::from(name))
            .clone()
    }

    /// `text` as a value, shared with the values of the same text made before when short.
    fn string(&mut self, text: &str) -> Value {
        if text.len() > SHARED_LENGTH {
            return Value::from(text);
        }
        if let Some(shared) = self.strings.get(text) {
            return Value::String(Rc::clone(shared));
        }
        let made: Rc<str> = Rc::from(text);
        if self.strings.len() < SHARED_STRINGS {
            self.strings.insert(Rc::clone(&made));
        }
        Value::String(made)
    }

    fn array(&mut self, items: Vec<Value>) -> Value {
        if items.is_empty() {
            self.empty_array
                .get_or_insert_with(|| Value::from(Vec::new()))
                .clone()
        } else {
            Value::from(items)
        }
    }

    fn object(&mut self, members: BTreeMap<Value, Value>) -> Value {
        if members.is_empty() {
            self.empty_object
                .get_or_insert_with(|| Value::from(BTreeMap::new()))
                .clone()
        } else {
            Value::from(members)
        }
    }
}

/// `{variant: value}`.
fn variant(b: &mut Builder, name: &'static str, value: Value) -> Value {
    Value::from(BTreeMap::from([(b.name(name), value)]))
}

impl<'b, 'r> ser::Serializer for &'b mut Builder<'r> {
    type Ok = Value;
    type Error = PolicyError;
    type SerializeSeq = Seq<'b, 'r>;
    type SerializeTuple = Seq<'b, 'r>;
    type SerializeTupleStruct = Seq<'b, 'r>;
    type SerializeTupleVariant = Seq<'b, 'r>;
    type SerializeMap = Map<'b, 'r>;
    type SerializeStruct = Map<'b, 'r>;
    type SerializeStructVariant = Map<'b, 'r>;

    fn serialize_bool(self, v: bool) -> Result<Value, PolicyError> {
        Ok(Value::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, PolicyError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, PolicyError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, PolicyError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, PolicyError> {
        Ok(Value::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, PolicyError> {
        Ok(Value::from(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, PolicyError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, PolicyError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, PolicyError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, PolicyError> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, PolicyError> {
        Ok(Value::from(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, PolicyError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, PolicyError> {
        // As serde_json writes them: a number that is not finite is null.
        Ok(if v.is_finite() {
            Value::from(v)
        } else {
            Value::Null
        })
    }
    fn serialize_char(self, v: char) -> Result<Value, PolicyError> {
        Ok(self.string(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<Value, PolicyError> {
        Ok(self.string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, PolicyError> {
        Ok(Value::from(
            v.iter()
                .map(|b| Value::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<Value, PolicyError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, PolicyError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, PolicyError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, PolicyError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
    ) -> Result<Value, PolicyError> {
        Ok(self.name(name))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, PolicyError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        value: &T,
    ) -> Result<Value, PolicyError> {
        let Some(inner) = self.member(name) else {
            return Ok(self.object(BTreeMap::new()));
        };
        self.reach = inner;
        let inner = value.serialize(&mut *self)?;
        Ok(variant(self, name, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'b, 'r>, PolicyError> {
        let reach = self.reach;
        Ok(Seq {
            b: self,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
            reach: Some(reach),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'b, 'r>, PolicyError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'b, 'r>, PolicyError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Seq<'b, 'r>, PolicyError> {
        let reach = self.member(name);
        Ok(Seq {
            b: self,
            items: Vec::with_capacity(len),
            variant: Some(name),
            reach,
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'b, 'r>, PolicyError> {
        let reach = self.reach;
        Ok(Map {
            b: self,
            members: BTreeMap::new(),
            key: None,
            variant: None,
            reach: Some(reach),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map<'b, 'r>, PolicyError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
        _: usize,
    ) -> Result<Map<'b, 'r>, PolicyError> {
        let reach = self.member(name);
        Ok(Map {
            b: self,
            members: BTreeMap::new(),
            key: None,
            variant: Some(name),
            reach,
        })
    }
}

/// A sequence, tuple or tuple variant being built.
struct Seq<'b, 'r> {
    b: &'b mut Builder<'r>,
    items: Vec<Value>,
    variant: Option<&'static str>,
    /// What is reached of the sequence (`None`: a variant nothing reaches, made an empty
    /// object; `Some(None)`: all of it).
    reach: Option<Option<&'r Reach>>,
}

impl Seq<'_, '_> {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        let Some(reach) = self.reach else {
            return Ok(());
        };
        // Every element is kept (iterating goes through as many), with what is reached of it.
        self.b.reach = reach.map(|r| restricted(r.element())).unwrap_or_default();
        self.items.push(value.serialize(&mut *self.b)?);
        Ok(())
    }

    fn done(self) -> Result<Value, PolicyError> {
        if self.reach.is_none() {
            return Ok(self.b.object(BTreeMap::new()));
        }
        let array = self.b.array(self.items);
        Ok(match self.variant {
            Some(name) => variant(self.b, name, array),
            None => array,
        })
    }
}

impl ser::SerializeSeq for Seq<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

impl ser::SerializeTuple for Seq<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

impl ser::SerializeTupleStruct for Seq<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

impl ser::SerializeTupleVariant for Seq<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

/// A map, struct or struct variant being built.
struct Map<'b, 'r> {
    b: &'b mut Builder<'r>,
    members: BTreeMap<Value, Value>,
    key: Option<Value>,
    variant: Option<&'static str>,
    /// What is reached of the map (`None`: a variant nothing reaches, made an empty object;
    /// `Some(None)`: all of it).
    reach: Option<Option<&'r Reach>>,
}

impl<'r> Map<'_, 'r> {
    fn done(self) -> Result<Value, PolicyError> {
        let object = self.b.object(self.members);
        Ok(match (self.variant, self.reach) {
            (Some(name), Some(_)) => variant(self.b, name, object),
            _ => object,
        })
    }

    /// What is reached of member `name`: `None` when nothing (the member is left out).
    fn member(&self, name: &str) -> Option<Option<&'r Reach>> {
        match self.reach? {
            None => Some(None),
            Some(r) => r.member(name).map(restricted),
        }
    }

    fn field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), PolicyError> {
        let Some(reach) = self.member(name) else {
            return Ok(());
        };
        self.b.reach = reach;
        let value = value.serialize(&mut *self.b)?;
        let name = self.b.name(name);
        self.members.insert(name, value);
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), PolicyError> {
        self.key = Some(key.serialize(MapKey(&mut *self.b))?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), PolicyError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| PolicyError::Input("a map value without its key".into()))?;
        let reach = match (self.reach, &key) {
            (Some(None), _) => Some(None),
            (Some(Some(r)), Value::String(name)) => r.member(name).map(restricted),
            // Keys are made strings: any other is kept, whole.
            (Some(Some(_)), _) => Some(None),
            (None, _) => None,
        };
        let Some(reach) = reach else {
            return Ok(());
        };
        self.b.reach = reach;
        let value = value.serialize(&mut *self.b)?;
        self.members.insert(key, value);
        Ok(())
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

impl ser::SerializeStruct for Map<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), PolicyError> {
        self.field(name, value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

impl ser::SerializeStructVariant for Map<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), PolicyError> {
        self.field(name, value)
    }
    fn end(self) -> Result<Value, PolicyError> {
        self.done()
    }
}

/// A map's key: a string, as in JSON (numbers and booleans written as their text, as
/// serde_json writes keys).
struct MapKey<'b, 'r>(&'b mut Builder<'r>);

impl ser::Serializer for MapKey<'_, '_> {
    type Ok = Value;
    type Error = PolicyError;
    type SerializeSeq = Impossible<Value, PolicyError>;
    type SerializeTuple = Impossible<Value, PolicyError>;
    type SerializeTupleStruct = Impossible<Value, PolicyError>;
    type SerializeTupleVariant = Impossible<Value, PolicyError>;
    type SerializeMap = Impossible<Value, PolicyError>;
    type SerializeStruct = Impossible<Value, PolicyError>;
    type SerializeStructVariant = Impossible<Value, PolicyError>;

    fn serialize_str(self, v: &str) -> Result<Value, PolicyError> {
        Ok(self.0.string(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_bool(self, v: bool) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, PolicyError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
    ) -> Result<Value, PolicyError> {
        Ok(Value::from(name))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, PolicyError> {
        value.serialize(self)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Value, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, PolicyError> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, PolicyError> {
        Err(not_a_key())
    }
}

fn not_a_key() -> PolicyError {
    PolicyError::Input("a map key that is not a string, a number or a boolean".into())
}
