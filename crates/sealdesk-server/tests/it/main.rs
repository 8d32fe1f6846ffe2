//! Integration tests of the server through real HTTP on 127.0.0.1 (one test binary).

mod edge;
mod openapi;
mod system;
mod tls;
