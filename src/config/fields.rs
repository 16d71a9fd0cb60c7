//! What serde's derive knows about a section: the field names it asks
//! for, and whether one key's value reads as the section's struct wants.
//! The keys are known from the derives, so a field added to a section is
//! never listed twice.

use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Whether `value` is of the type `T` wants for `key`: `T` is read from a
/// table holding that key alone. serde reads entries in order, so a wrong
/// value fails first; "missing field" then only means the other keys are
/// not in this one-key table.
pub(super) fn check_value<T: DeserializeOwned>(
    key: &str,
    value: &Spanned<DeValue<'_>>,
) -> Option<String> {
    let mut one = DeTable::new();
    one.insert(
        Spanned::new(0..0, std::borrow::Cow::Owned(key.to_string())),
        value.clone(),
    );
    match T::deserialize(Spanned::new(value.span(), one).into_deserializer()) {
        Ok(_) => None,
        Err(e) if e.message().starts_with("missing field") => None,
        Err(e) => Some(e.message().trim().to_string()),
    }
}

/// The field names serde's derive asks for when reading `T`.
pub(super) fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut grabbed = None;
    let _ = T::deserialize(FieldNames(&mut grabbed));
    grabbed.unwrap_or(&[])
}

/// A deserializer that only records the fields a struct asks for.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
