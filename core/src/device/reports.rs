//! Reports on the device: the rankings over the cases the device holds, and the street
//! chiefs' notice boards from its roster copy. Both are the same core functions the server
//! runs ([`crate::report`]).

use super::Device;
use crate::error::Result;
use crate::report::{NoticeBoard, Rankings, RankingsBuilder};

impl Device {
    /// The rankings over `[from, to)` (ms since the epoch) of every case and patrol this
    /// device holds.
    /// A device holds only the cases of its scope, so its figures cover that scope; the
    /// server's cover the whole street. Same cases, same figures.
    pub fn rankings(&self, from: i64, to: i64) -> Result<Rankings> {
        let mut b = RankingsBuilder::new(from, to);
        for summary in self.all_cases(u32::MAX)? {
            let view = self.case(&summary.id)?;
            b.add(&view.facts, &view.state);
        }
        for (facts, state) in self.folded_patrols()? {
            b.add_patrol(&facts, &state);
        }
        Ok(b.finish())
    }

    /// The notice boards (街长公示栏) of the installed roster's segments.
    pub fn notice_board(&self) -> Result<NoticeBoard> {
        Ok(NoticeBoard::of(&self.org()?.roster))
    }

    /// The notice boards as one printable, self-contained HTML page.
    pub fn notice_board_html(&self) -> Result<String> {
        Ok(self.notice_board()?.html())
    }
}
