// Proof of work at hello, when the program switched it on (see docs/protocol.md): find a nonce
// such that SHA-256(challenge + nonce) starts with `bits` zero bits. Digests run in batches
// whose promises resolve as separate tasks, so the page keeps answering while it works.

const BATCH = 256;
const encoder = new TextEncoder();

function zeroBits(bytes) {
  let zeros = 0;
  for (const b of bytes) {
    if (b === 0) { zeros += 8; continue; }
    return zeros + Math.clz32(b) - 24;
  }
  return zeros;
}

export async function solve(challenge, bits) {
  for (let start = 0; ; start += BATCH) {
    const tries = [];
    for (let n = start; n < start + BATCH; n += 1) {
      tries.push(crypto.subtle.digest('SHA-256', encoder.encode(challenge + n)));
    }
    const digests = await Promise.all(tries);
    const hit = digests.findIndex((d) => zeroBits(new Uint8Array(d)) >= bits);
    if (hit >= 0) return String(start + hit);
  }
}
