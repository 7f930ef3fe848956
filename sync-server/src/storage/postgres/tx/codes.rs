//! Enrolment codes: [`crate::storage::EnrolTx`] on a PostgreSQL transaction.

use super::PgTx;
use crate::storage::{CodeRow, EnrolTx, Result};
use xiangying_model::ids::PersonId;

impl EnrolTx for PgTx<'_> {
    fn insert_code(&mut self, code_hash: &str, person: &PersonId, now: i64) -> Result<()> {
        let person = person.as_str();
        self.execute(
            "INSERT INTO codes (code_hash, person, created_at) VALUES ($1, $2, $3)",
            &[&code_hash, &person, &now],
        )?;
        Ok(())
    }

    fn take_code(&mut self, code_hash: &str, now: i64) -> Result<Option<PersonId>> {
        self.query_opt(
            "UPDATE codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
             RETURNING person",
            &[&code_hash, &now],
        )?
        .map(|r| Ok(r.try_get::<_, String>(0)?.into()))
        .transpose()
    }

    fn code(&mut self, code_hash: &str) -> Result<Option<CodeRow>> {
        self.query_opt(
            "SELECT person, created_at, used_at FROM codes WHERE code_hash = $1",
            &[&code_hash],
        )?
        .map(|r| {
            Ok(CodeRow {
                person: r.try_get::<_, String>(0)?.into(),
                created_at: r.try_get(1)?,
                used_at: r.try_get(2)?,
            })
        })
        .transpose()
    }

    fn revoke_code(&mut self, code_hash: &str) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM codes WHERE code_hash = $1 AND used_at IS NULL",
            &[&code_hash],
        )? > 0)
    }
}
