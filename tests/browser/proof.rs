//! Proof of work at hello, switched on: the real chatter page solves its socket's challenge
//! with WebCrypto and chats as usual. What solving costs this machine's Chromium is measured on
//! demand (`proof_of_work_cost`, ignored in the suite: a measurement, not a check), recorded in
//! docs/benchmarks.md.

use crate::{
    add_advocate, chatter_start, claim_first, common, console_login, go_available,
    harness::{chromium_available, Chrome, Key},
    ACTIVE,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chatter_page_solves_the_proof_of_work_and_chats() {
    if !chromium_available() {
        return;
    }
    let app = common::spawn_app_with(|c| c.protection.hello_proof_of_work_bits = 12).await;
    add_advocate(&app, "sam");
    let chrome = Chrome::launch().await;
    let sam_tab = console_login(&chrome, &app, "sam").await;
    go_available(&sam_tab).await;

    // `chatter_start` waits for the place in line: only a solved hello gets one.
    let chatter = chatter_start(&chrome, &app.url("/chat")).await;
    claim_first(&sam_tab).await;
    chatter.type_into("#message", "solved and talking").await;
    chatter.press(Key::Enter).await;
    sam_tab
        .wait_text(
            &format!("{ACTIVE} [data-testid=chat-log]"),
            "solved and talking",
        )
        .await;

    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for docs/benchmarks.md; run on demand with --ignored --nocapture"]
async fn proof_of_work_cost() {
    let app = common::spawn_app().await;
    let chrome = Chrome::launch().await;
    let chatter = chrome.new_context().await;
    chatter.goto(&app.url("/chat")).await;
    // What it costs here: the page's own solver on fresh challenges (the work is random: one
    // challenge may take several times another).
    for (bits, runs) in [(16, 3), (18, 3), (20, 1)] {
        let js = format!(
            "import('/chat/proof.js').then(async (m) => {{ const times = []; \
             for (let i = 0; i < {runs}; i += 1) {{ const c = crypto.randomUUID().replaceAll('-', ''); \
             const t = performance.now(); await m.solve(c, {bits}); times.push(performance.now() - t); }} \
             return times.map(Math.round); }})"
        );
        let times: Vec<f64> = chatter.eval(&js).await;
        eprintln!("proof of work, {bits} bits: {times:?} ms in Chromium here");
    }
    chrome.close().await;
}
