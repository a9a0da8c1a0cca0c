//! WeCom (企业微信): the server API client ([`client`]: disable and read back members, text-card messages
//! paced per member, check-in data) and the callback crypto ([`crypto`]: WeCom signs and AES-encrypts every
//! callback it sends and expects replies encrypted the same way), and the events read from callbacks
//! ([`callback`]).

pub mod callback;
pub mod client;
pub mod crypto;
mod xml;
