//! The single integration-test binary (one link step instead of one per file).

mod access;
mod apply;
mod apply_output;
mod catalog;
mod ci_examples;
mod endpoint;
mod export;
mod guards;
mod hostile;
mod layers;
mod limits;
mod manageable;
mod names;
mod openapi;
mod output_schemas;
mod plan;
mod policies;
mod sandbox;
mod saved_plans;
mod scale;
mod support;
mod tables;
mod validate;
mod vendor_nexudus;
