//! The HTTP/1.x data path: heads parsed with httparse, headers rewritten as
//! HAProxy 2.6 sends them, bodies streamed.
pub mod auth;
pub mod cookie;
pub mod errors;
pub mod io;
pub mod legacy;
pub mod parse;
pub mod pool;
pub mod reply;
pub mod rules;
pub mod stream;
