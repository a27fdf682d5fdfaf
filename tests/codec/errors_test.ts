// The error family: each carries the SPOP status the agent would send, a name to tell them apart,
// and a message that says what failed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MalformedFrameError, PeerDisconnectError, SpopError } from "../../src/codec/errors.ts";
import { Status } from "../../src/codec/status.ts";

test("SpopError carries its status, its name and HAProxy's text unless told otherwise", () => {
  const plain = new SpopError(Status.FrameTooBig);
  assert.ok(plain instanceof Error);
  assert.equal(plain.name, "SpopError");
  assert.equal(plain.status, 3);
  assert.equal(plain.message, "frame is too big");
  const cause = new Error("underneath");
  const told = new SpopError(Status.Unknown, "what went wrong", { cause });
  assert.equal(told.message, "what went wrong");
  assert.equal(told.cause, cause);
  assert.match(String(told), /^SpopError: what went wrong$/);
});

test("MalformedFrameError says where decoding failed and reports status 4 by default", () => {
  const error = new MalformedFrameError("Cannot decode frame: bad thing", 17);
  assert.ok(error instanceof SpopError);
  assert.equal(error.name, "MalformedFrameError");
  assert.equal(error.offset, 17);
  assert.equal(error.status, Status.InvalidFrame);
  assert.equal(error.message, "Cannot decode frame: bad thing (at byte 17)");
  assert.equal(new MalformedFrameError("too big", 0, Status.FrameTooBig).status, 3);
});

test("PeerDisconnectError keeps HAProxy's status and message, and falls back to HAProxy's text", () => {
  const said = new PeerDisconnectError(Status.Timeout, "idle for too long");
  assert.ok(said instanceof SpopError);
  assert.equal(said.name, "PeerDisconnectError");
  assert.equal(said.status, 2);
  assert.equal(said.peerMessage, "idle for too long");
  assert.equal(said.message, "HAProxy disconnected: idle for too long (status 2)");
  const silent = new PeerDisconnectError(Status.InvalidFrame, "");
  assert.equal(silent.peerMessage, "");
  assert.equal(silent.message, "HAProxy disconnected: invalid frame received (status 4)");
});
