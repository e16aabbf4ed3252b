/**
 * Data subscriptions of one simulated session (docs/SIMULATOR.md
 * "Subscriptions", docs/PROTOCOL.md §24): several per session, limited
 * controller-wide by the SystemLimits the controller reports; every cycle
 * the subscribed items are read and compared with what was last sent, so
 * animations and writes by any client show up; the first notification
 * carries every item. Credits stop the notifications at the limit until the
 * client raises it; −1 never stops.
 *
 * Each notification is one PDU sent on its own (the secure channel puts each
 * fragment in its own TLS record), never between the fragments of an answer:
 * the simulator answers a request in one synchronous step.
 */
import { encodePValue, type PValue } from "../protocol/pvalue.js";
import { CURRENT_NOTIFICATION_ID, encodeNotification, type NotificationEntry } from "../protocol/messages/notification.js";
import { ROUTE_MODE_CHANGES_ONLY, UNLIMITED_CREDITS, type ParsedSubscription } from "../protocol/messages/subscription.js";
import type { ItemAddress } from "../protocol/address.js";

/** Controller-wide limits and what is in use (SystemLimits 1037 / FreeItems 1081, LIDs 0 and 1). */
export interface SubscriptionLimits {
  /** Most subscriptions (LID 0). */
  subscriptionsMax: number;
  /** Most subscribed items (LID 1). */
  itemsMax: number;
  /** Shortest cycle; a shorter one requested is raised to it. */
  minCycleMs: number;
  inUse: { subscriptions: number; items: number };
}

/** What the subscriptions need from their session and connection. */
export interface SubscriptionHost {
  /** The current value of an item, or a negative item code. */
  read(address: ItemAddress): PValue | number;
  /** Sends one notification PDU (protocol V2); false when the connection is gone. */
  send(pdu: Buffer): boolean;
  limits: SubscriptionLimits;
  /** Counts notifications sent and subscriptions reset (the simulator's stats). */
  stats: { notifications: number; subscriptionsReset: number };
}

/** The reason a subscription is refused: the low-16-bit code of its ReturnValue. */
export const SubscriptionRefusal = {
  SystemLimitExceeded: -501,
  InvalidArgument: -6,
} as const;

interface Running {
  id: number;
  spec: ParsedSubscription;
  cycleMs: number;
  creditLimit: number;
  /** Tick of the last notification sent (1…255 while credits are limited; 0 when unlimited). */
  creditTick: number;
  sequence: number;
  /** Encoded value (or error code) last sent per reference id; absent = never sent. */
  sent: Map<number, string>;
  timer: NodeJS.Timeout;
}

let nextSubscriptionId = 0x70100001;

export class SessionSubscriptions {
  private readonly running = new Map<number, Running>();

  constructor(private readonly host: SubscriptionHost) {}

  get count(): number {
    return this.running.size;
  }

  /** Creates a subscription: its object id, or a refusal code. */
  create(spec: ParsedSubscription): { id: number } | { code: number } {
    const { limits } = this.host;
    if (spec.items.length === 0 && spec.active) return { code: SubscriptionRefusal.InvalidArgument };
    if (limits.inUse.subscriptions + 1 > limits.subscriptionsMax || limits.inUse.items + spec.items.length > limits.itemsMax) {
      return { code: SubscriptionRefusal.SystemLimitExceeded };
    }
    const id = nextSubscriptionId++;
    if (nextSubscriptionId > 0x7fffffff) nextSubscriptionId = CURRENT_NOTIFICATION_ID + 0x100001;
    const cycleMs = Math.max(limits.minCycleMs, spec.cycleTimeMs);
    const sub: Running = {
      id,
      spec,
      cycleMs,
      creditLimit: spec.creditLimit,
      creditTick: 0,
      sequence: 0,
      sent: new Map(),
      timer: setInterval(() => this.cycle(sub), cycleMs),
    };
    sub.timer.unref();
    this.running.set(id, sub);
    limits.inUse.subscriptions++;
    limits.inUse.items += spec.items.length;
    // The first notification (all items) follows the answer in the next turn.
    setImmediate(() => this.cycle(sub));
    return { id };
  }

  has(id: number): boolean {
    return this.running.has(id);
  }

  /** Deletes one subscription; false when there is none with this id. */
  delete(id: number): boolean {
    const sub = this.running.get(id);
    if (sub === undefined) return false;
    clearInterval(sub.timer);
    this.running.delete(id);
    this.host.limits.inUse.subscriptions--;
    this.host.limits.inUse.items -= sub.spec.items.length;
    return true;
  }

  /** Sets the credit limit of a subscription (SetVariable 1053); false when there is none. */
  setCreditLimit(id: number, limit: number): boolean {
    const sub = this.running.get(id);
    if (sub === undefined) return false;
    sub.creditLimit = limit;
    return true;
  }

  /** Deletes every subscription (the container or the session went away, or a reset). */
  deleteAll(): number {
    const ids = [...this.running.keys()];
    for (const id of ids) this.delete(id);
    return ids.length;
  }

  /** A write on this session reset its subscriptions (the resetSubscriptionOnWrite control). */
  resetByWrite(): void {
    if (this.deleteAll() > 0) this.host.stats.subscriptionsReset++;
  }

  private cycle(sub: Running): void {
    if (!this.running.has(sub.id)) return;
    sub.sequence = (sub.sequence + 1) >>> 0;
    if (sub.creditLimit === 0) return;
    const limited = sub.creditLimit !== UNLIMITED_CREDITS;
    // Out of credits: nothing is sent (and nothing marked as sent) until the limit is raised.
    if (limited && sub.creditTick === sub.creditLimit) return;
    const entries: NotificationEntry[] = [];
    const changes = new Map<number, string>();
    for (const { referenceId, address } of sub.spec.items) {
      const v = this.host.read(address);
      const key = typeof v === "number" ? `e${v}` : encodePValue(v).toString("hex");
      if (sub.sent.get(referenceId) === key) continue;
      changes.set(referenceId, key);
      entries.push(typeof v === "number" ? { kind: "error", tag: 0x13, referenceId } : { kind: "value", referenceId, value: v });
    }
    if (entries.length === 0 && sub.spec.routeMode === ROUTE_MODE_CHANGES_ONLY) return;
    const creditTick = limited ? (sub.creditTick % 255) + 1 : 0;
    const pdu = encodeNotification({
      subscriptionId: sub.id,
      unknown1: 0x0400,
      unknown2: 0,
      unknown3: 0,
      creditTick,
      sequenceNumber: sub.sequence,
      timestamp: BigInt(Date.now()) * 1000n,
      changeCounter: sub.spec.changeCounter,
      entries,
      more: [],
    });
    if (!this.host.send(pdu)) return;
    sub.creditTick = creditTick;
    for (const [id, key] of changes) sub.sent.set(id, key);
    this.host.stats.notifications++;
  }
}
