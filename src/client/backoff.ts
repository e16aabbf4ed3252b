/**
 * Reconnect back-off: starts at `minMs`, doubles per failed attempt up to
 * `maxMs`, each delay spread by ±`jitter` so that many clients restarting
 * together do not hit a controller in lock-step. Never below `minMs`, never
 * above `maxMs`.
 */
import { ConfigError } from "../errors.js";
import { CONNECTION_DEFAULTS } from "./defaults.js";

export interface BackoffOptions {
  minMs?: number;
  maxMs?: number;
  factor?: number;
  /** Relative spread, 0..1 (default 0.2 = ±20 %). */
  jitter?: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  readonly minMs: number;
  readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? CONNECTION_DEFAULTS.reconnectMinMs;
    this.maxMs = options.maxMs ?? CONNECTION_DEFAULTS.reconnectMaxMs;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    if (!(this.minMs > 0) || !(this.maxMs >= this.minMs)) {
      throw new ConfigError(`reconnect back-off needs 0 < min <= max, got min ${this.minMs} ms, max ${this.maxMs} ms`);
    }
    if (!(this.factor >= 1) || !(this.jitter >= 0 && this.jitter <= 1)) {
      throw new ConfigError("reconnect back-off needs factor >= 1 and jitter in 0..1");
    }
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; counts one more failed attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * Math.pow(this.factor, this.attempt));
    this.attempt++;
    const spread = base * this.jitter * (2 * this.random() - 1);
    return Math.round(Math.min(this.maxMs, Math.max(this.minMs, base + spread)));
  }

  /** After a successful connection. */
  reset(): void {
    this.attempt = 0;
  }
}
