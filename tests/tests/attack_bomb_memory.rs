//! A crafted 1 MB push that inflates to 1 GiB must not grow the server's memory by more than
//! 200 MB (the server runs in this test process, alone in its own test binary so that nothing
//! else allocates meanwhile).

use xiangying_tests::attack::{
    frame_chunk, one_case_street, peak_rss, refusal, reset_peak_rss, rss,
};
use xiangying_tests::push_raw;

#[test]
fn a_one_megabyte_bomb_costs_the_server_little_memory() {
    let (f, id) = one_case_street(None);
    let bomb = frame_chunk(2, include_bytes!("../fixtures/attacks/deflate-bomb.bin"));
    assert!(bomb.len() < 1_100_000);
    let base = rss();
    reset_peak_rss();
    for _ in 0..3 {
        let (status, body) = push_raw(&f, "gw1", &id, bomb.clone());
        assert_eq!(status, 413, "{body}");
        assert_eq!(refusal(&body).0, "over_limit");
    }
    let growth = peak_rss().saturating_sub(base);
    println!("peak RSS growth over three bombs: {} KiB", growth >> 10);
    assert!(growth < 200 << 20, "the peak grew by {} MB", growth >> 20);
    f.dev("gw1").note(&id, "still here").unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
}
