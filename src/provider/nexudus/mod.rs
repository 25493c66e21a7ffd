//! Stage `provider`, the Nexudus implementation of the provider boundary (work in progress:
//! the wire is defined; the client and the mapping follow).

pub mod wire;
