//! Proof of work at `hello` (issue 8), switched on: every chatter socket gets its own challenge,
//! and `hello` without a proof, with a wrong one, or with another socket's is refused with a
//! clear code while the socket stays open to try again.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::spawn_app_with;
use crate::support::*;

const BITS: u32 = 16;

fn solves(challenge: &str, nonce: &str) -> bool {
    let digest = Sha256::digest(format!("{challenge}{nonce}").as_bytes());
    let mut zeros = 0;
    for byte in digest {
        zeros += byte.leading_zeros();
        if byte != 0 {
            break;
        }
    }
    zeros >= BITS
}

fn solve(challenge: &str) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|nonce| solves(challenge, nonce))
        .unwrap()
}

/// A chatter socket and the challenge it was given as its first frame.
async fn challenged(app: &crate::common::TestApp, name: &str) -> (Client, String) {
    let mut client = chatter_socket(app, name).await;
    let first = client.next().await;
    assert_eq!(first["type"], "challenge", "the first frame: {first}");
    assert_eq!(first["bits"], BITS, "{first}");
    let challenge = first["challenge"].as_str().unwrap().to_string();
    assert_eq!(challenge.len(), 32, "128 random bits in hex: {first}");
    (client, challenge)
}

#[tokio::test]
async fn hello_needs_a_proof_of_work_for_its_own_sockets_challenge() {
    let app = spawn_app_with(|c| c.protection.hello_proof_of_work_bits = BITS as u8).await;
    let _sam = available_advocate(&app, "proof-sam-1", "Advocate Sam").await;
    let (mut first, first_challenge) = challenged(&app, "first").await;
    let (mut second, second_challenge) = challenged(&app, "second").await;
    assert_ne!(
        first_challenge, second_challenge,
        "a fresh challenge per socket"
    );

    first.send(json!({"type": "hello"})).await;
    first.expect_error("proof_required").await;
    let wrong = (0u64..)
        .map(|n| n.to_string())
        .find(|nonce| !solves(&first_challenge, nonce))
        .unwrap();
    first.send(json!({"type": "hello", "proof": wrong})).await;
    first.expect_error("proof_invalid").await;

    // A proof is worth nothing on another socket: it cannot be computed ahead or replayed.
    let proof = solve(&first_challenge);
    if !solves(&second_challenge, &proof) {
        second.send(json!({"type": "hello", "proof": proof})).await;
        second.expect_error("proof_invalid").await;
    }

    // The right proof on its own socket starts the chat.
    first.send(json!({"type": "hello", "proof": proof})).await;
    assert_eq!(first.expect("welcome").await["resumed"], false);
    first.expect("queued").await;
    let proof = solve(&second_challenge);
    second.send(json!({"type": "hello", "proof": proof})).await;
    second.expect("welcome").await;
}

#[tokio::test]
async fn without_proof_of_work_the_first_frame_is_the_servers_answer_to_hello() {
    let app = spawn_app_with(|_| {}).await;
    let mut client = chatter_socket(&app, "no proof").await;
    client.send(json!({"type": "hello"})).await;
    let first = client.next().await;
    assert_eq!(first["type"], "offline", "{first}");
}
