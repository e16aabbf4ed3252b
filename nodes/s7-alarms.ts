/**
 * s7-alarms: the controller's alarms as messages (issue 18): one message
 * per alarm event, `msg.action` "ack" / "list" on input, the counts in the
 * status. Thin: the work is in src/flow/alarm-message.ts and src/client/alarms.ts.
 */
import type { ConnectionStatus } from "../src/client/controller-connection.js";
import type { AlarmEvent, AlarmStatus, Alarms } from "../src/client/alarms.js";
import { alarmActionFromMessage, alarmEventMessage, alarmListMessage, alarmNodeStatus } from "../src/flow/alarm-message.js";
import { S7Error } from "../src/errors.js";
import { connectionNodeOf, showConnectionStatus, type NodeMessage, type RedNode, type RedRuntime } from "./red.js";

interface AlarmsConfig {
  id: string;
  name?: string;
  connection?: string;
  language?: unknown;
}

export = function register(RED: RedRuntime): void {
  function S7AlarmsNode(this: RedNode, config: AlarmsConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const language = typeof config.language === "string" && config.language !== "" ? config.language : "en-US";
    const owner = connectionNodeOf(RED, config.connection);
    if (owner === undefined) {
      node.status({ fill: "red", shape: "ring", text: "s7-alarms.errors.noConnection" });
      node.on("input", (_msg, _send, done) => done(new Error(RED._("s7-alarms.errors.noConnection"))));
      return;
    }
    let alarms: Alarms | undefined;
    let connected = false;
    const showAlarms = (status: AlarmStatus): void => {
      const s = alarmNodeStatus(status);
      if (s.key === undefined) return node.status({});
      node.status({ ...(s.fill ? { fill: s.fill } : {}), ...(s.shape ? { shape: s.shape } : {}), text: RED._(`s7-alarms.status.${s.key}`, s.params) });
    };
    owner.register(node, (status: ConnectionStatus) => {
      connected = status.state === "connected";
      if (connected && alarms !== undefined) showAlarms(alarms.status);
      else showConnectionStatus(RED, node, status);
    });
    try {
      alarms = owner.connection?.alarms({ language });
    } catch (err) {
      node.error(err);
    }
    alarms?.on("event", (e: AlarmEvent) => node.send(alarmEventMessage(e) as unknown as NodeMessage));
    alarms?.on("state", (status: AlarmStatus) => {
      if (connected) showAlarms(status);
    });

    node.on("input", (msg, send, done) => {
      void (async () => {
        try {
          if (alarms === undefined) throw owner.configError ?? new Error(RED._("s7-alarms.errors.noConnection"));
          const action = alarmActionFromMessage(msg);
          if (action.action === "list") {
            send({ ...msg, ...alarmListMessage(alarms.active()) } as NodeMessage);
          } else {
            msg.acknowledged = await alarms.acknowledge(action.which);
          }
          done();
        } catch (err) {
          // Keys of the node's own catalogue are translated; other errors speak for themselves.
          if (err instanceof S7Error && err.message.startsWith("s7-alarms.")) return done(new Error(RED._(err.message)));
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on("close", (_removed, done) => {
      owner.deregister(node);
      const leaving = alarms?.close();
      alarms = undefined;
      if (leaving === undefined) return done();
      leaving.then(() => done(), () => done());
    });
  }
  RED.nodes.registerType("s7-alarms", S7AlarmsNode);
};
