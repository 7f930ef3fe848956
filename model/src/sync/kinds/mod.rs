//! The built-in document kinds as the sync sees them: how the server accepts a push to a case
//! ([`case`]) and to a patrol ([`patrol`]).

mod case;
mod patrol;

#[cfg(test)]
mod tests;
