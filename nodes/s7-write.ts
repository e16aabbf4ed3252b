/** s7-write: writes one tag or many (docs/NODES.md §2); values are checked before anything is sent. */
import { nothingWritten, writeEntriesFromMessage, writeResultMessage } from "../src/flow/write-message.js";
import { tagFailureStatus } from "../src/flow/status.js";
import { connectionNodeOf, registerWithStatus, tableWarnings, type RedNode, type RedRuntime } from "./red.js";

interface WriteConfig {
  id: string;
  name?: string;
  connection?: string;
  tag?: unknown;
}

export = function register(RED: RedRuntime): void {
  function S7WriteNode(this: RedNode, config: WriteConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const tag = typeof config.tag === "string" ? config.tag : "";
    const owner = connectionNodeOf(RED, config.connection);
    if (owner === undefined) {
      node.status({ fill: "red", shape: "ring", text: "s7-write.errors.noConnection" });
      node.on("input", (_msg, _send, done) => done(new Error(RED._("s7-write.errors.noConnection"))));
      return;
    }
    // The status: this node's tags not written by its last message while the connection is up, else the connection's state.
    const setTagFailure = registerWithStatus(RED, node, owner);
    const warnDisagreements = tableWarnings(node);

    node.on("input", (msg, send, done) => {
      void (async () => {
        try {
          const connection = owner.connection;
          if (connection === undefined) throw owner.configError ?? new Error(RED._("s7-write.errors.noConnection"));
          const entries = writeEntriesFromMessage(msg, tag);
          const tables = owner.tagTables;
          // Names of the connection's tag tables are written at the table's address with its type.
          const outcomes = tables === undefined ? await connection.write(entries) : await tables.through(entries, (items) => connection.write(items));
          if (tables?.describesMembers(entries.map((e) => e.tag))) warnDisagreements(tables.disagreements(outcomes, await owner.controllerTypes()));
          const result = writeResultMessage(outcomes);
          const failed = outcomes.filter((o) => !o.ok).length;
          setTagFailure(failed > 0 ? tagFailureStatus(failed, outcomes.length) : undefined);
          // A batch refused before sending (a bad name or value) produces no output, only the error.
          if (!nothingWritten(outcomes)) {
            msg.result = result.result;
            send(msg);
          }
          done(result.error);
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on("close", (_removed, done) => {
      owner.deregister(node);
      done();
    });
  }
  RED.nodes.registerType("s7-write", S7WriteNode);
};
