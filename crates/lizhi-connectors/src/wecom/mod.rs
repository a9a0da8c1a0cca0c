//! WeCom (企业微信). For now only the callback crypto: WeCom signs and AES-encrypts every callback it sends
//! (URL verification and POSTed events) and expects replies encrypted the same way.

pub mod crypto;
mod xml;
