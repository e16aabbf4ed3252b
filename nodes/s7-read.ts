/**
 * s7-read: reads tags on input, on its own interval, or on change pushed by
 * the controller (a subscription; docs/NODES.md §2). Thin: the work is in src/flow and
 * src/client.
 */
import type { Int64Mode, ReadOutcome } from "../src/client/results.js";
import type { ConnectionStatus } from "../src/client/controller-connection.js";
import type { Subscription, SubscriptionStatus, ValuesEvent, GapEvent } from "../src/client/subscription.js";
import { readRequestFromMessage, readResultMessage } from "../src/flow/read-message.js";
import { changeMessages, subscriptionNodeStatus, type ChangeOutput } from "../src/flow/change-message.js";
import { RepeatedFailureGate, failureReason } from "../src/flow/repeated-failure.js";
import { tagFailureStatus, type NodeStatus } from "../src/flow/status.js";
import { connectionNodeOf, numberProperty, registerWithStatus, showConnectionStatus, tableWarnings, type NodeMessage, type RedNode, type RedRuntime } from "./red.js";

interface ReadConfig {
  id: string;
  name?: string;
  connection?: string;
  tags?: unknown;
  interval?: unknown;
  int64?: unknown;
  /** "input", "interval" or "change"; absent in older flows (then "interval" when an interval is set). */
  trigger?: unknown;
  /** On change: "object" (one message of the changed tags) or "perTag". */
  changeOutput?: unknown;
}

/** Cycle of an on-change node without an interval. */
const DEFAULT_CYCLE_MS = 1000;

const INT64_MODES: readonly Int64Mode[] = ["bigint", "string", "number"];

