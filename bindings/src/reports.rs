//! Reports on [`XiangyingDevice`]: the evaluation rankings over the cases and patrols the
//! device holds (loading every document, so on a worker thread), and the street chiefs'
//! notice boards from its roster copy (blocking, quick). The core computes both with the same
//! functions the server runs, so the same cases and patrols give the same figures everywhere.

use crate::device::{XiangyingDevice, on_worker};
use crate::error::{ApiError, ApiResult};
use crate::report_types::{NoticeBoard, Rankings};
use std::sync::Arc;

#[uniffi::export]
impl XiangyingDevice {
    /// The rankings (绩效排名) of the grids, communities, departments and people over
    /// `[from_ms, to_ms)`, from every case and patrol this device holds, on a worker thread
    /// (it loads each one's document). A device holds only the cases of its person's
    /// scope, so its figures cover that scope; the server's cover the whole street.
    ///
    /// A case counts unless voided or a duplicate, for its grid, its community, every
    /// department it was dispatched to, and its handler (who last reported the work done,
    /// else the person it waits on). Times are the devices' times of the work. 立案 = raised
    /// in the period; 结案 = closed in it; 应结案 = deadline in it, or closed in it; 按期结案 =
    /// closed with the work done by the deadline; rates and the score as in `RankedUnit`.
    /// Ranked by score, then more 结案, then more 立案, then id.
    ///
    /// Patrols started in the period count beside the cases (not in the score), unless a
    /// server voided them: 巡查次数, 巡查时长 and 陪同巡查次数 (accompanied by somebody) for the
    /// grid of a grid patrol, the place's community and the walker; 参与陪同次数 for each
    /// companion and a companion's department. A unit with patrols only has no rank.
    ///
    /// Errors: `InvalidInput` with field `to_ms` (before `from_ms`), `CorruptCase` (a stored
    /// case or patrol that cannot be read). Once started it runs to its end even if the caller stops
    /// waiting.
    pub async fn rankings(&self, from_ms: i64, to_ms: i64) -> ApiResult<Rankings> {
        if to_ms < from_ms {
            return Err(ApiError::InvalidInput {
                field: "to_ms".into(),
                problem: format!("the period ends ({to_ms}) before it starts ({from_ms})"),
            });
        }
        let device = Arc::clone(&self.device);
        on_worker("xiangying-rankings", move |_| {
            let rankings = device.rankings(from_ms, to_ms)?;
            let roster = device.roster().ok();
            Ok(Rankings::of(rankings, roster.as_ref()))
        })
        .await
    }

    /// The notice boards (街长公示栏) of the street's road segments from the device's roster
    /// copy: per segment, its street chiefs, the grid workers of the grids it runs along and
    /// the enforcement (and greening) staff, with names, phones and duties. `NotSetUp`
    /// without a roster.
    pub fn notice_board(&self) -> ApiResult<NoticeBoard> {
        Ok(self.device.notice_board()?.into())
    }

    /// The notice boards as one printable, self-contained HTML page (inline CSS, A4 print
    /// styles, one block per segment, each on its own page when printed; all roster text
    /// escaped): show it in a web view or hand it to the platform's print service.
    /// `NotSetUp` without a roster.
    pub fn notice_board_html(&self) -> ApiResult<String> {
        Ok(self.device.notice_board_html()?)
    }
}
