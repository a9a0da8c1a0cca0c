//! Lizhi's pure domain: values that validate on construction, organisation rules, roles and permissions.
//!
//! Nothing here does IO or async work, so every rule can be tested quickly and reused by the store,
//! the use cases, the web layer and the CLI without dragging their dependencies along.

pub mod absence;
pub mod auth;
pub mod backtest;
pub mod calendar;
pub mod case;
pub mod connector;
pub mod evidence;
pub mod field;
pub mod graph;
pub mod merkle;
pub mod model;
pub mod policy;
pub mod tsp;
pub mod values;

pub use field::FieldError;
pub use values::{
    CountryCode, Email, EmployeeNo, EntityCode, Mobile, OrgUnitCode, PolicyProfile, TimeZoneName, WorkDate,
};
