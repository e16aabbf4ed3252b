/**
 * s7-switch-connection: the system tags ForceConnectionState,
 * UseAlternativeAddress and AlternativeAddress as messages, the actions
 * "switch" / "switchBack", and a message on every change (docs/NODES.md §2, §3).
 */
import { switchCommandFromMessage, switchStatusPayload } from "../src/flow/switch-message.js";
import { COMMAND_REJECTED_STATUS } from "../src/flow/status.js";
import { connectionNodeOf, registerWithStatus, type RedNode, type RedRuntime } from "./red.js";

interface SwitchConfig {
  id: string;
  name?: string;
  connection?: string;
}

export = function register(RED: RedRuntime): void {
  function S7SwitchConnectionNode(this: RedNode, config: SwitchConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const owner = connectionNodeOf(RED, config.connection);
    if (owner === undefined) {
      node.status({ fill: "red", shape: "ring", text: "s7-switch-connection.errors.noConnection" });
      node.on("input", (_msg, _send, done) => done(new Error(RED._("s7-switch-connection.errors.noConnection"))));
      return;
    }
    const topic = `@${owner.connectionName}@state`;
    let last = "";
    // A rejected command shows until the next command succeeds; otherwise the connection's state.
    const setRejected = registerWithStatus(RED, node, owner, {
      ownAlways: true,
      onStatus: (status) => {
        const payload = switchStatusPayload(owner.connectionName, status);
        const text = JSON.stringify(payload);
        if (text === last) return;
        last = text;
        node.send({ topic, payload });
      },
    });

    node.on("input", (msg, send, done) => {
      void (async () => {
        try {
          const connection = owner.connection;
          if (connection === undefined) throw owner.configError ?? new Error(RED._("s7-switch-connection.errors.noConnection"));
          const command = switchCommandFromMessage(msg, owner.connectionName);
          if (command.kind === "action") await connection.switchTo(command.action === "switch");
          else if (command.kind === "set") for (const [tag, value] of command.values) await connection.setSystemTag(tag, value);
          else send({ ...msg, topic, payload: switchStatusPayload(owner.connectionName, connection.status) });
          setRejected(undefined);
          done();
        } catch (err) {
          setRejected(COMMAND_REJECTED_STATUS);
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on("close", (_removed, done) => {
      owner.deregister(node);
      done();
    });
  }
  RED.nodes.registerType("s7-switch-connection", S7SwitchConnectionNode);
};