export = function register(RED: RedRuntime): void {
  function S7ReadNode(this: RedNode, config: ReadConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const tags = Array.isArray(config.tags) ? config.tags.filter((t): t is string => typeof t === "string") : [];
    const int64: Int64Mode = INT64_MODES.includes(config.int64 as Int64Mode) ? (config.int64 as Int64Mode) : "string";
    const owner = connectionNodeOf(RED, config.connection);
    if (owner === undefined) {
      node.status({ fill: "red", shape: "ring", text: "s7-read.errors.noConnection" });
      node.on("input", (_msg, _send, done) => done(new Error(RED._("s7-read.errors.noConnection"))));
      return;
    }
    const interval = numberProperty(config.interval, 0);
    const trigger = config.trigger === "change" || config.trigger === "input" || config.trigger === "interval" ? config.trigger : interval > 0 ? "interval" : "input";
    const changeOutput: ChangeOutput = config.changeOutput === "perTag" ? "perTag" : "object";
    const warnDisagreements = tableWarnings(node);
    let subscription: Subscription | undefined;
    let polling = false;
    let connected = false;
    const showSubscription = (state: SubscriptionStatus): void => {
      const s = subscriptionNodeStatus(state, polling);
      if (s.key === undefined) return node.status({});
      node.status({ ...(s.fill ? { fill: s.fill } : {}), ...(s.shape ? { shape: s.shape } : {}), text: RED._(`s7-read.status.${s.key}`, s.params) });
    };
    // The status: on change, the subscription's while connected; otherwise this node's failed
    // tags while the connection is up; else the connection's state.
    let setTagFailure: (own: NodeStatus | undefined) => void = () => undefined;
    if (trigger === "change") {
      owner.register(node, (status: ConnectionStatus) => {
        connected = status.state === "connected";
        if (connected && subscription !== undefined) showSubscription(subscription.state);
        else showConnectionStatus(RED, node, status);
      });
    } else setTagFailure = registerWithStatus(RED, node, owner);

    const read = async (msg: NodeMessage): Promise<{ msg: NodeMessage; error?: Error; send: boolean; errors?: Record<string, string> }> => {
      const connection = owner.connection;
      if (connection === undefined) throw owner.configError ?? new Error(RED._("s7-read.errors.noConnection"));
      const request = readRequestFromMessage(msg, tags);
      let outcomes: ReadOutcome[];
      const tables = owner.tagTables;
      try {
        // Names of the connection's tag tables are read at the table's address with its type.
        outcomes = tables === undefined ? await connection.read(request.tags) : await tables.through(request.tags.map((tag) => ({ tag })), (items) => connection.read(items.map((i) => i.tag)));
      } catch (err) {
        setTagFailure(undefined); // the connection's own status tells this one
        throw err;
      }
      if (tables?.describesMembers(request.tags)) warnDisagreements(tables.disagreements(outcomes, await owner.controllerTypes()));
      const result = readResultMessage(outcomes, request, int64);
      const failed = outcomes.filter((o) => !o.ok).length;
      setTagFailure(failed > 0 ? tagFailureStatus(failed, outcomes.length) : undefined);
      if (!result.nothingRead) {
        msg.payload = result.payload;
        if (request.single) msg.topic = request.tags[0];
        if (result.errors) msg.errors = result.errors;
        else delete msg.errors;
      }
      const perTag = Object.fromEntries(outcomes.flatMap((o) => (o.ok ? [] : [[o.tag, o.error.message] as const])));
      return { msg, send: !result.nothingRead, ...(result.error ? { error: result.error, errors: perTag } : {}) };
    };

    node.on("input", (msg, send, done) => {
      read(msg).then(
        (r) => {
          if (r.send) send(r.msg);
          done(r.error);
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    // Own interval: one read at a time; a tick while a read is still running is skipped.
    // A failure is reported once per distinct reason, then only shown in the status (README).
    const gate = new RepeatedFailureGate();
    let timer: NodeJS.Timeout | undefined;
    let busy = false;
    const startPolling = (every: number): void => {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        read({}).then(
          (r) => {
            if (r.send) node.send(r.msg);
            if (r.error === undefined) gate.succeeded();
            else if (gate.shouldReport(failureReason(r.error, r.errors))) node.error(r.error, r.msg);
          },
          (err: unknown) => {
            const error = err instanceof Error ? err : new Error(String(err));
            // With a message, so that Catch nodes see a polling failure too.
            if (gate.shouldReport(failureReason(error))) node.error(error, { topic: tags.join(", ") });
          },
        ).finally(() => (busy = false));
      }, every);
    };
    if (trigger === "interval" && interval >= 100) startPolling(interval);

    if (trigger === "change") {
      const connection = owner.connection;
      const configured = tags.map((t) => t.trim()).filter((t) => t !== "");
      const cycleMs = interval >= 100 ? interval : DEFAULT_CYCLE_MS;
      if (connection === undefined || configured.length === 0) {
        node.status({ fill: "red", shape: "ring", text: configured.length === 0 ? "s7-read.errors.noTags" : "s7-read.errors.noConnection" });
      } else {
        // Names of the connection's tag tables are subscribed at the table's address with its type.
        const names = owner.tagTables?.namesFor(configured) ?? { sent: configured, flowName: (t: string) => t };
        try {
          subscription = connection.subscribe(names.sent, { cycleMs });
        } catch (err) {
          node.error(err);
        }
        subscription?.on("values", (event: ValuesEvent) => {
          if (polling) return;
          const changes = event.changes.map((c) => ({ ...c, tag: names.flowName(c.tag) }));
          const { messages, error } = changeMessages({ ...event, changes }, configured, changeOutput, int64);
          for (const m of messages) node.send(m as unknown as NodeMessage);
          if (error) node.error(error);
        });
        subscription?.on("gap", (gap: GapEvent) => node.warn(RED._("s7-read.errors.gap", { reason: gap.message })));
        subscription?.on("state", (state: SubscriptionStatus) => {
          // Refused by the controller (its limits): poll at the cycle time instead, and say so.
          if (state.state === "refused" && !polling) {
            polling = true;
            startPolling(cycleMs);
          } else if (state.state === "subscribed" && polling) {
            // Accepted after all (e.g. after a reconnect): push again, and stop polling.
            polling = false;
            if (timer) clearInterval(timer);
            timer = undefined;
          }
          if (connected) showSubscription(state);
        });
      }
    }

    node.on("close", (_removed, done) => {
      if (timer) clearInterval(timer);
      owner.deregister(node);
      const leaving = subscription?.unsubscribe();
      subscription = undefined;
      if (leaving === undefined) return done();
      leaving.then(() => done(), () => done());
    });
  }
  RED.nodes.registerType("s7-read", S7ReadNode);
};
