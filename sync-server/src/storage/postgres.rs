//! The PostgreSQL backend (to be written).
