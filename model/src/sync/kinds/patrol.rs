//! Patrols as a synced kind: the server judges a push ([`crate::sync::patrol_judge`]) and voids
//! what the roster does not back: the whole patrol when the walker's claim at its start is
//! stale, an entry when its author's claim is (a companion's confirmation included), an
//! accompaniment when the companion is not who the walker's roster copy said. The judge lets a
//! companion append only their own confirmation.

use crate::case::Author;
use crate::patrol::{
    PATROL_KIND, PatrolAction, PatrolDoc, PatrolEvent, PatrolPlace, fold_patrol_doc,
};
use crate::report::RankingRow;
use crate::sync::kind::{
    Accepted, Host, IndexRow, ListBound, Refused, SyncedKind, server_author, stale_claim,
};
use crate::sync::patrol_judge::judge_patrol;
use crate::sync::scope::patrol_access_keys;

impl SyncedKind for PatrolDoc {
    fn recognises(kind: Option<&str>) -> bool {
        kind == Some(PATROL_KIND)
    }

    fn list_lengths(&self) -> Vec<(ListBound, usize)> {
        let (chunks, log) = PatrolDoc::list_lengths(self);
        vec![(ListBound::TrackChunks, chunks), (ListBound::Entries, log)]
    }

    fn accept(
        before: Option<&mut PatrolDoc>,
        after: &mut PatrolDoc,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused> {
        let is_new = before.is_none();
        let added = judge_patrol(before, after, &host.judging())?;
        let facts = after.facts().map_err(Refused::malformed)?;
        let mut voids = Vec::new();
        if is_new && let Some(reason) = stale_claim(host, &facts.walker) {
            voids.push((facts.id.clone(), reason));
        }
        for e in &added.events {
            let author = match &e.by {
                Author::Person(claim) => stale_claim(host, claim),
                Author::Server { .. } => None,
            };
            // Every entry that names a person's claim has it checked against the roster.
            let companion = match &e.action {
                PatrolAction::Accompanied { companion } => stale_claim(host, companion),
                PatrolAction::Ended
                | PatrolAction::Confirmed { .. }
                | PatrolAction::ServerVoid { .. }
                | PatrolAction::Unknown { .. } => None,
            };
            if let Some(reason) = author.or(companion) {
                voids.push((e.id.clone(), reason));
            }
        }
        for (event, reason) in voids {
            let void = PatrolEvent {
                id: uuid::Uuid::now_v7().to_string(),
                at: host.now(),
                by: server_author(host),
                action: PatrolAction::ServerVoid { event, reason },
            };
            after.append_event(&void).map_err(Refused::internal)?;
        }
        let (facts, state) = fold_patrol_doc(after).map_err(Refused::malformed)?;
        let status = if state.voided.is_some() {
            "voided"
        } else if state.is_ended() {
            "ended"
        } else {
            "walking"
        };
        let grid = match &facts.place {
            PatrolPlace::Grid(g) => g.clone(),
            PatrolPlace::Segment(_) => String::new(),
        };
        Ok(Accepted {
            index: IndexRow {
                number: None,
                status: status.to_string(),
                level: PATROL_KIND.to_string(),
                grid,
                community: facts.community.clone(),
                reporter: facts.walker.person.clone(),
                category: PATROL_KIND.to_string(),
                created_at: facts.started_at,
                ranking: RankingRow::of_patrol(&facts, &state),
            },
            access: patrol_access_keys(&facts, &state),
            photos: Vec::new(),
            case: None,
        })
    }
}
