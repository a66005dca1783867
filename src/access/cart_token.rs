//! A cart's capability token: a random secret handed out once when the cart is created
//! (and when it is rotated), which lets a publishable key act on that one guest cart.
//! The cart keeps only its SHA-256 hash.

use super::{key_hash, secrets_match, AccessError};
use serde::{Deserialize, Serialize};

/// The prefix of cart tokens, so a leaked one is recognisable.
pub const CART_TOKEN_PREFIX: &str = "ct_";

/// A token as presented in `X-Cart-Token` (or just minted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CartToken(String);

/// What a cart stores of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CartTokenHash(String);

impl CartToken {
    /// A token from fresh randomness (hex), e.g. two v4 UUIDs.
    pub fn from_random_hex(hex: &str) -> Self {
        CartToken(format!("{CART_TOKEN_PREFIX}{hex}"))
    }

    /// A token as sent by a caller; anything not shaped like one is simply not this cart's.
    pub fn presented(text: &str) -> Self {
        CartToken(text.trim().to_owned())
    }

    pub fn hash(&self) -> CartTokenHash {
        CartTokenHash(key_hash(&self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl CartTokenHash {
    /// Whether `presented` is the token this hash was made from (compared in constant time).
    pub fn admits(&self, presented: Option<&CartToken>) -> Result<(), AccessError> {
        let presented = presented.ok_or(AccessError::CartTokenRequired)?;
        if secrets_match(&presented.hash().0, &self.0) {
            Ok(())
        } else {
            Err(AccessError::CartTokenInvalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_minted_token_admits() {
        let token = CartToken::from_random_hex("ab12");
        let hash = token.hash();
        assert!(hash.admits(Some(&CartToken::presented(" ct_ab12 "))).is_ok());
        assert_eq!(hash.admits(Some(&CartToken::presented("ct_ab13"))), Err(AccessError::CartTokenInvalid));
        assert_eq!(hash.admits(None), Err(AccessError::CartTokenRequired));
    }
}
