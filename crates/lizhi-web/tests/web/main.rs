//! End-to-end tests of the HTTP layer on a fresh database (SQLite, or PostgreSQL when
//! `LIZHI_TEST_DATABASE_URL` is set) and a real socket on port 0. One test binary, one module per area.

mod attendance;
mod auth;
mod browser;
mod cases;
mod connectors;
mod evidence;
mod imports;
mod people;
mod routes;
mod scans;
mod support;
