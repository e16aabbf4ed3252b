/**
 * One user's subscription to a set of tags (handed out by
 * ControllerConnection.subscribe): events, its state and unsubscribe().
 *
 * Events:
 * - "values" (ValuesEvent): first every tag's value (initial: true), then
 *   the tags that changed; again a full set after every gap;
 * - "gap" (GapEvent): values may have been missed (connection lost,
 *   switched, program changed, push session lost); a full set follows once
 *   the subscription is re-created;
 * - "state" (SubscriptionStatus): pending / subscribed / refused / closed;
 * - "error" (S7Error): only when someone listens (a refusal, a lost push
 *   session); the state carries the same reason.
 */
import { EventEmitter } from "node:events";
import type { S7Error } from "../errors.js";
import type { ReadOutcome } from "./results.js";

/** The shortest cycle a client asks for: 100 ms, the lowest published for real CPUs (docs/PROTOCOL.md §24.1). */
export const MIN_CYCLE_MS = 100;

export interface SubscribeOptions {
  /** Cycle time in ms (default 1000; at least MIN_CYCLE_MS). */
  cycleMs?: number;
}

export interface ValuesEvent {
  /** One outcome per tag: all tags when `initial`, else the changed ones. */
  changes: ReadOutcome[];
  initial: boolean;
  /** The controller's timestamp of the notification, when it carries one. */
  timestamp?: Date;
}

export type GapReason = "reconnect" | "switch" | "program-change" | "push-session-lost";

export interface GapEvent {
  reason: GapReason;
  message: string;
}

export type SubscriptionStateName = "pending" | "subscribed" | "refused" | "closed";

export interface SubscriptionStatus {
  state: SubscriptionStateName;
  tags: number;
  cycleMs: number;
  /** Why the state is "refused" (or "pending" after a failure). */
  reason?: S7Error;
}

/** What a handle needs of its manager. */
export interface SubscriptionOwner {
  remove(handle: Subscription): Promise<void>;
}

export class Subscription extends EventEmitter {
  private status: SubscriptionStatus;
  /** Whether the full set has been delivered since the last (re)creation. */
  initialSent = false;

  constructor(
    readonly tags: readonly string[],
    readonly cycleMs: number,
    private readonly owner: SubscriptionOwner,
  ) {
    super();
    this.status = { state: "pending", tags: tags.length, cycleMs };
  }

  get state(): SubscriptionStatus {
    return { ...this.status };
  }

  /** Leaves the subscription; the controller's subscription is deleted when its last user leaves. */
  async unsubscribe(): Promise<void> {
    if (this.status.state === "closed") return;
    await this.owner.remove(this);
    this.setState("closed");
    this.removeAllListeners();
  }

  /** Sets the state and tells listeners when it changed. */
  setState(state: SubscriptionStateName, reason?: S7Error): void {
    if (this.status.state === "closed") return;
    const same = this.status.state === state && this.status.reason === reason;
    this.status = { state, tags: this.tags.length, cycleMs: this.cycleMs, ...(reason === undefined ? {} : { reason }) };
    if (same) return;
    this.emit("state", this.state);
    if (reason !== undefined && this.listenerCount("error") > 0) this.emit("error", reason);
  }
}
