//! Wire types of the partner API (SPEC §7), shared by the HTTP client and the sandbox.
//! Pure data: no I/O.
