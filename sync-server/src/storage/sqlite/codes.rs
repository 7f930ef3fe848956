//! Enrolment codes: [`crate::storage::EnrolTx`] on the SQLite transaction.

use super::{Cached, SqliteTx};
use crate::storage::{CodeRow, EnrolTx, Result};
use rusqlite::{OptionalExtension, params};
use xiangying_model::ids::PersonId;

impl EnrolTx for SqliteTx<'_> {
    fn insert_code(&mut self, code_hash: &str, person: &PersonId, now: i64) -> Result<()> {
        self.tx.exec(
            "INSERT INTO codes (code_hash, person, created_at) VALUES (?1, ?2, ?3)",
            params![code_hash, person.as_str(), now],
        )?;
        Ok(())
    }

    fn take_code(&mut self, code_hash: &str, now: i64) -> Result<Option<PersonId>> {
        Ok(self
            .tx
            .query_row(
                "UPDATE codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL
                 RETURNING person",
                params![code_hash, now],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(PersonId::from))
    }

    fn code(&mut self, code_hash: &str) -> Result<Option<CodeRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT person, created_at, used_at FROM codes WHERE code_hash = ?1",
                [code_hash],
                |r| {
                    Ok(CodeRow {
                        person: r.get::<_, String>(0)?.into(),
                        created_at: r.get(1)?,
                        used_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn revoke_code(&mut self, code_hash: &str) -> Result<bool> {
        Ok(self.tx.exec(
            "DELETE FROM codes WHERE code_hash = ?1 AND used_at IS NULL",
            [code_hash],
        )? > 0)
    }
}
