import assert from "node:assert/strict";
import { StoreBoard } from "./store_board.ts";

const failed = (pending: number) =>
  ({ type: "write_failed", channelId: "1", error: "database or disk is full", pending }) as const;

Deno.test("StoreBoard is writable until a host's store refuses, and again once it recovers", () => {
  const board = new StoreBoard();
  assert.deepEqual(board.health, {
    writable: true,
    pendingWrites: 0,
    writeFailures: 0,
    writesDropped: 0,
  });
  board.report(1, failed(2), false, 2);
  board.report(0, { type: "recovered", written: 0 }, true, 0);
  assert.deepEqual(board.health, {
    writable: false,
    pendingWrites: 2,
    writeFailures: 1,
    writesDropped: 0,
  });
  board.report(1, { type: "recovered", written: 2 }, true, 0);
  assert.equal(board.health.writable, true);
  assert.equal(board.health.writeFailures, 1, "failures are a running total");
});

Deno.test("StoreBoard counts dropped writes and the writes a dead host held", () => {
  const board = new StoreBoard();
  board.report(0, failed(3), false, 3);
  board.report(
    0,
    { type: "dropped", reason: "queue_full", count: 1, error: "database or disk is full" },
    false,
    3,
  );
  assert.equal(board.hostDied(0), 3);
  assert.equal(board.hostDied(0), 0, "a host is lost once");
  assert.deepEqual(board.health, {
    writable: true,
    pendingWrites: 0,
    writeFailures: 1,
    writesDropped: 4,
  });
});
