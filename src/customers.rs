//! One customer across every channel: who they are, how to reach them and what they
//! consented to. Guests who leave an email are linked to the customer with that email.

use crate::shared::text;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidContact {
    #[error("email must look like name@example.com (at most 254 characters)")]
    Email,
    #[error("phone must be in E.164 form, e.g. +31201234567")]
    Phone,
}

/// An email address, kept lower-case so one shopper is one customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, InvalidContact> {
        let text = text.trim();
        let (local, domain) = text.rsplit_once('@').ok_or(InvalidContact::Email)?;
        let ok = text.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && text.chars().all(|c| c.is_ascii_graphic());
        ok.then(|| Email(text.to_ascii_lowercase())).ok_or(InvalidContact::Email)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Email {
    type Error = InvalidContact;
    fn try_from(s: String) -> Result<Self, InvalidContact> {
        Email::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// A phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, InvalidContact> {
        let digits = text.strip_prefix('+').ok_or(InvalidContact::Phone)?;
        let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        ok.then(|| Phone(text.to_owned())).ok_or(InvalidContact::Phone)
    }
}
impl TryFrom<String> for Phone {
    type Error = InvalidContact;
    fn try_from(s: String) -> Result<Self, InvalidContact> {
        Phone::parse(&s)
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// How to reach a shopper about a cart or order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
}

/// What a customer agreed to be contacted about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consents {
    /// Cart reminders and service messages by email.
    #[serde(default)]
    pub email_reminders: bool,
    /// Cart reminders by Web Push.
    #[serde(default)]
    pub push_reminders: bool,
}

/// What back-office or a storefront sends to create or update a customer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerDraft {
    #[serde(deserialize_with = "text::line")]
    pub name: String,
    pub email: Email,
    #[serde(default)]
    pub phone: Option<Phone>,
    #[serde(default)]
    pub consents: Consents,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Email,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    pub consents: Consents,
    pub created_at: String,
    pub updated_at: String,
}

impl Customer {
    pub fn from_draft(id: String, draft: CustomerDraft, created_at: String, updated_at: String) -> Self {
        Customer { id, name: draft.name, email: draft.email, phone: draft.phone, consents: draft.consents, created_at, updated_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["ann", "ann@", "@x.nl", "ann@nl", "a b@x.nl", "ann@x."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert!(Phone::parse("+31201234567").is_ok());
        for bad in ["0201234567", "+0201234567", "+31 20 123", "+1234567", "+1234567890123456"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn drafts_refuse_unknown_fields() {
        assert!(serde_json::from_str::<CustomerDraft>(r#"{"name":"Ann","email":"a@x.nl"}"#).is_ok());
        assert!(serde_json::from_str::<CustomerDraft>(r#"{"name":"Ann","email":"a@x.nl","vip":true}"#).is_err());
        assert!(serde_json::from_str::<CustomerDraft>(r#"{"name":"Ann","email":"a@x.nl","consents":{"sms":true}}"#).is_err());
    }
}
